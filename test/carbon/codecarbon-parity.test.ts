/**
 * Every country's carbon intensity exactly as CodeCarbon 3.2.3 computes it
 * (test/fixtures/codecarbon-intensities: computed in Python by generate.py, MIT data).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { carbonIntensity, listCountries } from '../../lib/carbon/index.js';

const expected = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'codecarbon-intensities', 'intensities.json'), 'utf8'),
) as Record<string, number>;

describe("carbon intensities: parity with CodeCarbon 3.2.3 for all its countries", () => {
  it('has exactly CodeCarbon\'s 213 countries', () => {
    expect(Object.keys(expected)).to.have.length(213);
    expect(listCountries().map((c) => c.isoCode)).to.deep.equal(Object.keys(expected).sort());
  });

  it('gives every country the intensity CodeCarbon computes, to the last bit', () => {
    const wrong = Object.entries(expected)
      .filter(([iso, grams]) => carbonIntensity(iso).gramsPerKwh !== grams)
      .map(([iso, grams]) => `${iso}: CodeCarbon ${grams}, ours ${carbonIntensity(iso).gramsPerKwh}`);
    expect(wrong).to.deep.equal([]);
  });

  it('treats a 0 intensity as missing and derives it from the energy mix (Central African Republic: 26.0, all hydro)', () => {
    expect(carbonIntensity('CAF').gramsPerKwh).to.equal(26);
    expect(listCountries().filter((c) => c.gramsPerKwh === 0)).to.deep.equal([]);
  });
});
