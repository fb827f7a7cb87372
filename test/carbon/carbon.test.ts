import { expect } from 'chai';

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  carbonIntensity,
  isKnownCountry,
  listCountries,
  worldAverageCarbonIntensity,
  WORLD_AVERAGE_CARBON_INTENSITY,
} from '../../lib/carbon/index.js';
import { buildTable, serializeTable } from '../../scripts/build-data.js';

// CodeCarbon's data files, shipped with the tests (test/fixtures/codecarbon, MIT licence).
const SOURCE = join(import.meta.dirname, '..', 'fixtures', 'codecarbon');


describe('carbonIntensity', () => {
  it('gives Germany 380.95 g/kWh for DEU, deu, DE and " de "', () => {
    for (const code of ['DEU', 'deu', 'DE', ' de ']) {
      expect(carbonIntensity(code), code).to.deep.equal({ isoCode: 'DEU', countryName: 'Germany', gramsPerKwh: 380.95, year: 2023 });
    }
  });

  it('resolves France, the USA and the UK by ISO-3 and ISO-2', () => {
    expect(carbonIntensity('FRA').gramsPerKwh).to.be.closeTo(56.04, 0.005);
    expect(carbonIntensity('fr').isoCode).to.equal('FRA');
    expect(carbonIntensity('USA').gramsPerKwh).to.be.closeTo(369.47, 0.005);
    expect(carbonIntensity('US').countryName).to.equal('United States');
    expect(carbonIntensity('GB').isoCode).to.equal('GBR');
    expect(carbonIntensity('IND').gramsPerKwh).to.be.closeTo(713.44, 0.005);
  });

  it('uses the official alpha-2 codes where they differ from the alpha-3 initials', () => {
    expect(carbonIntensity('CH').isoCode).to.equal('CHE');
    expect(carbonIntensity('AT').isoCode).to.equal('AUT');
    expect(carbonIntensity('AU').isoCode).to.equal('AUS');
    expect(carbonIntensity('KR').isoCode).to.equal('KOR');
    expect(carbonIntensity('KP').isoCode).to.equal('PRK');
  });

  it('throws a RangeError naming the input and how to find valid codes, with no world-average fallback', () => {
    for (const code of ['XYZ', 'UK', 'GERMANY', '', 'D']) {
      expect(() => carbonIntensity(code), code)
        .to.throw(RangeError)
        .with.property('message')
        .that.includes(JSON.stringify(code))
        .and.includes('--list-countries')
        .and.includes('ISO_3166-1_alpha-3');
      expect(isKnownCountry(code)).to.equal(false);
    }
  });

  it('throws a TypeError for a non-string', () => {
    expect(() => carbonIntensity(276 as unknown as string)).to.throw(TypeError, /countryIsoCode/);
  });

  it('returns a copy each time', () => {
    const first = carbonIntensity('DEU');
    first.gramsPerKwh = 0;
    expect(carbonIntensity('DEU').gramsPerKwh).to.equal(380.95);
  });
});

describe('listCountries', () => {
  it('lists every country once, sorted, with unique ISO-2 codes', () => {
    const countries = listCountries();
    expect(countries.length).to.be.greaterThan(200);
    const iso3 = countries.map((c) => c.isoCode);
    expect(iso3).to.deep.equal([...iso3].sort());
    expect(new Set(iso3).size).to.equal(countries.length);
    expect(new Set(countries.map((c) => c.iso2Code)).size).to.equal(countries.length);
    for (const c of countries) {
      expect(c.isoCode).to.match(/^[A-Z]{3}$/);
      expect(c.iso2Code).to.match(/^[A-Z]{2}$/);
      expect(c.gramsPerKwh).to.be.a('number').and.at.least(0);
      expect(carbonIntensity(c.iso2Code).isoCode).to.equal(c.isoCode);
    }
  });

  it('exposes the world average only explicitly', () => {
    expect(worldAverageCarbonIntensity()).to.equal(475);
    expect(WORLD_AVERAGE_CARBON_INTENSITY).to.equal(475);
  });
});

describe('scripts/build-data', function () {
  it('regenerates exactly the committed data/carbon-intensity.json from CodeCarbon data', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', '..', 'data', 'carbon-intensity.json'), 'utf8');
    expect(serializeTable(buildTable(SOURCE))).to.equal(committed);
  });

  it('ships the CodeCarbon MIT licence unchanged', () => {
    const shipped = readFileSync(join(import.meta.dirname, '..', '..', 'data', 'LICENSE-codecarbon'), 'utf8');
    expect(shipped).to.equal(readFileSync(join(SOURCE, 'LICENSE'), 'utf8'));
    expect(shipped).to.include('MIT License');
  });

  it('covers every country of the source table', () => {
    const source = JSON.parse(readFileSync(join(SOURCE, 'global_energy_mix.json'), 'utf8')) as Record<string, { carbon_intensity: number }>;
    expect(Object.keys(buildTable(SOURCE).countries)).to.have.members(Object.keys(source));
    // A 0 intensity is missing in CodeCarbon and derived from the mix (codecarbon-parity.test.ts checks those).
    for (const [iso3, entry] of Object.entries(source)) {
      if (entry.carbon_intensity !== 0) expect(carbonIntensity(iso3).gramsPerKwh).to.equal(entry.carbon_intensity);
    }
  });

  it('fails on a country without an ISO-2 code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'let-build-data-'));
    try {
      const fs = { mix: { ZZZ: { country_name: 'Nowhere', carbon_intensity: 1, year: 2023 } }, per: { unit: 'g', world_average: 475, world_average_source: 'x' } };
      writeFileSync(join(dir, 'global_energy_mix.json'), JSON.stringify(fs.mix));
      writeFileSync(join(dir, 'carbon_intensity_per_source.json'), JSON.stringify(fs.per));
      expect(() => buildTable(dir)).to.throw(/ZZZ.*ISO-2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
