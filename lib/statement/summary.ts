/**
 * What the paper statement needs from rows, kept as a small summary that can be brought up to
 * date one row at a time, merged, and saved as JSON: the statement over a million stored runs is
 * then computed from the summary instead of from the rows.
 *
 * `statementFromRecords(records)` is `statementFromSummary(summarise(records))`: one
 * implementation. The sums are kept twice:
 * - the plain running sum, in the order the rows were added (file order): the statement prints
 *   exactly what it printed before summaries existed, bit for bit;
 * - an exact sum ({@link ExactSum}), used once a summary has been merged with another
 *   (`ordered` false). Appending rows with {@link StatementSummary.add} keeps the summary
 *   ordered; combining independently built summaries cannot reproduce a left-to-right
 *   floating-point sum, so merged summaries report the correctly rounded sum instead. The two
 *   differ by at most a few units in the last place (the printed text only where the plain sum
 *   was already on the wrong side of a rounding boundary).
 *
 * Everything that depends on which row came first (the order of hardware configurations and of
 * writers in the methodology, the carbon intensity used when no energy was consumed) follows
 * the order of addition; {@link StatementSummary.merge} treats `other`'s rows as coming after
 * this summary's.
 */
import { isKnownCountry } from '../carbon/index.js';
import { measuredWall, type WallPlugFacts } from '../groundtruth/statement-part.js';
import { decodeNumber, encodeNumber, ExactSum } from './exact-sum.js';
import { describeHardware } from './hardware.js';
import { MethodologyCollector } from './methodology.js';
import type { StatementRecord } from './statement.js';

/** Version of {@link StatementSummaryJSON}; a summary saved with another version is rejected. */
export const STATEMENT_SUMMARY_VERSION = 1;

/** Where the statement takes its carbon intensity from when the runs consumed no energy. */
export type FallbackIntensity = { kind: 'intensity'; gramsPerKwh: number } | { kind: 'country'; isoCode: string };

/** A sum kept both in order of addition and exactly. */
interface Total {
  /** Left-to-right sum in order of addition (what the statement always printed). */
  plain: number;
  /** Null in a summary built without exact sums (see {@link SummaryOptions}). */
  exact: ExactSum | null;
}

/** Runs and energy of one hardware configuration. */
interface ConfigurationTotals {
  runs: number;
  energy: Total;
}

/** One hardware configuration as a summary reports it. */
export interface SummaryConfiguration {
  /** As it reads in the statement ("an Intel(R) Core(TM) i7-10610U CPU"). */
  hardware: string;
  runs: number;
  energyKwh: number;
}

/** The serialised form of a {@link StatementSummary} (numbers that may be infinite are strings). */
export interface StatementSummaryJSON {
  version: number;
  runs: number;
  ordered: boolean;
  energy: TotalJSON;
  emissions: TotalJSON;
  fallback: FallbackIntensity | null;
  /** Runs with a measured wall-plug figure: counts and sums (see `WallPlugFacts`). */
  wall: { measuredRuns: number; estimatedCpuRuns: number; measured: TotalJSON; uncertainty: TotalJSON; sensors: TotalJSON };
  configurations: { hardware: string; runs: number; energy: TotalJSON }[];
  methodology: ReturnType<MethodologyCollector['state']>;
}

/** A serialised {@link Total}. */
export interface TotalJSON {
  plain: number | string;
  exact: ReturnType<ExactSum['toJSON']> | null;
}

/** Options of a new {@link StatementSummary}. */
export interface SummaryOptions {
  /**
   * Keep exact sums beside the plain ones, so the summary can be merged (default true). Without
   * them adding a row costs about half as much; such a summary cannot be merged.
   */
  exactSums?: boolean;
}

function newTotal(exact: boolean): Total {
  return { plain: 0, exact: exact ? new ExactSum() : null };
}

function addTo(total: Total, value: number): void {
  total.plain += value;
  if (total.exact !== null) total.exact.add(value);
}

/** The value of a total: plain while the summary is ordered (a merged summary always has exact sums). */
function valueOf(total: Total, ordered: boolean): number {
  return ordered || total.exact === null ? total.plain : total.exact.value();
}

function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A mergeable, serialisable summary of rows for the paper statement. */
export class StatementSummary {
  private count = 0;
  private inOrder = true;
  private readonly exactSums: boolean;
  private readonly energy: Total;
  private readonly emissions: Total;
  private fallback: FallbackIntensity | null = null;
  private wallRuns = 0;
  private wallEstimatedCpuRuns = 0;
  private readonly wallMeasured: Total;
  private readonly wallUncertainty: Total;
  private readonly wallSensors: Total;
  private readonly configs = new Map<string, ConfigurationTotals>();
  private methodology = new MethodologyCollector();
  // (cpu_model, gpu_model, gpu_count) → configuration, and the last row's, so that rows repeating
  // their hardware touch no map and build no phrase.
  private readonly configCache = new Map<string, Map<string, Map<number | null, ConfigurationTotals>>>();
  private lastCpu: string | undefined;
  private lastGpuCount: number | null | undefined;
  private lastGpuModel: string | undefined;
  private lastConfig: ConfigurationTotals | undefined;

  constructor(options: SummaryOptions = {}) {
    this.exactSums = options.exactSums !== false;
    this.energy = newTotal(this.exactSums);
    this.emissions = newTotal(this.exactSums);
    this.wallMeasured = newTotal(this.exactSums);
    this.wallUncertainty = newTotal(this.exactSums);
    this.wallSensors = newTotal(this.exactSums);
  }

  /** Number of rows summarised. */
  get runs(): number {
    return this.count;
  }

  /** True while every row came through {@link add} in order: the sums are the plain left-to-right sums. */
  get ordered(): boolean {
    return this.inOrder;
  }

  /** Total energy, kWh: the plain sum while {@link ordered}, else the exact sum. */
  get energyKwh(): number {
    return valueOf(this.energy, this.inOrder);
  }

  /** Total recorded emissions, kg (rows without `emissions` count energy × their `carbon_intensity`). */
  get emissionsKg(): number {
    return valueOf(this.emissions, this.inOrder);
  }

  /** The first row's own carbon intensity or known country, for a statement over zero energy. */
  get fallbackIntensity(): FallbackIntensity | null {
    return this.fallback === null ? null : { ...this.fallback };
  }

  /** The hardware configurations in order of first appearance. */
  configurations(): SummaryConfiguration[] {
    return [...this.configs].map(([hardware, c]) => ({
      hardware,
      runs: c.runs,
      energyKwh: valueOf(c.energy, this.inOrder),
    }));
  }

  /** The facts of the statement's wall-plug part (without calibration, which needs the rows). */
  wallFacts(): WallPlugFacts {
    return {
      runs: this.count,
      measuredRuns: this.wallRuns,
      estimatedCpuRuns: this.wallEstimatedCpuRuns,
      measuredKwh: valueOf(this.wallMeasured, this.inOrder),
      uncertaintyKwh: valueOf(this.wallUncertainty, this.inOrder),
      sensorsKwh: valueOf(this.wallSensors, this.inOrder),
      calibratedRuns: 0,
      calibratedKwh: 0,
      calibrations: [],
    };
  }

  /** The methodology phrase for the rows seen. */
  describeMethodology(): string {
    return this.methodology.describe();
  }

  /** Adds one row (rows are expected in file order). */
  add(record: StatementRecord): this {
    this.methodology.add(record);
    let config: ConfigurationTotals | undefined;
    if (this.lastConfig !== undefined && record.cpu_model === this.lastCpu && record.gpu_count === this.lastGpuCount && record.gpu_model === this.lastGpuModel) {
      config = this.lastConfig;
    } else {
      config = this.configurationOf(record.cpu_model, record.gpu_count, record.gpu_model);
      this.lastCpu = record.cpu_model;
      this.lastGpuCount = record.gpu_count;
      this.lastGpuModel = record.gpu_model;
      this.lastConfig = config;
    }
    const consumed = record.energy_consumed;
    const energy =
      typeof consumed === 'number' && Number.isFinite(consumed)
        ? consumed
        : (finite(record.cpu_energy) ?? 0) + (finite(record.gpu_energy) ?? 0) + (finite(record.ram_energy) ?? 0);
    this.count += 1;
    addTo(this.energy, energy);
    config.runs += 1;
    addTo(config.energy, energy);
    const recorded = record.emissions;
    if (typeof recorded === 'number' && Number.isFinite(recorded)) addTo(this.emissions, recorded);
    else {
      const rowIntensity = finite(record.carbon_intensity);
      if (rowIntensity !== null) addTo(this.emissions, (energy * rowIntensity) / 1000);
    }
    const wall = measuredWall(record);
    if (wall !== null) {
      this.wallRuns += 1;
      if (wall.estimatedCpu) this.wallEstimatedCpuRuns += 1;
      addTo(this.wallMeasured, wall.wallKwh);
      addTo(this.wallUncertainty, wall.uncertaintyKwh);
      addTo(this.wallSensors, wall.sensorsKwh);
    }
    if (this.fallback === null) {
      const rowIntensity = finite(record.carbon_intensity);
      if (rowIntensity !== null) this.fallback = { kind: 'intensity', gramsPerKwh: rowIntensity };
      else if (record.country_iso_code.trim() !== '' && isKnownCountry(record.country_iso_code)) {
        this.fallback = { kind: 'country', isoCode: record.country_iso_code };
      }
    }
    return this;
  }

  private configurationOf(cpuModel: string, gpuCount: number | null, gpuModel: string): ConfigurationTotals {
    let byGpuModel = this.configCache.get(cpuModel);
    if (byGpuModel === undefined) this.configCache.set(cpuModel, (byGpuModel = new Map()));
    let byGpuCount = byGpuModel.get(gpuModel);
    if (byGpuCount === undefined) byGpuModel.set(gpuModel, (byGpuCount = new Map()));
    let config = byGpuCount.get(gpuCount);
    if (config === undefined) {
      config = this.configurationNamed(describeHardware(cpuModel, gpuCount, gpuModel) || 'unspecified hardware');
      byGpuCount.set(gpuCount, config);
    }
    return config;
  }

  private configurationNamed(hardware: string): ConfigurationTotals {
    let config = this.configs.get(hardware);
    if (config === undefined) {
      config = { runs: 0, energy: newTotal(this.exactSums) };
      this.configs.set(hardware, config);
    }
    return config;
  }

  /**
   * Adds `other`'s rows as if they came after this summary's. The sums become exact (see the
   * module comment), unless one side is empty; `other` is not changed.
   * @throws {TypeError} when either summary was built without exact sums.
   */
  merge(other: StatementSummary): this {
    if (!this.exactSums || !other.exactSums) throw new TypeError('StatementSummary.merge: both summaries need exact sums (built with exactSums: false)');
    if (other.count === 0 && other.fallback === null) return this;
    const wasEmpty = this.count === 0 && this.fallback === null;
    this.inOrder = wasEmpty && other.inOrder;
    this.count += other.count;
    mergeTotal(this.energy, other.energy, wasEmpty);
    mergeTotal(this.emissions, other.emissions, wasEmpty);
    if (this.fallback === null && other.fallback !== null) this.fallback = { ...other.fallback };
    this.wallRuns += other.wallRuns;
    this.wallEstimatedCpuRuns += other.wallEstimatedCpuRuns;
    mergeTotal(this.wallMeasured, other.wallMeasured, wasEmpty);
    mergeTotal(this.wallUncertainty, other.wallUncertainty, wasEmpty);
    mergeTotal(this.wallSensors, other.wallSensors, wasEmpty);
    for (const [hardware, c] of other.configs) {
      const mine = this.configurationNamed(hardware);
      const fresh = mine.runs === 0;
      mine.runs += c.runs;
      mergeTotal(mine.energy, c.energy, fresh);
    }
    this.methodology.merge(other.methodology);
    return this;
  }

  /** A copy that can be changed independently. */
  clone(): StatementSummary {
    return StatementSummary.fromJSON(this.toJSON());
  }

  /** The serialisable form (see {@link StatementSummaryJSON}). */
  toJSON(): StatementSummaryJSON {
    return {
      version: STATEMENT_SUMMARY_VERSION,
      runs: this.count,
      ordered: this.inOrder,
      energy: totalToJSON(this.energy),
      emissions: totalToJSON(this.emissions),
      fallback: this.fallback === null ? null : { ...this.fallback },
      wall: {
        measuredRuns: this.wallRuns,
        estimatedCpuRuns: this.wallEstimatedCpuRuns,
        measured: totalToJSON(this.wallMeasured),
        uncertainty: totalToJSON(this.wallUncertainty),
        sensors: totalToJSON(this.wallSensors),
      },
      configurations: [...this.configs].map(([hardware, c]) => ({ hardware, runs: c.runs, energy: totalToJSON(c.energy) })),
      methodology: this.methodology.state(),
    };
  }

  /**
   * Rebuilds a summary from {@link toJSON}'s output (e.g. parsed from a file).
   * @throws {TypeError} naming the field when `json` is not a valid summary of this version.
   */
  static fromJSON(json: unknown, what = 'statement summary'): StatementSummary {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TypeError(`${what} must be an object`);
    const j = json as Record<string, unknown>;
    if (j.version !== STATEMENT_SUMMARY_VERSION) {
      throw new TypeError(`${what}: version ${JSON.stringify(j.version)} is not supported (expected ${STATEMENT_SUMMARY_VERSION})`);
    }
    const exactSums = j.energy !== null && typeof j.energy === 'object' && (j.energy as Record<string, unknown>).exact !== null;
    const summary = new StatementSummary({ exactSums });
    summary.count = count(j.runs, `${what}.runs`);
    if (typeof j.ordered !== 'boolean') throw new TypeError(`${what}.ordered must be a boolean`);
    summary.inOrder = j.ordered;
    Object.assign(summary.energy, totalFromJSON(j.energy, `${what}.energy`, exactSums));
    Object.assign(summary.emissions, totalFromJSON(j.emissions, `${what}.emissions`, exactSums));
    summary.fallback = fallbackFromJSON(j.fallback, `${what}.fallback`);
    if (j.wall === null || typeof j.wall !== 'object') throw new TypeError(`${what}.wall must be an object`);
    const wall = j.wall as Record<string, unknown>;
    summary.wallRuns = count(wall.measuredRuns, `${what}.wall.measuredRuns`);
    summary.wallEstimatedCpuRuns = count(wall.estimatedCpuRuns, `${what}.wall.estimatedCpuRuns`);
    if (summary.wallRuns > summary.count || summary.wallEstimatedCpuRuns > summary.wallRuns) {
      throw new TypeError(`${what}.wall: ${summary.wallEstimatedCpuRuns} of ${summary.wallRuns} measured runs estimated, of ${summary.count} runs: impossible`);
    }
    Object.assign(summary.wallMeasured, totalFromJSON(wall.measured, `${what}.wall.measured`, exactSums));
    Object.assign(summary.wallUncertainty, totalFromJSON(wall.uncertainty, `${what}.wall.uncertainty`, exactSums));
    Object.assign(summary.wallSensors, totalFromJSON(wall.sensors, `${what}.wall.sensors`, exactSums));
    if (!Array.isArray(j.configurations)) throw new TypeError(`${what}.configurations must be an array`);
    let configRuns = 0;
    j.configurations.forEach((c: unknown, i) => {
      const where = `${what}.configurations[${i}]`;
      if (c === null || typeof c !== 'object') throw new TypeError(`${where} must be an object`);
      const { hardware, runs, energy } = c as Record<string, unknown>;
      if (typeof hardware !== 'string' || hardware === '') throw new TypeError(`${where}.hardware must be a non-empty string`);
      if (summary.configs.has(hardware)) throw new TypeError(`${where}.hardware ${JSON.stringify(hardware)} appears twice`);
      const config = { runs: count(runs, `${where}.runs`), energy: totalFromJSON(energy, `${where}.energy`, exactSums) };
      configRuns += config.runs;
      summary.configs.set(hardware, config);
    });
    if (configRuns !== summary.count) throw new TypeError(`${what}: the configurations hold ${configRuns} runs, but runs is ${summary.count}`);
    summary.methodology = MethodologyCollector.fromState(j.methodology, `${what}.methodology`);
    return summary;
  }
}

function mergeTotal(into: Total, from: Total, intoIsEmpty: boolean): void {
  into.plain = intoIsEmpty ? from.plain : into.plain + from.plain;
  into.exact!.addSum(from.exact!);
}

function totalToJSON(total: Total): TotalJSON {
  return { plain: encodeNumber(total.plain), exact: total.exact === null ? null : total.exact.toJSON() };
}

function totalFromJSON(json: unknown, what: string, exact: boolean): Total {
  if (json === null || typeof json !== 'object') throw new TypeError(`${what} must be an object`);
  const j = json as Record<string, unknown>;
  if (!exact && j.exact !== null) throw new TypeError(`${what}.exact must be null, as the summary's energy.exact is`);
  return { plain: decodeNumber(j.plain, `${what}.plain`), exact: exact ? ExactSum.fromJSON(j.exact, `${what}.exact`) : null };
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError(`${what} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  return value;
}

function fallbackFromJSON(json: unknown, what: string): FallbackIntensity | null {
  if (json === null) return null;
  if (typeof json !== 'object') throw new TypeError(`${what} must be null or an object`);
  const j = json as Record<string, unknown>;
  if (j.kind === 'intensity' && typeof j.gramsPerKwh === 'number' && Number.isFinite(j.gramsPerKwh)) return { kind: 'intensity', gramsPerKwh: j.gramsPerKwh };
  if (j.kind === 'country' && typeof j.isoCode === 'string' && isKnownCountry(j.isoCode)) return { kind: 'country', isoCode: j.isoCode };
  throw new TypeError(`${what} must be {kind:"intensity",gramsPerKwh:<finite number>} or {kind:"country",isoCode:<known code>}, got ${JSON.stringify(json)}`);
}

/** The summary of `records`, added in order. */
export function summarise(records: Iterable<StatementRecord>, options: SummaryOptions = {}): StatementSummary {
  const summary = new StatementSummary(options);
  for (const record of records) summary.add(record);
  return summary;
}
