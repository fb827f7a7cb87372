/**
 * Carbon intensity of electricity by country, from CodeCarbon's `global_energy_mix.json`
 * (MIT licence, shipped as `data/LICENSE-codecarbon`). Regenerate the table with
 * `node --import tsx scripts/build-data.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';

/** The carbon intensity of one country's electricity. */
export interface CountryCarbonIntensity {
  /** ISO 3166-1 alpha-3 code, upper case (e.g. `DEU`). */
  isoCode: string;
  /** Country name as CodeCarbon spells it (e.g. `Germany`). */
  countryName: string;
  /** Grams of CO2-equivalents per kWh of electricity. */
  gramsPerKwh: number;
  /** Year of the underlying generation mix, or `null` when unknown. */
  year: number | null;
}

/** A country as listed by {@link listCountries}: its intensity plus its ISO 3166-1 alpha-2 code. */
export interface CountryListing extends CountryCarbonIntensity {
  /** ISO 3166-1 alpha-2 code, upper case (e.g. `DE`). */
  iso2Code: string;
}

type CountryRow = [iso2: string, countryName: string, gramsPerKwh: number, year: number | null];

interface CarbonIntensityTable {
  worldAverage: { gramsPerKwh: number; source: string };
  countries: Record<string, CountryRow>;
}

/** Where valid codes can be looked up; used in error messages. */
export const COUNTRY_CODE_HELP =
  'run `lamarr-energy-tracker statement --list-countries` for the supported codes, or see https://en.wikipedia.org/wiki/ISO_3166-1_alpha-3';

let cache: { byIso3: Map<string, CountryListing>; byIso2: Map<string, CountryListing>; worldAverage: number } | undefined;

function table(): NonNullable<typeof cache> {
  if (cache !== undefined) return cache;
  const raw = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'data', 'carbon-intensity.json'), 'utf8')) as CarbonIntensityTable;
  const byIso3 = new Map<string, CountryListing>();
  const byIso2 = new Map<string, CountryListing>();
  for (const [isoCode, [iso2Code, countryName, gramsPerKwh, year]] of Object.entries(raw.countries)) {
    const entry: CountryListing = Object.freeze({ isoCode, iso2Code, countryName, gramsPerKwh, year });
    byIso3.set(isoCode, entry);
    byIso2.set(iso2Code, entry);
  }
  cache = { byIso3, byIso2, worldAverage: raw.worldAverage.gramsPerKwh };
  return cache;
}

/**
 * The carbon intensity for a country given by its ISO 3166-1 alpha-3 code (case-insensitive,
 * surrounding spaces ignored), or by its alpha-2 code.
 *
 * @example carbonIntensity('DEU') // { isoCode: 'DEU', countryName: 'Germany', gramsPerKwh: 380.95, year: 2023 }
 * @throws {TypeError} when the code is not a string.
 * @throws {RangeError} when the code is not in the table; there is no silent fallback to the
 *   world average (see {@link WORLD_AVERAGE_CARBON_INTENSITY} to use it deliberately).
 */
export function carbonIntensity(countryIsoCode: string): CountryCarbonIntensity {
  if (typeof countryIsoCode !== 'string') {
    throw new TypeError(`countryIsoCode must be a string such as "DEU", got ${typeof countryIsoCode}`);
  }
  const code = countryIsoCode.trim().toUpperCase();
  const { byIso3, byIso2 } = table();
  const entry = code.length === 3 ? byIso3.get(code) : code.length === 2 ? byIso2.get(code) : undefined;
  if (entry === undefined) {
    throw new RangeError(
      `Unknown country code ${JSON.stringify(countryIsoCode)}: expected an ISO 3166-1 alpha-3 code such as "DEU" ` +
        `(or an alpha-2 code such as "DE") of a country in CodeCarbon's table; ${COUNTRY_CODE_HELP}.`,
    );
  }
  return { isoCode: entry.isoCode, countryName: entry.countryName, gramsPerKwh: entry.gramsPerKwh, year: entry.year };
}

/** Whether {@link carbonIntensity} resolves the code. */
export function isKnownCountry(countryIsoCode: string): boolean {
  if (typeof countryIsoCode !== 'string') return false;
  const code = countryIsoCode.trim().toUpperCase();
  const { byIso3, byIso2 } = table();
  return byIso3.has(code) || byIso2.has(code);
}

/** Every country in the table, sorted by ISO-3 code. */
export function listCountries(): CountryListing[] {
  return [...table().byIso3.values()].sort((a, b) => (a.isoCode < b.isoCode ? -1 : a.isoCode > b.isoCode ? 1 : 0)).map((e) => ({ ...e }));
}

/**
 * CodeCarbon's world average (gCO2eq/kWh, from `carbon_intensity_per_source.json`), for callers
 * that choose it explicitly; {@link carbonIntensity} never falls back to it.
 */
export function worldAverageCarbonIntensity(): number {
  return table().worldAverage;
}

/** CodeCarbon's world average carbon intensity in gCO2eq/kWh (475). */
// Pure: a bundle that does not use it does not read the table on import.
export const WORLD_AVERAGE_CARBON_INTENSITY: number = /* @__PURE__ */ worldAverageCarbonIntensity();
