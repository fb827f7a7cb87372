/**
 * Where measureEnergy gets its counters: a lease on the shared native sampler, or a source
 * the caller provides (custom sensors, tests).
 */
import type { DomainInfo, Reading, UnavailableSensor } from '../native/types.js';
import type { SamplerOptions } from '../native/sampler-options.js';
import { openSamplerSource, type SamplerSource } from '../native/sampler-source.js';
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

/**
 * Options for opening the native sampler: the sampler's own ({@link SamplerOptions}; the
 * interval is that of the background thread while measuring, for wrap safety only, since
 * readings are fresh).
 */
export type SourceOptions = Pick<SamplerOptions, 'hardwareRoot' | 'nvmlLibrary' | 'gpuIds' | 'samplingIntervalMs'>;

/** The outcome of trying to open the native sampler. */
export type OpenedSource = { ok: true; source: EnergyCounterSource } | { ok: false; reason: string };

/** Acquire a lease on the shared native sampler; never throws (a failure is returned as a reason). */
export async function openNativeSource(options: SourceOptions): Promise<OpenedSource> {
  let source: SamplerSource;
  try {
    source = openSamplerSource({
      ...options,
      // The same sampler as the tracker's (same key); measureEnergy reads counters only, so its
      // ticks need no CPU times.
      loadModel: CPU_LOAD_MODEL,
      cpuTimes: { machine: false, process: false },
    });
  } catch (error) {
    return { ok: false, reason: `the native energy sampler could not be opened: ${(error as Error).message}` };
  }
  return { ok: true, source };
}
