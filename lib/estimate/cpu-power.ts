/**
 * CodeCarbon's CPU power models for when no CPU energy counter can be read, expressed on the
 * cumulative {@link CpuTimes} that the native sampler (or {@link JsCpuSampler}) returns.
 *
 * - Machine mode (load model): `P = TDP × (0.1 + 0.9 × u³)`, u the machine's busy share in
 *   [0, 1]. Integrated per sampling interval it gives `E = TDP × ∫(0.1 + 0.9·u³) dt`, and the
 *   samplers keep that integral as `loadModelS`, so `E = TDP × ΔloadModelS`.
 * - Process mode: `P = TDP × (process CPU share) ÷ CPU count`, i.e. CodeCarbon's
 *   `process.cpu_percent() / cpu_count / 100 × TDP`; over a window `E = TDP × ΔprocessS ÷ logicalCpus`.
 * - Constant mode: `P = TDP × 0.5` (CodeCarbon's `CONSUMPTION_PERCENTAGE_CONSTANT`).
 */
import type { CpuTimes, LoadModel } from '../native/types.js';

/**
 * CodeCarbon's CPU load model, `P / TDP = 0.1 + 0.9 × u³`: defined here once, passed to the
 * native sampler (which integrates it per interval into `loadModelS`) and used by
 * {@link loadModelFactor} and the JavaScript sampler.
 */
export const CPU_LOAD_MODEL: Readonly<LoadModel> = Object.freeze({ idleShare: 0.1, exponent: 3 });

/** Idle share of TDP in CodeCarbon's load model. */
export const LOAD_MODEL_IDLE_SHARE = CPU_LOAD_MODEL.idleShare;
/** CodeCarbon's constant-mode share of TDP. */
export const CONSTANT_MODE_SHARE = 0.5;

function clamp01(x: number): number {
  if (!Number.isFinite(x) || x <= 0) return 0;
  return x >= 1 ? 1 : x;
}

/**
 * The load model's factor `0.1 + 0.9 × u³` for a load fraction u (clamped to [0, 1];
 * NaN counts as 0).
 */
export function loadModelFactor(loadFraction: number): number {
  const u = clamp01(loadFraction);
  return CPU_LOAD_MODEL.idleShare + (1 - CPU_LOAD_MODEL.idleShare) * u ** CPU_LOAD_MODEL.exponent;
}

/**
 * CPU power (W) under CodeCarbon's load model: `tdpWatts × (0.1 + 0.9 × u³)`.
 *
 * @param tdpWatts The CPU's TDP (see `lookupCpuTdp`).
 * @param loadFraction Machine CPU load in [0, 1] (not percent); clamped.
 */
export function cpuLoadModelPower(tdpWatts: number, loadFraction: number): number {
  return tdpWatts * loadModelFactor(loadFraction);
}

/** CPU power (W) in CodeCarbon's constant mode: half the TDP. */
export function cpuConstantModePower(tdpWatts: number): number {
  return tdpWatts * CONSTANT_MODE_SHARE;
}

/**
 * Differences of two cumulative {@link CpuTimes} readings (`end − start`), in the same shape:
 * `available` when both readings had CPU times, `logicalCpus` from the later reading (else the
 * earlier).
 */
export type CpuTimesDelta = CpuTimes;

/**
 * `end − start` of two cumulative readings. Negative differences (a restarted counter)
 * are reported as 0.
 */
export function cpuTimesDelta(start: CpuTimes, end: CpuTimes): CpuTimesDelta {
  const d = (a: number, b: number): number => (Number.isFinite(b - a) && b > a ? b - a : 0);
  return {
    available: start.available && end.available,
    machineTotalS: d(start.machineTotalS, end.machineTotalS),
    machineBusyS: d(start.machineBusyS, end.machineBusyS),
    processS: d(start.processS, end.processS),
    loadModelS: d(start.loadModelS, end.loadModelS),
    logicalCpus: end.logicalCpus > 0 ? end.logicalCpus : start.logicalCpus,
  };
}

/** Mean machine load over a window, in [0, 1]: Δbusy ÷ Δtotal (0 when nothing elapsed). */
export function machineLoadFraction(delta: CpuTimesDelta): number {
  return delta.machineTotalS > 0 ? clamp01(delta.machineBusyS / delta.machineTotalS) : 0;
}

/**
 * The process's share of all CPU time in a window, in [0, 1]: ΔprocessS ÷ ΔmachineTotalS
 * (the Scaphandre/Kepler share used to attribute measured energy). 0 when nothing elapsed.
 */
export function processCpuShare(delta: CpuTimesDelta): number {
  return delta.machineTotalS > 0 ? clamp01(delta.processS / delta.machineTotalS) : 0;
}

/**
 * Machine-mode CPU energy estimate (J) between two readings: `tdpWatts × ΔloadModelS`.
 * 0 when CPU times were unavailable in either reading.
 */
export function machineCpuEnergyJ(tdpWatts: number, start: CpuTimes, end: CpuTimes): number {
  const delta = cpuTimesDelta(start, end);
  return delta.available ? tdpWatts * delta.loadModelS : 0;
}

/**
 * Process-mode CPU energy estimate (J) between two readings, as CodeCarbon's process mode:
 * `tdpWatts × ΔprocessS ÷ logicalCpus` (a process using all CPUs all the time is charged
 * the full TDP; one using one CPU of 8, an eighth). 0 when CPU times were unavailable or
 * the CPU count is unknown.
 */
export function processCpuEnergyJ(tdpWatts: number, start: CpuTimes, end: CpuTimes): number {
  const delta = cpuTimesDelta(start, end);
  if (!delta.available || delta.logicalCpus <= 0) return 0;
  return (tdpWatts * delta.processS) / delta.logicalCpus;
}

/** Tracking mode of an estimate: whole machine or this process. */
export type CpuEstimateMode = 'machine' | 'process';

/** CPU energy estimate (J) between two readings in the given mode (see the two functions above). */
export function estimateCpuEnergyJ(mode: CpuEstimateMode, tdpWatts: number, start: CpuTimes, end: CpuTimes): number {
  return mode === 'process' ? processCpuEnergyJ(tdpWatts, start, end) : machineCpuEnergyJ(tdpWatts, start, end);
}
