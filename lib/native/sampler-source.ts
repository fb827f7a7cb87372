/**
 * The one wrapper over a lease on the shared native sampler (sampler-pool.ts): what the tracker
 * (lib/tracker/measurement.ts) and measureEnergy (lib/measure/source.ts) read their counters
 * from. It adds to the lease what both need once: the probe's findings, the released guard,
 * and, where the sampler finds no `/proc/stat` and the caller supplies one, CPU times from
 * another source (the tracker's `os.cpus()`/`process.cpuUsage()` sampler) so that a CPU
 * estimate never reads 0 W for lack of the file; such readings carry `cpu.origin`.
 *
 * Runs on the JavaScript thread only (as every sampler method does).
 */
import { acquireSampler, type SamplerLease } from './sampler-pool.js';
import type { SamplerOptions } from './sampler-options.js';
import type { CpuTimes, DomainInfo, Reading, SamplerStats, UnavailableSensor } from './types.js';

/** CPU times from somewhere other than the sampler (e.g. `JsCpuSampler`). */
export interface CpuTimesProvider {
  /** A fresh sample: cumulative totals. */
  read(): CpuTimes;
  /** Stop sampling (called once, on release). */
  stop(): void;
}

/** Options of {@link openSamplerSource}: the sampler's options and the CPU-times fallback. */
export interface SamplerSourceOptions extends SamplerOptions {
  /**
   * Called once, with the discovered domains, when the sampler cannot read the machine's CPU
   * times (no `/proc/stat`): returns the provider to read them from instead, or null for none
   * (the readings then keep `cpu.available: false`).
   */
  cpuTimesFallback?: ((domains: readonly DomainInfo[]) => CpuTimesProvider | null) | null;
}

/** A lease on the shared native sampler, as its users read it. */
export class SamplerSource {
  /**
   * `native`: readings and the ring of recent samples from the sampler; `fallback`: CPU times
   * from the fallback provider, which keeps no history, so recent samples are one reading
   * taken on demand (what a timeline drains by: lib/timeline/recorder.ts).
   */
  readonly kind: 'native' | 'fallback';
  /** Why the addon could not be used: never, for this source. */
  readonly fallbackReason = null;
  /** Domains in reading order. */
  readonly domains: readonly DomainInfo[];
  /** Sensors that exist but cannot be read. */
  readonly unavailable: readonly UnavailableSensor[];
  /** CPU model name as the sampler found it ('' when unknown). */
  readonly cpuModel: string;
  /** Whether CPU times are readable (from `/proc/stat`, or from the fallback provider). */
  readonly estimatesAvailable: boolean;
  /** Where CPU times come from instead of `/proc/stat`, or null when they come from it (or nowhere). */
  readonly cpuTimesOrigin: CpuTimes['origin'] | null;
  private readonly cpuFallback: CpuTimesProvider | null;
  private released = false;

  constructor(
    private readonly lease: SamplerLease,
    cpuTimesFallback: SamplerSourceOptions['cpuTimesFallback'] = null,
  ) {
    const probe = lease.probe();
    this.domains = lease.sampler.domains;
    this.unavailable = probe.unavailable;
    this.cpuModel = probe.cpuModel;
    // The sampler took a fresh baseline when it opened: it says whether /proc/stat was
    // readable, without touching the hardware again (asked once per sampler).
    const nativeCpu = lease.cpuTimesAvailable();
    this.cpuFallback = nativeCpu || !cpuTimesFallback ? null : cpuTimesFallback(this.domains);
    this.estimatesAvailable = nativeCpu || this.cpuFallback !== null;
    this.cpuTimesOrigin = this.cpuFallback === null ? null : 'os-cpus';
    this.kind = this.cpuFallback === null ? 'native' : 'fallback';
  }

  private withCpu(reading: Reading): Reading {
    if (this.cpuFallback === null) return reading;
    return { ...reading, cpu: { ...this.cpuFallback.read(), origin: 'os-cpus' } };
  }

  /** A fresh reading of every counter now (exact start/stop). */
  read(): Reading {
    return this.withCpu(this.lease.read());
  }

  /**
   * The machine's available memory now, bytes (what `os.freemem()` returns, without its open
   * and close of /proc/meminfo), or null where the sampler cannot read it.
   */
  availableMemoryBytes(): number | null {
    return this.lease.sampler.memAvailable?.() ?? null;
  }

  /** The latest totals the sampling thread published (no hardware access). */
  latest(): Reading {
    return this.withCpu(this.lease.latest());
  }

  /**
   * Readings taken after `sinceNs`: the sampler's ring; with CPU times from the fallback
   * provider, which keeps no history, one reading now.
   */
  samplesSince(sinceNs: number): Reading[] {
    if (this.released) return [];
    if (this.cpuFallback !== null) {
      const reading = this.latest();
      return reading.timestampNs > sinceNs ? [reading] : [];
    }
    return this.lease.sampler.recentSamples(sinceNs);
  }

  /** The sampler's counters of trouble (read errors, anomalies, wraps). */
  stats(): SamplerStats {
    return this.lease.sampler.stats();
  }

  /** Give the lease back; idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.cpuFallback?.stop();
    this.lease.release();
  }
}

/** Lease the shared sampler for these options and wrap it (throws what `acquireSampler` throws). */
export function openSamplerSource(options: SamplerSourceOptions = {}): SamplerSource {
  const { cpuTimesFallback = null, ...samplerOptions } = options;
  const lease = acquireSampler(samplerOptions);
  try {
    return new SamplerSource(lease, cpuTimesFallback);
  } catch (error) {
    lease.release();
    throw error;
  }
}
