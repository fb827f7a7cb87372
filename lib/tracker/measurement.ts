/**
 * Where a tracker's readings come from: the shared native sampler when the addon loads, else
 * the pure-JavaScript CPU-time sampler (estimates only). The fallback is announced once per
 * process with the reason and the fix; `LET_REQUIRE_NATIVE=1` turns it into an error.
 *
 * Where the addon loads but finds no /proc/stat (macOS, some sandboxes) and no CPU counter
 * measures the run, the CPU times for the estimate come from `os.cpus()`/`process.cpuUsage()`
 * (`JsCpuSampler`) instead, marked `cpu.origin: 'os-cpus'` so that the record says so.
 */
import { cpus } from 'node:os';
import type { DomainInfo, Reading, SamplerStats, UnavailableSensor } from '../native/types.js';
import type { SamplerOptions } from '../native/sampler-options.js';
import { openSamplerSource, type CpuTimesProvider } from '../native/sampler-source.js';
import { tryLoadNativeBinding } from '../native/loader.js';
import { CPU_LOAD_MODEL, JsCpuSampler } from '../estimate/index.js';
import { cpuEnergyDomains, cpuTimesUse } from './components.js';
import type { TrackingMode } from './options.js';

/**
 * Options a measurement source needs: the sampler's (the one {@link SamplerOptions} type, as the
 * tracker's resolved options carry them) and what decides the CPU times the thread reads.
 */
export interface MeasurementOptions extends Omit<SamplerOptions, 'samplingIntervalMs' | 'cpuTimes' | 'loadModel'> {
  samplingIntervalMs: number;
  /** With the discovered domains, decides which CPU times the sampling thread reads ({@link cpuTimesUse}). */
  trackingMode: TrackingMode;
  /** A live view reads power as the run goes. */
  live: boolean;
}

/** A source of cumulative readings for one tracker. */
export interface MeasurementSource {
  /**
   * `native`: readings and the ring of recent samples from the addon's sampler; `fallback`:
   * readings taken on demand, with CPU times from the JavaScript estimator (the addon could not
   * be loaded: no counters; or it found no /proc/stat: counters, CPU times from os.cpus()).
   */
  readonly kind: 'native' | 'fallback';
  readonly domains: readonly DomainInfo[];
  readonly unavailable: readonly UnavailableSensor[];
  /** CPU model name as the sampler found it ('' when unknown). */
  readonly cpuModel: string;
  /** Why the addon could not be loaded (null when it was, even where it found no /proc/stat). */
  readonly fallbackReason: string | null;
  /** Fresh reading (exact). */
  read(): Reading;
  /** Latest reading without touching hardware. */
  latest(): Reading;
  /** Readings taken after `sinceNs` (native: the sampler's ring; fallback: one reading now). */
  samplesSince(sinceNs: number): Reading[];
  /** The machine's available memory now, bytes, or null (then `os.freemem()` answers). */
  availableMemoryBytes(): number | null;

  /** The native sampler's counters of trouble (read errors, anomalies, wraps); null for the fallback. */
  stats(): SamplerStats | null;
  /** Give the source back; idempotent. */
  release(): void;
}

let fallbackWarned = false;

/** True when `LET_REQUIRE_NATIVE` asks for measurements or an error. */
export function nativeRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.LET_REQUIRE_NATIVE;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

class FallbackSource implements MeasurementSource {
  readonly kind = 'fallback' as const;
  readonly domains: readonly DomainInfo[] = [];
  readonly unavailable: readonly UnavailableSensor[] = [];
  readonly cpuModel: string = cpus()[0]?.model?.trim() ?? '';
  private readonly sampler: JsCpuSampler;
  private released = false;
  constructor(readonly fallbackReason: string, samplingIntervalMs: number) {
    this.sampler = new JsCpuSampler({ intervalMs: Math.max(samplingIntervalMs, 100) });
    this.sampler.start();
  }
  private reading(): Reading {
    return { timestampNs: Number(process.hrtime.bigint()), energyUj: [], attributedUj: [], cpu: this.sampler.read() };
  }
  read(): Reading {
    return this.reading();
  }
  latest(): Reading {
    return this.reading();
  }
  samplesSince(sinceNs: number): Reading[] {
    if (this.released) return [];
    const reading = this.reading();
    return reading.timestampNs > sinceNs ? [reading] : [];
  }
  stats(): null {
    return null;
  }
  availableMemoryBytes(): null {
    return null;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    this.sampler.stop();
  }
}

/**
 * CPU times from `os.cpus()`/`process.cpuUsage()` for a sampler without /proc/stat, or null
 * where they cannot stand in: `process.cpuUsage()` covers this process only (no children), so
 * not for a process-mode estimate of another process or of a process tree.
 */
function osCpuTimes(options: MeasurementOptions): CpuTimesProvider | null {
  const otherProcess = options.attributionPid != null && options.attributionPid !== process.pid;
  if (options.trackingMode === 'process' && (otherProcess || options.includeDescendants === true)) return null;
  const sampler = new JsCpuSampler({ intervalMs: Math.max(options.samplingIntervalMs, 100) });
  sampler.start();
  return sampler;
}

/**
 * Open a measurement source for one tracker. Throws only when `LET_REQUIRE_NATIVE` is set
 * and the addon cannot be loaded.
 */
export function openMeasurement(options: MeasurementOptions): MeasurementSource {
  const loaded = tryLoadNativeBinding();
  if (loaded.binding !== null) {
    const { trackingMode, live } = options;
    // The sampler's options picked one by one: a rest copy of a tracker's whole options costs
    // more than the rest of opening a pooled sampler.
    return openSamplerSource({
      hardwareRoot: options.hardwareRoot,
      nvmlLibrary: options.nvmlLibrary,
      gpuIds: options.gpuIds,
      attributionPid: options.attributionPid,
      includeDescendants: options.includeDescendants,
      samplingIntervalMs: options.samplingIntervalMs,
      loadModel: CPU_LOAD_MODEL,
      cpuTimes: (domains) => cpuTimesUse(domains, trackingMode, live),
      cpuTimesFallback: (domains) => (cpuEnergyDomains(domains).length === 0 ? osCpuTimes(options) : null),
    });
  }
  const reason = loaded.error.message;
  if (nativeRequired()) {
    throw new Error(`${reason}\n(LET_REQUIRE_NATIVE is set, so energy tracking refuses to fall back to estimates.)`, {
      cause: loaded.error,
    });
  }
  if (!fallbackWarned) {
    fallbackWarned = true;
    process.emitWarning(
      `lamarr-energy-tracker: the native sampler could not be loaded, so energy is ESTIMATED from CPU load and TDP (no hardware counters are read).\n${reason}\nSet LET_REQUIRE_NATIVE=1 to make this an error.`,
      { code: 'LET_NATIVE_UNAVAILABLE' },
    );
  }
  return new FallbackSource(reason, options.samplingIntervalMs);
}
