/**
 * Where measureEnergy gets its counters: a lease on the shared native sampler, or a source
 * the caller provides (custom sensors, tests).
 */
import type { DomainInfo, Reading, UnavailableSensor } from '../native/types.js';
import { acquireSampler, type AcquireOptions, type SamplerLease } from '../native/sampler-pool.js';
import { CPU_LOAD_MODEL } from '../estimate/cpu-power.js';

/** The part of a reading measureEnergy uses. */
export type CounterReading = Pick<Reading, 'timestampNs' | 'energyUj'>;

/**
 * A set of cumulative energy counters that can be read synchronously and freshly. The native
 * sampler is one; a custom source lets measureEnergy run on other sensors.
 */
export interface EnergyCounterSource {
  /** Domains in reading order. */
  readonly domains: readonly DomainInfo[];
  /** A fresh reading of every counter now: monotonic time in ns, cumulative energy per domain in µJ. */
  read(): CounterReading;
  /** Called once when measureEnergy is done with the source. */
  release?(): void;
  /** Sensors that exist but cannot be read (reported in the result's message). */
  readonly unavailable?: readonly UnavailableSensor[];
  /** Whether the CPU time counters are readable (an estimate would be possible without counters). */
  readonly estimatesAvailable?: boolean;
}

/** Options for opening the native sampler. */
export interface SourceOptions {
  /** Root under which /sys, /proc and /dev are read (simulated hardware). */
  hardwareRoot?: string;
  /** Path of the NVML library; `''` disables NVML. */
  nvmlLibrary?: string;
  /** GPUs to include, by NVML index or UUID (prefix). */
  gpuIds?: string[];
  /** Interval of the background sampling thread while measuring (wrap safety only; readings are fresh). */
  samplingIntervalMs?: number;
}

/** The outcome of trying to open the native sampler. */
export type OpenedSource = { ok: true; source: EnergyCounterSource } | { ok: false; reason: string };

/** Acquire a lease on the shared native sampler; never throws (a failure is returned as a reason). */
export async function openNativeSource(options: SourceOptions): Promise<OpenedSource> {
  let lease: SamplerLease;
  try {
    const samplerOptions: AcquireOptions = {
      samplingIntervalMs: options.samplingIntervalMs ?? 1000,
      // The same sampler as the tracker's (same key); measureEnergy reads counters only, so its
      // ticks need no CPU times.
      loadModel: CPU_LOAD_MODEL,
      cpuTimes: { machine: false, process: false },
    };
    if (options.hardwareRoot !== undefined) samplerOptions.hardwareRoot = options.hardwareRoot;
    if (options.nvmlLibrary !== undefined) samplerOptions.nvmlLibrary = options.nvmlLibrary;
    if (options.gpuIds !== undefined) samplerOptions.gpuIds = options.gpuIds;
    lease = acquireSampler(samplerOptions);
  } catch (error) {
    return { ok: false, reason: `the native energy sampler could not be opened: ${(error as Error).message}` };
  }
  let unavailable: readonly UnavailableSensor[] = [];
  let estimatesAvailable = false;
  try {
    unavailable = lease.sampler.probe().unavailable;
    estimatesAvailable = lease.read().cpu.available;
  } catch {
    // diagnostics only
  }
  let released = false;
  const source: EnergyCounterSource = {
    domains: lease.sampler.domains,
    read: () => lease.read(),
    release: () => {
      if (!released) {
        released = true;
        lease.release();
      }
    },
    unavailable,
    estimatesAvailable,
  };
  return { ok: true, source };
}
