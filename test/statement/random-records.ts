/**
 * Random rows for the summary's property tests: several writers, versions, methods,
 * hardware configurations (with GPUs and CodeCarbon spellings), empty and null fields, values
 * on rounding boundaries, projects/users/hosts that differ only in padding.
 */
import type { AggregateRecord, PaperStatement } from '../../lib/statement/index.js';
import { mulberry32 } from '../helpers/random.js';

/** A small deterministic PRNG (mulberry32), so a failing seed reproduces. */
export const rng = mulberry32;

/** The seed of this run: `SUMMARY_SEED` when set (to replay a failure), else the clock. */
export function runSeed(): number {
  const raw = process.env.SUMMARY_SEED;
  if (raw === undefined || raw === '') return Date.now() % 2 ** 31;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`SUMMARY_SEED must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return seed;
}

const HARDWARE: [string, number | null, string][] = [
  ['Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 0, ''],
  ['Intel(R) Core(TM)  i7-10610U CPU @ 2.30GHz', 0, ''],
  ['AMD EPYC 7742 64-Core Processor', 4, '4 x NVIDIA A100-SXM4-40GB'],
  ['Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 2, "['NVIDIA H200', 'NVIDIA H200']"],
  ['Apple M1', 1, 'Apple M1'],
  ['', null, ''],
  ['unknown', 2, 'nan'],
  ['AMD Ryzen 9 7950X', 1, 'NVIDIA T4'],
];
const PROJECTS = ['alpha', ' alpha ', 'beta', '', 'gamma'];
const USERS = ['ann', 'bob', ' bob', ''];
const HOSTS = ['h1', 'h2', 'h2 '];
const TRACKER_VERSIONS = ['0.1.0', '0.2.0', ' 0.10.0 ', ''];
const CODECARBON_VERSIONS = ['3.2.3', '2.8.0', '', ' 3.0.8'];
const CPU_METHODS = ['measured:powercap', 'measured:msr+powercap', 'estimated:tdp-load-model', 'estimated:tdp-process-share', 'measured:rapl', ''];
const GPU_METHODS = ['none:no-gpu', 'measured:nvml-energy', 'measured:nvml-power', 'none:nvml-unavailable', ''];
const RAM_METHODS = ['estimated:dimm-model', 'estimated:dimm-model-rss-share', 'measured:powercap', ''];
const COUNTRIES = ['DEU', 'USA', '', 'XXX', ' FRA '];
/** Energies on the statement's boundaries: 0.1 kWh (Wh/kWh), half-way at three decimals, zero. */
const BOUNDARY_KWH = [0.1, 0.1000005, 0.0000625, 0.0005, 1.0005, 0.3125, 0, 2.5e-7, 0.0625];

/** Options of {@link randomRecords}. */
export interface RandomRecordsOptions {
  /**
   * Energies and emissions as multiples of 2^-20 kWh/kg (so every sum is exact and plain and
   * exact summation agree), instead of arbitrary doubles.
   */
  dyadic?: boolean;
  /** Every row consumed no energy (the statement falls back to a row's intensity or country). */
  zeroEnergy?: boolean;
}

/** `n` random rows. */
export function randomRecords(random: () => number, n: number, options: RandomRecordsOptions = {}): AggregateRecord[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  // A few of each per set, so that groups repeat and interleave.
  const hardware = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(HARDWARE));
  const energyOf = (): number => {
    if (options.zeroEnergy) return 0;
    if (options.dyadic) return Math.floor(random() * 2 ** 20) / 2 ** 20;
    const r = random();
    if (r < 0.15) return pick(BOUNDARY_KWH);
    return random() * 10 ** (-7 + Math.floor(random() * 8));
  };
  const out: AggregateRecord[] = [];
  for (let i = 0; i < n; i++) {
    const [cpu, gpuCount, gpuModel] = pick(hardware);
    const writer = random();
    const ours = writer < 0.6;
    const energy = energyOf();
    const shape = random();
    let energyConsumed: number | null = energy;
    let cpuEnergy: number | null = energy / 2;
    let gpuEnergy: number | null = energy / 4;
    let ramEnergy: number | null = energy / 4;
    if (shape < 0.1) energyConsumed = null; // components count instead
    else if (shape < 0.15) [energyConsumed, cpuEnergy, gpuEnergy, ramEnergy] = [null, null, energy, null];
    else if (shape < 0.18) [energyConsumed, cpuEnergy, gpuEnergy, ramEnergy] = [Number.NaN, null, null, null];
    const intensityShape = random();
    const carbonIntensity = options.dyadic ? pick([null, 0, 1000]) : intensityShape < 0.5 ? 380.95 : intensityShape < 0.7 ? pick([0, 56.3, 412]) : null;
    let emissions: number | null;
    if (random() < 0.2) emissions = null;
    else if (options.dyadic) emissions = Math.floor(random() * 2 ** 20) / 2 ** 20;
    else emissions = (energy * (carbonIntensity ?? 380.95)) / 1000;
    // Wall plug: none, measured (precise, imprecise, below resolution), or none:…; PUE 1, 1.2 or 2.
    const wallShape = random();
    const wallEnergy = options.dyadic ? Math.floor(random() * 2 ** 20) / 2 ** 20 : energy * (1 + random() * 0.5) + (random() < 0.1 ? 1e-7 : 0);
    const wall =
      wallShape < 0.5
        ? { wall_energy: null, wall_energy_method: '', wall_energy_uncertainty: null }
        : wallShape < 0.85
          ? { wall_energy: wallEnergy, wall_energy_method: pick(['measured:tasmota', 'measured:shelly-gen2']), wall_energy_uncertainty: pick([0, wallEnergy / 64, wallEnergy / 4, null]) }
          : { wall_energy: pick([null, wallEnergy]), wall_energy_method: 'none:no-plug', wall_energy_uncertainty: null };
    out.push({
      ...wall,
      pue: options.dyadic ? pick([1, 2, null]) : pick([1, 1.2, null]),
      project_name: pick(PROJECTS),
      user: pick(USERS),
      hostname: pick(HOSTS),
      energy_consumed: energyConsumed,
      emissions,
      cpu_energy: cpuEnergy,
      gpu_energy: gpuEnergy,
      ram_energy: ramEnergy,
      cpu_model: cpu,
      gpu_count: gpuCount,
      gpu_model: gpuModel,
      codecarbon_version: ours ? '' : pick(CODECARBON_VERSIONS),
      tracker_version: ours ? pick(TRACKER_VERSIONS) : '',
      cpu_energy_method: ours ? (pick(CPU_METHODS) as AggregateRecord['cpu_energy_method']) : '',
      gpu_energy_method: ours ? (pick(GPU_METHODS) as AggregateRecord['gpu_energy_method']) : '',
      ram_energy_method: ours ? (pick(RAM_METHODS) as AggregateRecord['ram_energy_method']) : '',
      carbon_intensity: carbonIntensity,
      country_iso_code: pick(COUNTRIES),
      ...(writer < 0.5 ? { written_by: 'lamarr-energy-tracker' as const } : writer < 0.6 ? {} : writer < 0.8 ? { written_by: 'codecarbon' as const } : { written_by: 'lamarr-energy-tracker-python' as const }),
    });
  }
  return out;
}

/** The statement, or the message of the RangeError it throws (zero energy, no intensity): two ways of making it must agree on either. */
export function attempt(make: () => PaperStatement): PaperStatement | string {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return `RangeError: ${error.message}`;
  }
}
