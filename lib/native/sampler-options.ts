/**
 * The one place where the native sampler's options get their defaults and its rules: the one
 * options type every caller passes down ({@link SamplerOptions}: the tracker, measureEnergy,
 * probe), the `LET_*` environment variables, the sampling-interval limits, and the complete
 * options object the addon receives (`native/addon_options.h` only checks it; C++ repeats no
 * default).
 *
 * The CPU load model is not defined here but in `lib/estimate/cpu-power.ts` (`CPU_LOAD_MODEL`),
 * which the callers that need `loadModelS` pass as `loadModel`.
 */
import type { CpuTimesUse, DomainInfo, LoadModel } from './types.js';

/** Limits of the sampling thread's interval, ms (every layer checks against these). */
export const SAMPLING_INTERVAL_MS = Object.freeze({ min: 1, max: 60000, default: 1000 });

/** Default NVML library (the driver's soname). */
export const DEFAULT_NVML_LIBRARY = 'libnvidia-ml.so.1';

/** Throws a RangeError naming `name` unless `ms` is a sampling interval the sampler accepts. */
export function checkSamplingIntervalMs(ms: number, name = 'samplingIntervalMs'): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < SAMPLING_INTERVAL_MS.min || ms > SAMPLING_INTERVAL_MS.max) {
    throw new RangeError(`${name} must be between ${SAMPLING_INTERVAL_MS.min} and ${SAMPLING_INTERVAL_MS.max} ms, got ${String(ms)}`);
  }
  return ms;
}

/**
 * Options of a lease on the shared sampler, as every caller gives them: `null` or absent means
 * the default, which {@link resolveSamplerOptions} (identity of the sampler) and
 * {@link resolveSamplingIntervalMs} (the lease's interval) fill in; nothing else does.
 */
export interface SamplerOptions {
  /** Root under which /sys, /proc and /dev are read (simulated hardware); default `LET_HARDWARE_ROOT`, else `/`. */
  hardwareRoot?: string | null;
  /** Path of the NVML library (`''` disables NVML); default `LET_NVML_LIBRARY`, else `libnvidia-ml.so.1`. */
  nvmlLibrary?: string | null;
  /** GPUs to include, by NVML index or UUID (prefix); default all. */
  gpuIds?: readonly string[] | null;
  /** Process whose share of CPU time is attributed; default this process. */
  attributionPid?: number | null;
  /** Attribute the CPU time of the process's descendants too; default false. */
  includeDescendants?: boolean | null;
  /** CPU load model integrated into `loadModelS` (lib/estimate/cpu-power.ts: `CPU_LOAD_MODEL`); default none. */
  loadModel?: Readonly<LoadModel> | null;
  /** Interval this lease wants from the sampling thread, ms ({@link SAMPLING_INTERVAL_MS}; default 1000). */
  samplingIntervalMs?: number | null;
  /**
   * CPU times this lease's ticks need, or a function of the discovered domains that says so.
   * Default: both (machine and process).
   */
  cpuTimes?: CpuTimesUse | ((domains: readonly DomainInfo[]) => CpuTimesUse) | null;
}

/** The lease's sampling interval: `samplingIntervalMs`, checked, else the default (1000 ms). */
export function resolveSamplingIntervalMs(ms: number | null | undefined): number {
  return checkSamplingIntervalMs(ms ?? SAMPLING_INTERVAL_MS.default);
}

/** Sampler options after the defaults: what identifies a sampler. */
export interface ResolvedSamplerOptions {
  hardwareRoot: string;
  nvmlLibrary: string;
  gpuIds: string[];
  includeDescendants: boolean;
  /** Absent: the calling process. */
  attributionPid?: number;
  /** Absent: no load model is integrated (`loadModelS` stays 0). */
  loadModel?: LoadModel;
  /** The `LET_TEST_UNPRIVILEGED=1` test hook (see test/fixtures/fake-hardware.ts). */
  simulateUnprivileged: boolean;
}

function envFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw new RangeError(`environment variable ${name} must be 1 or 0, got ${JSON.stringify(value)}`);
}

/**
 * Options with the environment defaults applied: `LET_HARDWARE_ROOT` (else `/`),
 * `LET_NVML_LIBRARY` (else `libnvidia-ml.so.1`; `''` disables NVML), `LET_TEST_UNPRIVILEGED`.
 */
export function resolveSamplerOptions(options: SamplerOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedSamplerOptions {
  const root = options.hardwareRoot ?? (env.LET_HARDWARE_ROOT !== undefined && env.LET_HARDWARE_ROOT !== '' ? env.LET_HARDWARE_ROOT : '/');
  const resolved: ResolvedSamplerOptions = {
    hardwareRoot: root,
    nvmlLibrary: options.nvmlLibrary ?? env.LET_NVML_LIBRARY ?? DEFAULT_NVML_LIBRARY,
    gpuIds: [...(options.gpuIds ?? [])],
    includeDescendants: options.includeDescendants ?? false,
    simulateUnprivileged: envFlag(env, 'LET_TEST_UNPRIVILEGED'),
  };
  if (options.attributionPid != null && options.attributionPid !== process.pid) resolved.attributionPid = options.attributionPid;
  if (options.loadModel != null) resolved.loadModel = { idleShare: options.loadModel.idleShare, exponent: options.loadModel.exponent };
  return resolved;
}

/** The complete object the addon's Sampler constructor takes (resolved options plus the limits). */
export function addonSamplerOptions(resolved: ResolvedSamplerOptions): ResolvedSamplerOptions & { intervalLimitsMs: { min: number; max: number } } {
  return { ...resolved, intervalLimitsMs: { min: SAMPLING_INTERVAL_MS.min, max: SAMPLING_INTERVAL_MS.max } };
}
