/**
 * Options of an EnergyTracker, their defaults and their validation.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lockEnvironment } from '../store/lock.js';
import { resolveGroundTruth, type GroundTruthConfig, type GroundTruthOptions } from '../groundtruth/config.js';

import { SAMPLING_INTERVAL_MS, checkSamplingIntervalMs } from '../native/sampler-options.js';

/** How CPU energy is charged to the run. */
export type TrackingMode = 'machine' | 'process';

/** Options accepted by `new EnergyTracker(options)`. Every field is optional. */
export interface EnergyTrackerOptions {
  /** Project the runs belong to. Default `"default"`. */
  projectName?: string;
  /** Directory of the central `emissions.csv`. Default `~/.let` (or `LET_OUTPUT_DIR`). */
  outputDir?: string;
  /** ISO 3166-1 alpha-3 (or unambiguous alpha-2) code of the country whose grid powers the machine. Default `"DEU"`. */
  countryIsoCode?: string;
  /** Carbon intensity in gCO2eq/kWh; overrides the country's. */
  carbonIntensity?: number;
  /** Power usage effectiveness of the data centre (≥ 1). Default 1. */
  pue?: number;
  /** Sampling interval of the native thread, 1–60000 ms. Default 1000. Start and stop are exact whatever the interval. */
  samplingIntervalMs?: number;
  /** GPUs to measure, by NVML index or UUID (prefix). Default: the entries of `CUDA_VISIBLE_DEVICES`, else all. */
  gpuIds?: string[];
  /** Append the run to `emissions.csv` at `stop()`. Default true. */
  save?: boolean;
  /** Print the run's energy and the paper statement at `stop()`. Default true. */
  printSummary?: boolean;
  /** `'machine'` (default): the whole machine's energy. `'process'`: this process's share of CPU time in each interval. */
  trackingMode?: TrackingMode;
  /** Process whose CPU-time share is charged in process mode. Default: this process. */
  attributionPid?: number;
  /** In process mode, also charge the attribution process's descendants. Default false (true for `run`). */
  includeDescendants?: boolean;
  /** Root under which `/sys`, `/proc` and `/dev` are read (simulated hardware). Default `LET_HARDWARE_ROOT` or `/`. */
  hardwareRoot?: string;
  /** Path of `libnvidia-ml.so.1`. Default `LET_NVML_LIBRARY` or the system's; `''` disables NVML. */
  nvmlLibrary?: string;
  /** Show a live line (elapsed, power, energy) on a terminal while running. Default false. */
  live?: boolean;
  /**
   * How often a running tracker saves its progress to `<outputDir>/inflight/<run_id>.json`, so
   * that a run killed without stopping (SIGKILL, OOM, power loss) is stored as `killed` with
   * the energy up to its last checkpoint. 100 ms – 24 h; default 60,000 (only with `save`).
   */
  checkpointIntervalMs?: number;
  /**
   * Store the run as `interrupted` on SIGINT, SIGTERM and SIGHUP, then let the signal take its
   * course. Default true; set false when your own shutdown code stops the tracker.
   */
  handleSignals?: boolean;
  /**
   * Wall-plug ground truth: a plug read directly (`{ tasmota: 'http://10.0.0.5' }`,
   * `{ shellyGen2: … }`, `{ shellyGen1: … }`) or a ground-truth server (`{ server: 'host:port' }`,
   * or `{ server: true }` for `LET_GT_HOST`/`LET_GT_PORT`/`~/.let/GT_REMOTE_CONFIG`). Default: none.
   */
  groundTruth?: GroundTruthOptions;

  /** Store the run's power timeline in `<outputDir>/timelines/<run_id>.json` (with `save`). Default true. */
  timeline?: boolean;
}

/** Options with defaults applied. */
export interface ResolvedTrackerOptions {
  projectName: string;
  outputDir: string;
  countryIsoCode: string;
  carbonIntensity: number | null;
  pue: number;
  samplingIntervalMs: number;
  gpuIds: string[] | null;
  save: boolean;
  printSummary: boolean;
  trackingMode: TrackingMode;
  attributionPid: number | null;
  includeDescendants: boolean;
  hardwareRoot: string | null;
  nvmlLibrary: string | null;
  live: boolean;
  checkpointIntervalMs: number;
  handleSignals: boolean;
  groundTruth: GroundTruthConfig | null;

  timeline: boolean;
}

/**
 * Largest accepted PUE. Data centres report 1.1–2, the worst surveyed about 3; 10 leaves room
 * for any real building and refuses typos such as 1e308 or 150 (a percentage).
 */
export const MAX_PUE = 10;

/**
 * Largest accepted carbon intensity, gCO2eq/kWh. The dirtiest generation (lignite, oil shale)
 * emits about 1,100–1,300 g/kWh over its life cycle; no grid can average more.
 */
export const MAX_CARBON_INTENSITY = 2000;

const KNOWN_OPTIONS = new Set<string>([
  'projectName',
  'outputDir',
  'countryIsoCode',
  'carbonIntensity',
  'pue',
  'samplingIntervalMs',
  'gpuIds',
  'save',
  'printSummary',
  'trackingMode',
  'attributionPid',
  'includeDescendants',
  'hardwareRoot',
  'nvmlLibrary',
  'live',
  'checkpointIntervalMs',
  'handleSignals',
  'groundTruth',

  'timeline',
]);

/** The default store directory: `LET_OUTPUT_DIR`, else `~/.let`. */
export function defaultOutputDirectory(): string {
  const fromEnv = process.env.LET_OUTPUT_DIR;
  return fromEnv && fromEnv.trim() !== '' ? fromEnv : join(homedir(), '.let');
}

/** GPU selectors from `CUDA_VISIBLE_DEVICES` (indices or UUIDs), or null when unset. */
export function gpuIdsFromEnvironment(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const value = env.CUDA_VISIBLE_DEVICES;
  if (value === undefined) return null;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function requireString(name: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string') throw new TypeError(`option ${name} must be a string, got ${describe(value)}`);
  if (!allowEmpty && value.trim() === '') throw new RangeError(`option ${name} must not be empty`);
  return value;
}

function requireBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`option ${name} must be a boolean, got ${describe(value)}`);
  return value;
}

function requireFinite(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`option ${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`option ${name} must be a finite number, got ${value}`);
  return value;
}

/**
 * Validate options and apply defaults. Throws a TypeError (wrong type) or RangeError (bad
 * value) whose message names the option.
 */
export function resolveTrackerOptions(options: EnergyTrackerOptions | undefined): ResolvedTrackerOptions {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new TypeError(`EnergyTracker options must be an object, got ${describe(options)}`);
  }
  const given: Record<string, unknown> = { ...(options ?? {}) };
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        `unknown option ${key}; valid options are ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
    if (given[key] === undefined) delete given[key];
  }

  const projectName = given.projectName === undefined ? 'default' : requireString('projectName', given.projectName);
  if (/[\r\n]/.test(projectName)) throw new RangeError('option projectName must not contain line breaks');

  const outputDir = given.outputDir === undefined ? defaultOutputDirectory() : requireString('outputDir', given.outputDir);

  const countryIsoCode =
    given.countryIsoCode === undefined ? 'DEU' : requireString('countryIsoCode', given.countryIsoCode).trim();
  if (!/^[A-Za-z]{2,3}$/.test(countryIsoCode)) {
    throw new RangeError(
      `option countryIsoCode must be an ISO 3166-1 alpha-3 (or alpha-2) code such as "DEU", got ${describe(countryIsoCode)}`,
    );
  }

  let carbonIntensity: number | null = null;
  if (given.carbonIntensity !== undefined) {
    carbonIntensity = requireFinite('carbonIntensity', given.carbonIntensity);
    if (carbonIntensity < 0 || carbonIntensity > MAX_CARBON_INTENSITY) {
      throw new RangeError(`option carbonIntensity must be between 0 and ${MAX_CARBON_INTENSITY} gCO2/kWh, got ${carbonIntensity}`);
    }
  }

  let pue = 1;
  if (given.pue !== undefined) {
    pue = requireFinite('pue', given.pue);
    if (pue < 1 || pue > MAX_PUE) {
      throw new RangeError(`option pue must be between 1 and ${MAX_PUE} (a power usage effectiveness), got ${pue}`);
    }
  }

  let samplingIntervalMs: number = SAMPLING_INTERVAL_MS.default;
  if (given.samplingIntervalMs !== undefined) {
    samplingIntervalMs = requireFinite('samplingIntervalMs', given.samplingIntervalMs);
    checkSamplingIntervalMs(samplingIntervalMs, 'option samplingIntervalMs');
  }

  let gpuIds: string[] | null = gpuIdsFromEnvironment();
  if (given.gpuIds !== undefined) {
    if (!Array.isArray(given.gpuIds)) {
      throw new TypeError(`option gpuIds must be an array of GPU indices or UUIDs, got ${describe(given.gpuIds)}`);
    }
    gpuIds = given.gpuIds.map((id: unknown, position: number) => {
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0) return String(id);
      if (typeof id !== 'string' || id.trim() === '') {
        throw new TypeError(`option gpuIds[${position}] must be a GPU index or UUID, got ${describe(id)}`);
      }
      return id.trim();
    });
  }

  const save = given.save === undefined ? true : requireBoolean('save', given.save);
  // The store's lock settings: a malformed LET_LOCK_* fails here, before a run is measured.
  if (save) lockEnvironment();
  const printSummary = given.printSummary === undefined ? true : requireBoolean('printSummary', given.printSummary);
  const live = given.live === undefined ? false : requireBoolean('live', given.live);
  const handleSignals = given.handleSignals === undefined ? true : requireBoolean('handleSignals', given.handleSignals);
  let checkpointIntervalMs = 60_000;
  if (given.checkpointIntervalMs !== undefined) {
    checkpointIntervalMs = requireFinite('checkpointIntervalMs', given.checkpointIntervalMs);
    if (checkpointIntervalMs < 100 || checkpointIntervalMs > 86_400_000) {
      throw new RangeError(`option checkpointIntervalMs must be between 100 and 86400000 ms (24 h), got ${checkpointIntervalMs}`);
    }
  }
  const timeline = given.timeline === undefined ? true : requireBoolean('timeline', given.timeline);

  let trackingMode: TrackingMode = 'machine';
  if (given.trackingMode !== undefined) {
    if (given.trackingMode !== 'machine' && given.trackingMode !== 'process') {
      throw new RangeError(`option trackingMode must be 'machine' or 'process', got ${describe(given.trackingMode)}`);
    }
    trackingMode = given.trackingMode;
  }

  let attributionPid: number | null = null;
  if (given.attributionPid !== undefined) {
    const pid = requireFinite('attributionPid', given.attributionPid);
    if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`option attributionPid must be a positive integer, got ${pid}`);
    attributionPid = pid;
  }
  const includeDescendants =
    given.includeDescendants === undefined ? false : requireBoolean('includeDescendants', given.includeDescendants);

  const hardwareRoot = given.hardwareRoot === undefined ? null : requireString('hardwareRoot', given.hardwareRoot);
  const nvmlLibrary = given.nvmlLibrary === undefined ? null : requireString('nvmlLibrary', given.nvmlLibrary, true);

  return {
    projectName,
    outputDir,
    countryIsoCode: countryIsoCode.toUpperCase(),
    carbonIntensity,
    pue,
    samplingIntervalMs,
    gpuIds,
    save,
    printSummary,
    trackingMode,
    attributionPid,
    includeDescendants,
    hardwareRoot,
    nvmlLibrary,
    live,
    checkpointIntervalMs,
    handleSignals,
    groundTruth: given.groundTruth === undefined ? null : resolveGroundTruth(given.groundTruth),

    timeline,
  };
}
