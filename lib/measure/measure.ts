/**
 * measureEnergy: the energy of one call of a function, measured honestly on counters whose
 * step (61 µJ for Intel RAPL, 1 mJ for NVML) and update period (~1 ms RAPL, 10–100 ms NVML)
 * are far coarser than a microbenchmark's call.
 *
 * Method:
 *  1. idle power is read before the run (the process sleeps; the counters are read at the ends
 *     of several windows), unless a baseline is given;
 *  2. a warm-up estimates the time per call;
 *  3. calibration grows the batch (calls between two fresh counter readings) until a batch
 *     lasts ≥ minBatchMs and accumulates ≥ minBatchEnergyJ in every domain, within the time
 *     budget;
 *  4. `batches` batches of that size are measured back to back (each batch's end reading is
 *     the next one's start);
 *  5. idle power is read again after the run; the idle baseline is the mean of all windows;
 *  6. per call: total = batch energy / calls, active = (batch energy − idle power × batch
 *     time) / calls, with a 95% Student t interval across batches that also carries the
 *     uncertainty of the idle baseline (Welch–Satterthwaite).
 *
 * A figure that cannot be trusted is never returned as a number: see {@link MeasurementQuality}.
 */
import type { DomainInfo, UnavailableSensor } from '../native/types.js';
import { rejectUnknownOptions } from '../options-check.js';
import { combine, estimateMean, interval95, type MeanEstimate } from './stats.js';
import { openNativeSource, type CounterReading, type EnergyCounterSource } from './source.js';

/**
 * How far a figure can be trusted.
 *
 * - `measured`: the counters resolved it; the numbers and their interval are meaningful.
 * - `below-resolution`: counters exist but the batches did not reach the energy or duration
 *   the counter's step and update period require (within `maxTimeMs`), or the active energy
 *   per batch is smaller than one counter step. `activeJ` is null; `upperBoundJ` bounds it.
 * - `estimate-only`: no energy counter is readable here (RAPL not permitted, or only GPU power
 *   samples): the tracker could estimate a run's energy from CPU time × TDP, but no function's
 *   energy can be measured. All energy figures are null.
 * - `no-sensor`: the native sampler cannot be opened at all. All energy figures are null.
 */
export type MeasurementQuality = 'measured' | 'below-resolution' | 'estimate-only' | 'no-sensor';

/** Which devices to measure. */
export type DeviceKind = 'cpu' | 'gpu';

/** The keys of {@link MeasureEnergyOptions}. */
export const MEASURE_ENERGY_OPTIONS = [
  'devices', 'minBatchEnergyJ', 'minBatchMs', 'batches', 'maxTimeMs', 'iterationsPerBatch', 'warmupMs',
  'idleWindows', 'idlePowerW', 'hardwareRoot', 'nvmlLibrary', 'gpuIds', 'source',
] as const satisfies readonly (keyof MeasureEnergyOptions)[];

/** Options of {@link measureEnergy}. Every field is optional. */
export interface MeasureEnergyOptions {
  /** Devices whose domains are measured. Default: every device found (`['cpu', 'gpu']`). */
  devices?: readonly DeviceKind[];
  /** Minimum energy of one batch in every domain, J. Default per domain: 1000 × its resolution (61 mJ for Intel RAPL). */
  minBatchEnergyJ?: number;
  /** Minimum duration of one batch, ms. Default: 50 × the longest update period of the measured domains (50 ms for RAPL). */
  minBatchMs?: number;
  /** Number of measured batches (≥ 2 for an interval). Default 10. */
  batches?: number;
  /** Budget for the whole measurement (idle, warm-up, calibration, batches), ms. Default 60000. */
  maxTimeMs?: number;
  /**
   * Calls per batch, fixed: skips calibration (the criteria are still checked and the quality
   * says whether they were met). Default: calibrated.
   */
  iterationsPerBatch?: number;
  /** Warm-up time before calibration, ms (at least one call). Default 100. */
  warmupMs?: number;
  /** Idle windows read before and after the batches, each the length of a batch's minimum duration. Default 3 each side. */
  idleWindows?: number;
  /**
   * Idle baseline instead of measuring it: watts for the only top-level domain measured, or
   * watts per domain id. Domains without a given baseline are measured idle.
   */
  idlePowerW?: number | Readonly<Record<string, number>>;
  /** Root under which /sys, /proc and /dev are read (simulated hardware). Passed to the sampler. */
  hardwareRoot?: string;
  /** Path of the NVML library; `''` disables NVML. Passed to the sampler. */
  nvmlLibrary?: string;
  /** GPUs to include, by NVML index or UUID (prefix). Passed to the sampler. */
  gpuIds?: string[];
  /** Counters to use instead of the native sampler (custom sensors, tests). */
  source?: EnergyCounterSource;
}

/** A 95% confidence interval, J (or s for time). */
export interface ConfidenceInterval {
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
}

/** The energy of one call in one domain, one device, or everything measured. */
export interface EnergyFigure {
  /** How far the numbers can be trusted; the numbers are null unless they are meaningful. */
  quality: MeasurementQuality;
  /** Why, in words. */
  message: string;
  /** Energy the domain(s) used per call, idle included, J. Null unless the counter criteria were met. */
  totalJ: number | null;
  /** 95% interval of `totalJ` across batches, J. */
  totalCi95J: ConfidenceInterval | null;
  /** Energy per call above idle (total − idle power × time per call), J. Null unless `quality` is `measured`. */
  activeJ: number | null;
  /** 95% interval of `activeJ` (batches and idle baseline), J. Null unless `quality` is `measured`. */
  activeCi95J: ConfidenceInterval | null;
  /** For `below-resolution`: the active energy per call is at most this (J). Null otherwise. */
  upperBoundJ: number | null;
  /** Mean power while the batches ran, W. Null unless the counter criteria were met. */
  meanPowerW: number | null;
  /** Idle baseline used, W. Null when no baseline was obtained. */
  idlePowerW: number | null;
  /** Energy of one batch, J (mean), or null without counters. */
  batchEnergyJ: number | null;
  /** Minimum batch energy required, J. */
  minBatchEnergyJ: number | null;
}

/** The energy of one call in one domain. */
export interface DomainEnergy extends EnergyFigure {
  /** The domain. */
  domain: DomainInfo;
  /** Idle power read before the batches, W (null when given or not read). */
  idleBeforeW: number | null;
  /** Idle power read after the batches, W (null when given or not read). */
  idleAfterW: number | null;
  /** Where the idle baseline comes from. */
  idleSource: 'measured' | 'given' | null;
  /** Whether the domain is summed into its device (top-level, not psys when a package exists). */
  summed: boolean;
}

/** The result of {@link measureEnergy}: figures per call. */
export interface EnergyMeasurement extends EnergyFigure {
  /** Per device: the sum of its top-level domains (null when the device has no measured domain). */
  devices: { cpu: EnergyFigure | null; gpu: EnergyFigure | null };
  /** Per domain, in reading order. */
  domains: DomainEnergy[];
  /** Wall time per call, s (null when the function was not run). */
  timePerOpS: number | null;
  /** 95% interval of `timePerOpS` across batches. */
  timePerOpCi95S: ConfidenceInterval | null;
  /** Calls measured (calibration and warm-up excluded). */
  iterations: number;
  /** Batches measured. */
  batches: number;
  /** Calls per batch. */
  iterationsPerBatch: number;
  /** Mean duration of a batch, ms. */
  batchMs: number | null;
  /** Duration of each measured batch, ms (between its two counter readings). */
  batchDurationsMs: number[];
  /** Minimum batch duration required, ms. */
  minBatchMs: number | null;
  /** Wall time of the whole measurement, ms. */
  elapsedMs: number;
  /** Whether the function returned promises (awaited one after another). */
  async: boolean;
  /** Sensors that exist but cannot be read. */
  unavailable: readonly UnavailableSensor[];
}

type Fn = () => unknown;

const QUALITY_RANK: Record<MeasurementQuality, number> = {
  measured: 0,
  'below-resolution': 1,
  'estimate-only': 2,
  'no-sensor': 3,
};

/** The least trustworthy of several qualities. */
export function worstQuality(qualities: readonly MeasurementQuality[]): MeasurementQuality {
  let worst: MeasurementQuality = 'measured';
  for (const q of qualities) if (QUALITY_RANK[q] > QUALITY_RANK[worst]) worst = q;
  return worst;
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function positive(name: string, value: number | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

function emptyFigure(quality: MeasurementQuality, message: string): EnergyFigure {
  return {
    quality,
    message,
    totalJ: null,
    totalCi95J: null,
    activeJ: null,
    activeCi95J: null,
    upperBoundJ: null,
    meanPowerW: null,
    idlePowerW: null,
    batchEnergyJ: null,
    minBatchEnergyJ: null,
  };
}

function unmeasured(
  quality: 'estimate-only' | 'no-sensor',
  message: string,
  unavailable: readonly UnavailableSensor[],
  startNs: number,
): EnergyMeasurement {
  return {
    ...emptyFigure(quality, message),
    devices: { cpu: null, gpu: null },
    domains: [],
    timePerOpS: null,
    timePerOpCi95S: null,
    iterations: 0,
    batches: 0,
    iterationsPerBatch: 0,
    batchMs: null,
    batchDurationsMs: [],
    minBatchMs: null,
    elapsedMs: (nowNs() - startNs) / 1e6,
    async: false,
    unavailable,
  };
}

function describeUnavailable(unavailable: readonly UnavailableSensor[]): string {
  if (unavailable.length === 0) return '';
  return (
    ' Unreadable sensors: ' +
    unavailable.map((u) => `${u.target}: ${u.reason}${u.fix ? ` (fix: ${u.fix})` : ''}`).join('; ') +
    '.'
  );
}

/** A group of domains whose energies are summed (one domain, a device, or everything). */
interface Channel {
  label: string;
  members: number[]; // positions in the measured-domain list
  resolutionUj: number; // quantisation of the sum
  minBatchEnergyUj: number;
  minBatchMs: number;
}

interface BatchRecord {
  durationNs: number;
  energyUj: number[]; // per measured domain
}

interface IdleWindow {
  durationNs: number;
  energyUj: number[];
  phase: 'before' | 'after';
}

/**
 * Measure the energy of one call of `fn` (sync, or async: a returned promise is awaited
 * before the next call). See the module documentation for the method and
 * {@link MeasurementQuality} for what the figures mean.
 *
 * @example
 * const m = await measureEnergy(() => JSON.parse(text), { devices: ['cpu'] });
 * if (m.quality === 'measured') console.log(`${m.activeJ! * 1e6} µJ per call`);
 * else console.log(m.message);
 */
export async function measureEnergy(fn: () => unknown, options: MeasureEnergyOptions = {}): Promise<EnergyMeasurement> {
  if (typeof fn !== 'function') throw new TypeError('measureEnergy: fn must be a function');
  rejectUnknownOptions('measureEnergy', options, MEASURE_ENERGY_OPTIONS);
  const startNs = nowNs();
  const batches = positive('batches', options.batches, true) ?? 10;
  const maxTimeMs = positive('maxTimeMs', options.maxTimeMs) ?? 60000;
  const warmupMs = options.warmupMs === 0 ? 0 : positive('warmupMs', options.warmupMs) ?? 100;
  const idleWindows = positive('idleWindows', options.idleWindows, true) ?? 3;
  const fixedN = positive('iterationsPerBatch', options.iterationsPerBatch, true);
  const minBatchMsOption = positive('minBatchMs', options.minBatchMs);
  const minBatchEnergyOption = positive('minBatchEnergyJ', options.minBatchEnergyJ);
  const devices = options.devices ?? ['cpu', 'gpu'];
  for (const d of devices) {
    if (d !== 'cpu' && d !== 'gpu') throw new RangeError(`option devices: unknown device ${JSON.stringify(d)}`);
  }

  let source: EnergyCounterSource;
  if (options.source !== undefined) source = options.source;
  else {
    const opened = await openNativeSource({
      ...(options.hardwareRoot !== undefined ? { hardwareRoot: options.hardwareRoot } : {}),
      ...(options.nvmlLibrary !== undefined ? { nvmlLibrary: options.nvmlLibrary } : {}),
      ...(options.gpuIds !== undefined ? { gpuIds: options.gpuIds } : {}),
    });
    if (!opened.ok) return unmeasured('no-sensor', `No energy sensor: ${opened.reason}.`, [], startNs);
    source = opened.source;
  }

  try {
    return await measureWithSource(fn, source, {
      batches,
      maxTimeMs,
      warmupMs,
      idleWindows,
      fixedN,
      minBatchMsOption,
      minBatchEnergyOption,
      devices,
      idlePowerW: options.idlePowerW,
      startNs,
    });
  } finally {
    source.release?.();
  }
}

interface Resolved {
  batches: number;
  maxTimeMs: number;
  warmupMs: number;
  idleWindows: number;
  fixedN: number | undefined;
  minBatchMsOption: number | undefined;
  minBatchEnergyOption: number | undefined;
  devices: readonly DeviceKind[];
  idlePowerW: number | Readonly<Record<string, number>> | undefined;
  startNs: number;
}

async function measureWithSource(fn: Fn, source: EnergyCounterSource, o: Resolved): Promise<EnergyMeasurement> {
  const unavailable = source.unavailable ?? [];
  // Domains measured: counters only (integrated power samples cannot resolve a call).
  const all = source.domains;
  const positions: number[] = [];
  let powerOnly = 0;
  for (let i = 0; i < all.length; i++) {
    const d = all[i]!;
    if (!o.devices.includes(d.device)) continue;
    if (d.method === 'nvml-power') {
      powerOnly++;
      continue;
    }
    positions.push(i);
  }
  if (positions.length === 0) {
    const why =
      powerOnly > 0
        ? 'only GPU power samples are available (no energy counter); integrated power cannot resolve one call.'
        : all.length > 0
          ? `no energy counter for the selected devices (${o.devices.join(', ')}).`
          : 'no energy counter is readable on this machine.';
    // GPU power samples are an estimate in themselves; otherwise the CPU time counters are.
    const estimates = powerOnly > 0 || source.estimatesAvailable !== false;
    return unmeasured(
      estimates ? 'estimate-only' : 'no-sensor',
      `${estimates ? 'Estimates only' : 'No energy sensor'}: ${why}${describeUnavailable(unavailable)}`,
      unavailable,
      o.startNs,
    );
  }
  const domains = positions.map((i) => all[i]!);
  const read = (): CounterReading => source.read();
  const delta = (a: CounterReading, b: CounterReading): number[] => positions.map((i) => b.energyUj[i]! - a.energyUj[i]!);

  // Criteria per domain.
  const domainMinMs = domains.map((d) => o.minBatchMsOption ?? 50 * Math.max(1, d.updatePeriodMs || 1));
  const domainMinUj = domains.map((d) =>
    o.minBatchEnergyOption !== undefined ? o.minBatchEnergyOption * 1e6 : 1000 * (d.resolutionUj > 0 ? d.resolutionUj : 1),
  );
  const minBatchMs = Math.max(...domainMinMs);

  // Idle baselines given.
  const given: Array<number | null> = domains.map(() => null);
  if (typeof o.idlePowerW === 'number') {
    if (!Number.isFinite(o.idlePowerW) || o.idlePowerW < 0) {
      throw new RangeError(`option idlePowerW must be ≥ 0 W, got ${o.idlePowerW}`);
    }
    const top = domains.map((d, k) => (d.parentId === null ? k : -1)).filter((k) => k >= 0);
    if (top.length !== 1) {
      throw new RangeError(
        `option idlePowerW: a single number needs exactly one top-level domain, found ${top.length} (${top
          .map((k) => domains[k]!.id)
          .join(', ')}); give { [domainId]: watts } instead`,
      );
    }
    given[top[0]!] = o.idlePowerW;
  } else if (o.idlePowerW !== undefined) {
    const known = new Set(domains.map((d) => d.id));
    for (const [id, watts] of Object.entries(o.idlePowerW)) {
      if (!known.has(id)) {
        throw new RangeError(`option idlePowerW: unknown domain ${JSON.stringify(id)}; measured domains: ${[...known].join(', ')}`);
      }
      if (typeof watts !== 'number' || !Number.isFinite(watts) || watts < 0) {
        throw new RangeError(`option idlePowerW[${JSON.stringify(id)}] must be ≥ 0 W, got ${String(watts)}`);
      }
    }
    domains.forEach((d, k) => {
      const w = (o.idlePowerW as Readonly<Record<string, number>>)[d.id];
      if (w !== undefined) given[k] = w;
    });
  }
  const needIdle = given.some((g) => g === null);

  // Idle windows last a batch's minimum duration, but together (before and after) at most
  // 40% of the budget: a coarse counter then gives a coarser (and wider) baseline, not a
  // measurement that overruns maxTimeMs.
  const idleWindowMs = Math.max(1, Math.min(minBatchMs, (0.4 * o.maxTimeMs) / (2 * o.idleWindows)));
  const idle: IdleWindow[] = [];
  const readIdle = async (phase: 'before' | 'after'): Promise<void> => {
    let prev = read();
    for (let w = 0; w < o.idleWindows; w++) {
      await sleep(idleWindowMs);
      const cur = read();
      idle.push({ durationNs: cur.timestampNs - prev.timestampNs, energyUj: delta(prev, cur), phase });
      prev = cur;
    }
  };
  const idlePhaseMs = needIdle ? o.idleWindows * idleWindowMs : 0;

  // 1. idle before, after a short settle (opening the sampler and loading code is work too)
  if (needIdle) {
    await sleep(Math.min(idleWindowMs, 50));
    await readIdle('before');
  }

  // 2. warm-up, detecting async functions
  let isAsync = false;
  let warmCalls = 0;
  const warmStart = nowNs();
  {
    const first = fn();
    if (isThenable(first)) {
      isAsync = true;
      await first;
    }
    warmCalls = 1;
    const until = warmStart + o.warmupMs * 1e6;
    if (isAsync) {
      while (nowNs() < until) {
        await fn();
        warmCalls++;
      }
    } else {
      while (nowNs() < until) {
        fn();
        warmCalls++;
      }
    }
  }
  const warmNsPerCall = Math.max(1, (nowNs() - warmStart) / warmCalls);

  const runBatch = isAsync
    ? async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) await fn();
      }
    : (n: number): void => {
        for (let i = 0; i < n; i++) fn();
      };

  const elapsedMs = (): number => (nowNs() - o.startNs) / 1e6;
  const batchCapMs = (): number => Math.max(1, (o.maxTimeMs - elapsedMs() - idlePhaseMs) / (o.batches + 1));

  // 3. calibration
  let n = Math.max(1, Math.ceil((minBatchMs * 1e6) / warmNsPerCall));
  let nsPerCall = warmNsPerCall;
  if (o.fixedN !== undefined) n = o.fixedN;
  for (let round = 0; o.fixedN === undefined && round < 40; round++) {
    const capMs = batchCapMs();
    n = Math.max(1, Math.min(n, Math.floor((capMs * 1e6) / nsPerCall)));
    const a = read();
    await runBatch(n);
    const b = read();
    const durNs = Math.max(1, b.timestampNs - a.timestampNs);
    nsPerCall = durNs / n;
    const e = delta(a, b);
    // Aim above the minimum (time ×1.5, energy ×1.25): calls get faster as the JIT settles.
    const targetNs = 1.5 * minBatchMs * 1e6;
    let factor = durNs >= targetNs ? 1 : targetNs / durNs;
    for (let k = 0; k < domains.length; k++) {
      const target = 1.25 * domainMinUj[k]!;
      if (e[k]! < target) factor = Math.max(factor, e[k]! > 0 ? target / e[k]! : 10);
    }
    if (factor <= 1) break;
    const next = Math.ceil(n * Math.min(100, factor * 1.1));
    const maxN = Math.max(1, Math.floor((batchCapMs() * 1e6) / nsPerCall));
    if (n >= maxN) break; // budget reached: measure with what we have
    n = Math.min(next, maxN);
  }

  // 4. batches
  //    A series whose batches fall short of the criteria (calls got faster once the JIT
  //    settled) is restarted with larger batches while the budget allows.
  let records: BatchRecord[] = [];
  for (let attempt = 0; ; attempt++) {
    records = [];
    let prev = read();
    let shortfall = 1;
    for (let b = 0; b < o.batches; b++) {
      await runBatch(n);
      const cur = read();
      const rec = { durationNs: cur.timestampNs - prev.timestampNs, energyUj: delta(prev, cur) };
      records.push(rec);
      prev = cur;
      shortfall = Math.max(shortfall, (minBatchMs * 1e6) / Math.max(1, rec.durationNs));
      for (let k = 0; k < domains.length; k++) {
        const e = rec.energyUj[k]!;
        shortfall = Math.max(shortfall, e > 0 ? domainMinUj[k]! / e : 10);
      }
      if (shortfall > 1 && o.fixedN === undefined) break;
    }
    if (shortfall <= 1 || attempt >= 4 || o.fixedN !== undefined) break;
    const recNsPerCall = records.reduce((s2, r) => s2 + r.durationNs, 0) / (records.length * n);
    const maxN = Math.max(1, Math.floor((batchCapMs() * 1e6) / recNsPerCall));
    const next = Math.min(maxN, Math.ceil(n * Math.min(100, shortfall * 1.5)));
    if (next <= n) {
      // out of budget: finish the series with what we have
      let p2 = read();
      for (let b = records.length; b < o.batches; b++) {
        await runBatch(n);
        const cur = read();
        records.push({ durationNs: cur.timestampNs - p2.timestampNs, energyUj: delta(p2, cur) });
        p2 = cur;
      }
      break;
    }
    n = next;
  }

  // 5. idle after
  if (needIdle) await readIdle('after');

  // 6. analysis
  const durationsS = records.map((r) => r.durationNs / 1e9);
  const timeEst = estimateMean(durationsS.map((t) => t / n));
  const timeCi = interval95(timeEst);
  const meanBatchMs = (timeEst.mean * n) * 1e3;

  const summedFlags = domains.map((d, k) => {
    if (d.parentId !== null) return false;
    if (d.kind === 'psys') {
      // psys contains the packages: sum it only when it is the device's only top-level domain
      return !domains.some((o2, j) => j !== k && o2.device === d.device && o2.parentId === null && o2.kind !== 'psys');
    }
    return true;
  });

  const analyse = (ch: Channel, criteriaMet: boolean, criteriaWhy: string): EnergyFigure & { idle: MeanEstimate | null } => {
    const batchUj = records.map((r) => ch.members.reduce((s, k) => s + r.energyUj[k]!, 0));
    // idle estimate for the channel: given part (exact) + measured part (windows)
    let givenW = 0;
    const measuredMembers: number[] = [];
    for (const k of ch.members) {
      const g = given[k];
      if (g !== null && g !== undefined) givenW += g;
      else measuredMembers.push(k);
    }
    let idleEst: MeanEstimate;
    if (measuredMembers.length === 0) idleEst = { mean: givenW, varianceOfMean: 0, df: Infinity };
    else {
      const windowsW = idle.map((w) => measuredMembers.reduce((s, k) => s + w.energyUj[k]!, 0) / 1e6 / (w.durationNs / 1e9));
      const m = estimateMean(windowsW);
      idleEst = { mean: m.mean + givenW, varianceOfMean: m.varianceOfMean, df: m.df };
    }
    const totalPerOp = estimateMean(batchUj.map((e) => e / 1e6 / n));
    const meanBatchUj = batchUj.reduce((s, e) => s + e, 0) / batchUj.length;
    const sumE = batchUj.reduce((s, e) => s + e, 0) / 1e6;
    const sumT = durationsS.reduce((s, t) => s + t, 0);
    const base: EnergyFigure = {
      ...emptyFigure('measured', ''),
      idlePowerW: Number.isFinite(idleEst.mean) ? idleEst.mean : null,
      batchEnergyJ: meanBatchUj / 1e6,
      minBatchEnergyJ: ch.minBatchEnergyUj / 1e6,
    };
    // Upper bound of the active energy per call, from the totals (one step of slack per batch).
    const totalHigh = (Math.max(...batchUj) + ch.resolutionUj) / 1e6 / n;
    if (!criteriaMet) {
      return {
        ...base,
        quality: 'below-resolution',
        message: `${ch.label}: below resolution: ${criteriaWhy}`,
        upperBoundJ: totalHigh,
        idle: idleEst,
      };
    }
    // Active per call: series y_b = (E_b − P̂ t_b)/n, plus the idle estimate's own error × time per call.
    const ySeries = records.map((r, b) => (batchUj[b]! / 1e6 - idleEst.mean * (r.durationNs / 1e9)) / n);
    const yEst = estimateMean(ySeries);
    const activeEst = combine(1, yEst, -timeEst.mean, { mean: 0, varianceOfMean: idleEst.varianceOfMean, df: idleEst.df });
    const activeCi = interval95(activeEst);
    const totalCi = interval95(totalPerOp);
    const withTotals: EnergyFigure = {
      ...base,
      totalJ: totalPerOp.mean,
      totalCi95J: totalCi ? { low: totalCi.low, high: totalCi.high } : null,
      meanPowerW: sumT > 0 ? sumE / sumT : null,
    };
    const stepJ = ch.resolutionUj / 1e6;
    // Resolved: the interval excludes zero (or, with a single batch, the active energy of the
    // batch exceeds one counter step). Otherwise only an upper bound is honest.
    const resolved = activeCi ? activeCi.low > 0 || activeCi.high < 0 : Math.abs(activeEst.mean * n) > stepJ;
    if (!resolved) {
      const high = activeCi ? activeCi.high : activeEst.mean + stepJ / n;
      return {
        ...withTotals,
        quality: 'below-resolution',
        message:
          `${ch.label}: below resolution: the active energy is not distinguishable from idle` +
          (activeCi ? ` (95% interval ${fmtJ(activeCi.low)} … ${fmtJ(activeCi.high)} per call` : ' (one batch') +
          `; counter step ${fmtJ(stepJ)} per batch of ${n} calls)`,
        upperBoundJ: Math.max(0, high),
        idle: idleEst,
      };
    }
    const message = `${ch.label}: measured over ${records.length} batches of ${n} calls`;
    return {
      ...withTotals,
      quality: 'measured',
      message,
      activeJ: activeEst.mean,
      activeCi95J: activeCi ? { low: activeCi.low, high: activeCi.high } : null,
      idle: idleEst,
    };
  };

  const criteria = (members: number[]): { met: boolean; why: string } => {
    const reasons: string[] = [];
    for (const k of members) {
      const d = domains[k]!;
      const minE = Math.min(...records.map((r) => r.energyUj[k]!));
      if (minE < domainMinUj[k]!) {
        reasons.push(
          `${d.name}: a batch accumulated ${fmtJ(minE / 1e6)}, less than ${fmtJ(domainMinUj[k]! / 1e6)} (${Math.round(
            domainMinUj[k]! / Math.max(d.resolutionUj, 1e-9),
          )} counter steps of ${d.resolutionUj} µJ)`,
        );
      }
      if (meanBatchMs < domainMinMs[k]! * 0.95) {
        reasons.push(
          `${d.name}: batches of ${meanBatchMs.toFixed(1)} ms are shorter than ${domainMinMs[k]} ms (50 × the counter's update period of ${d.updatePeriodMs} ms)`,
        );
      }
    }
    if (reasons.length > 0) reasons.push(`within maxTimeMs = ${o.maxTimeMs} ms; raise it, or restrict devices`);
    return { met: reasons.length === 0, why: reasons.join('; ') };
  };

  const domainResults: DomainEnergy[] = domains.map((d, k) => {
    const c = criteria([k]);
    const fig = analyse(
      { label: d.name, members: [k], resolutionUj: d.resolutionUj, minBatchEnergyUj: domainMinUj[k]!, minBatchMs: domainMinMs[k]! },
      c.met,
      c.why,
    );
    const perPhase = (phase: 'before' | 'after'): number | null => {
      if (given[k] !== null) return null;
      const ws = idle.filter((w) => w.phase === phase);
      if (ws.length === 0) return null;
      const e = ws.reduce((s, w) => s + w.energyUj[k]!, 0) / 1e6;
      const t = ws.reduce((s, w) => s + w.durationNs, 0) / 1e9;
      return t > 0 ? e / t : null;
    };
    const { idle: _idle, ...figure } = fig;
    return {
      ...figure,
      domain: d,
      idleBeforeW: perPhase('before'),
      idleAfterW: perPhase('after'),
      idleSource: given[k] !== null ? 'given' : 'measured',
      summed: summedFlags[k]!,
    };
  });

  const group = (label: string, members: number[]): EnergyFigure | null => {
    if (members.length === 0) return null;
    const c = criteria(members);
    const { idle: _idle, ...figure } = analyse(
      {
        label,
        members,
        resolutionUj: members.reduce((s, k) => s + domains[k]!.resolutionUj, 0),
        minBatchEnergyUj: members.reduce((s, k) => s + domainMinUj[k]!, 0),
        minBatchMs: Math.max(...members.map((k) => domainMinMs[k]!)),
      },
      c.met,
      c.why,
    );
    return figure;
  };
  const summedOf = (device: DeviceKind | null): number[] =>
    domains.map((d, k) => (summedFlags[k] && (device === null || d.device === device) ? k : -1)).filter((k) => k >= 0);
  const cpu = group('cpu', summedOf('cpu'));
  const gpu = group('gpu', summedOf('gpu'));
  const overall = group('all devices', summedOf(null)) ?? emptyFigure('no-sensor', 'no top-level domain');

  // The overall quality is that of the sum of the top-level domains: a subzone that does not
  // move (an idle `uncore`) is labelled on its own without hiding the package's figure.
  const quality = overall.quality;
  const notes: string[] = [];
  for (const d of domainResults) {
    if (d.idleBeforeW !== null && d.idleAfterW !== null) {
      const hi = Math.max(d.idleBeforeW, d.idleAfterW);
      const lo = Math.min(d.idleBeforeW, d.idleAfterW);
      if (hi > 0 && (hi - lo) / hi > 0.2) {
        notes.push(`${d.domain.name}: idle power drifted from ${d.idleBeforeW.toFixed(2)} W to ${d.idleAfterW.toFixed(2)} W`);
      }
    }
  }
  const unresolved = domainResults.filter((d) => d.quality !== 'measured').map((d) => d.domain.name);
  if (quality === 'measured' && unresolved.length > 0) notes.push(`below resolution on its own: ${unresolved.join(', ')}`);
  if (powerOnly > 0) notes.push(`${powerOnly} GPU domain(s) with power samples only were left out`);
  const message =
    (quality === 'measured'
      ? `Measured: ${records.length} batches of ${n} calls (${meanBatchMs.toFixed(1)} ms each).`
      : `Below resolution: ${overall.message}.`) +
    (notes.length > 0 ? ` Notes: ${notes.join('; ')}.` : '') +
    describeUnavailable(unavailable);

  return {
    ...overall,
    quality,
    message,
    devices: { cpu, gpu },
    domains: domainResults,
    timePerOpS: timeEst.mean,
    timePerOpCi95S: timeCi ? { low: timeCi.low, high: timeCi.high } : null,
    iterations: n * records.length,
    batches: records.length,
    iterationsPerBatch: n,
    batchMs: meanBatchMs,
    batchDurationsMs: records.map((r) => r.durationNs / 1e6),
    minBatchMs,
    elapsedMs: elapsedMs(),
    async: isAsync,
    unavailable,
  };
}

function fmtJ(j: number): string {
  const a = Math.abs(j);
  if (a >= 1) return `${j.toFixed(3)} J`;
  if (a >= 1e-3) return `${(j * 1e3).toFixed(3)} mJ`;
  return `${(j * 1e6).toFixed(3)} µJ`;
}
