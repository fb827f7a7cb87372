/**
 * Regenerates `data/carbon-intensity.json` and `data/LICENSE-codecarbon` from CodeCarbon's data
 * files (MIT licence), by default `../shared/data/codecarbon/` beside the repository.
 *
 *   node --import tsx scripts/build-data.ts [sourceDir]
 *
 * The package ships `data/`, so the generated files are committed. The ISO 3166-1 alpha-2 codes
 * below cover every country of CodeCarbon's table; the script fails if one is missing.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** ISO 3166-1 alpha-3 → alpha-2 for the countries and territories in CodeCarbon's table. */
export const ISO3_TO_ISO2: Readonly<Record<string, string>> = {
  ABW: 'AW', AFG: 'AF', AGO: 'AO', ALB: 'AL', ARE: 'AE', ARG: 'AR', ARM: 'AM', ASM: 'AS',
  ATG: 'AG', AUS: 'AU', AUT: 'AT', AZE: 'AZ', BDI: 'BI', BEL: 'BE', BEN: 'BJ', BFA: 'BF',
  BGD: 'BD', BGR: 'BG', BHR: 'BH', BHS: 'BS', BIH: 'BA', BLR: 'BY', BLZ: 'BZ', BMU: 'BM',
  BOL: 'BO', BRA: 'BR', BRB: 'BB', BRN: 'BN', BTN: 'BT', BWA: 'BW', CAF: 'CF', CAN: 'CA',
  CHE: 'CH', CHL: 'CL', CHN: 'CN', CIV: 'CI', CMR: 'CM', COD: 'CD', COG: 'CG', COK: 'CK',
  COL: 'CO', COM: 'KM', CPV: 'CV', CRI: 'CR', CUB: 'CU', CYM: 'KY', CYP: 'CY', CZE: 'CZ',
  DEU: 'DE', DJI: 'DJ', DMA: 'DM', DNK: 'DK', DOM: 'DO', DZA: 'DZ', ECU: 'EC', EGY: 'EG',
  ERI: 'ER', ESH: 'EH', ESP: 'ES', EST: 'EE', ETH: 'ET', FIN: 'FI', FJI: 'FJ', FLK: 'FK',
  FRA: 'FR', FRO: 'FO', GAB: 'GA', GBR: 'GB', GEO: 'GE', GHA: 'GH', GIB: 'GI', GIN: 'GN',
  GLP: 'GP', GMB: 'GM', GNB: 'GW', GNQ: 'GQ', GRC: 'GR', GRD: 'GD', GRL: 'GL', GTM: 'GT',
  GUF: 'GF', GUM: 'GU', GUY: 'GY', HKG: 'HK', HND: 'HN', HRV: 'HR', HTI: 'HT', HUN: 'HU',
  IDN: 'ID', IND: 'IN', IRL: 'IE', IRN: 'IR', IRQ: 'IQ', ISL: 'IS', ISR: 'IL', ITA: 'IT',
  JAM: 'JM', JOR: 'JO', JPN: 'JP', KAZ: 'KZ', KEN: 'KE', KGZ: 'KG', KHM: 'KH', KIR: 'KI',
  KNA: 'KN', KOR: 'KR', KWT: 'KW', LAO: 'LA', LBN: 'LB', LBR: 'LR', LBY: 'LY', LCA: 'LC',
  LKA: 'LK', LSO: 'LS', LTU: 'LT', LUX: 'LU', LVA: 'LV', MAC: 'MO', MAR: 'MA', MDA: 'MD',
  MDG: 'MG', MDV: 'MV', MEX: 'MX', MKD: 'MK', MLI: 'ML', MLT: 'MT', MMR: 'MM', MNE: 'ME',
  MNG: 'MN', MOZ: 'MZ', MRT: 'MR', MSR: 'MS', MTQ: 'MQ', MUS: 'MU', MWI: 'MW', MYS: 'MY',
  NAM: 'NA', NCL: 'NC', NER: 'NE', NGA: 'NG', NIC: 'NI', NLD: 'NL', NOR: 'NO', NPL: 'NP',
  NRU: 'NR', NZL: 'NZ', OMN: 'OM', PAK: 'PK', PAN: 'PA', PER: 'PE', PHL: 'PH', PNG: 'PG',
  POL: 'PL', PRI: 'PR', PRK: 'KP', PRT: 'PT', PRY: 'PY', PSE: 'PS', PYF: 'PF', QAT: 'QA',
  REU: 'RE', ROU: 'RO', RUS: 'RU', RWA: 'RW', SAU: 'SA', SDN: 'SD', SEN: 'SN', SGP: 'SG',
  SHN: 'SH', SLB: 'SB', SLE: 'SL', SLV: 'SV', SOM: 'SO', SPM: 'PM', SRB: 'RS', SSD: 'SS',
  STP: 'ST', SUR: 'SR', SVK: 'SK', SVN: 'SI', SWE: 'SE', SWZ: 'SZ', SYC: 'SC', SYR: 'SY',
  TCA: 'TC', TCD: 'TD', TGO: 'TG', THA: 'TH', TJK: 'TJ', TKM: 'TM', TLS: 'TL', TON: 'TO',
  TTO: 'TT', TUN: 'TN', TUR: 'TR', TWN: 'TW', TZA: 'TZ', UGA: 'UG', UKR: 'UA', URY: 'UY',
  USA: 'US', UZB: 'UZ', VCT: 'VC', VEN: 'VE', VGB: 'VG', VIR: 'VI', VNM: 'VN', VUT: 'VU',
  WSM: 'WS', YEM: 'YE', ZAF: 'ZA', ZMB: 'ZM', ZWE: 'ZW',
};

interface EnergyMixEntry {
  country_name: string;
  carbon_intensity: number;
  iso_code?: string;
  year?: number;
}

interface PerSource {
  unit: string;
  world_average: number;
  world_average_source: string;
  [source: string]: number | string;
}

/**
 * A country's intensity as CodeCarbon 3.2.3 computes it (`Emissions._global_energy_mix_to_emissions_rate`):
 * its `carbon_intensity` when that is truthy (a 0 counts as missing), else the mix: for each
 * `<source>_TWh` key in the file's order whose source has a truthy per-source intensity, add
 * (TWh ÷ total_TWh) × intensity, and sum those TWh; when that sum is not exactly `total_TWh`
 * (sources without an intensity), CodeCarbon uses the world average instead.
 */
export function codecarbonIntensity(entry: Record<string, unknown>, perSource: PerSource): number {
  const given = entry.carbon_intensity;
  if (typeof given === 'number' && given !== 0 && !Number.isNaN(given)) return given;
  const total = entry.total_TWh as number;
  let intensity = 0;
  let counted = 0;
  for (const [key, twh] of Object.entries(entry)) {
    if (!key.includes('_TWh')) continue;
    const perKwh = perSource[key.slice(0, -'_TWh'.length)];
    if (typeof perKwh === 'number' && perKwh !== 0) {
      intensity += ((twh as number) / total) * perKwh;
      counted += twh as number;
    }
  }
  return counted === total ? intensity : perSource.world_average;
}

/** One country of the generated table: `[iso2, countryName, gramsPerKwh, year]`. */
export type CountryRow = [iso2: string, countryName: string, gramsPerKwh: number, year: number | null];

/** The generated file's shape. */
export interface CarbonIntensityTable {
  source: string;
  license: string;
  unit: 'gCO2eq/kWh';
  worldAverage: { gramsPerKwh: number; source: string };
  columns: ['iso2', 'countryName', 'gramsPerKwh', 'year'];
  countries: Record<string, CountryRow>;
}

/** Builds the table from CodeCarbon's two JSON files. */
export function buildTable(sourceDir: string): CarbonIntensityTable {
  const mix = JSON.parse(readFileSync(join(sourceDir, 'global_energy_mix.json'), 'utf8')) as Record<string, EnergyMixEntry>;
  const perSource = JSON.parse(readFileSync(join(sourceDir, 'carbon_intensity_per_source.json'), 'utf8')) as PerSource;
  const countries: Record<string, CountryRow> = {};
  const seenIso2 = new Set<string>();
  for (const iso3 of Object.keys(mix).sort()) {
    const entry = mix[iso3]!;
    if (!/^[A-Z]{3}$/.test(iso3)) throw new Error(`unexpected key ${JSON.stringify(iso3)} in global_energy_mix.json`);
    const intensity = codecarbonIntensity(entry as unknown as Record<string, unknown>, perSource);
    if (!Number.isFinite(intensity)) throw new Error(`${iso3}: no finite carbon intensity`);
    const iso2 = ISO3_TO_ISO2[iso3];
    if (iso2 === undefined) throw new Error(`${iso3} (${entry.country_name}) has no ISO-2 code in ISO3_TO_ISO2`);
    if (seenIso2.has(iso2)) throw new Error(`ISO-2 code ${iso2} is used twice`);
    seenIso2.add(iso2);
    countries[iso3] = [iso2, entry.country_name, intensity, typeof entry.year === 'number' ? entry.year : null];
  }
  return {
    source: 'CodeCarbon data/private_infra/global_energy_mix.json and carbon_intensity_per_source.json (MIT, see LICENSE-codecarbon)',
    license: 'MIT',
    unit: 'gCO2eq/kWh',
    worldAverage: { gramsPerKwh: perSource.world_average, source: perSource.world_average_source },
    columns: ['iso2', 'countryName', 'gramsPerKwh', 'year'],
    countries,
  };
}

/** Serialises the table with one country per line (compact and diff-friendly). */
export function serializeTable(table: CarbonIntensityTable): string {
  const { countries, ...head } = table;
  const headJson = JSON.stringify(head, null, 2);
  const lines = Object.entries(countries).map(([iso3, row]) => `    ${JSON.stringify(iso3)}: ${JSON.stringify(row)}`);
  return `${headJson.slice(0, -2)},\n  "countries": {\n${lines.join(',\n')}\n  }\n}\n`;
}

function main(): void {
  const sourceDir = resolve(process.argv[2] ?? join(repoRoot, '..', 'shared', 'data', 'codecarbon'));
  const outDir = join(repoRoot, 'data');
  mkdirSync(outDir, { recursive: true });
  const table = buildTable(sourceDir);
  writeFileSync(join(outDir, 'carbon-intensity.json'), serializeTable(table));
  copyFileSync(join(sourceDir, 'LICENSE'), join(outDir, 'LICENSE-codecarbon'));
  process.stdout.write(`wrote ${Object.keys(table.countries).length} countries to data/carbon-intensity.json\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
