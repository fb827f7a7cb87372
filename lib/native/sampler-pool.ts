/**
 * One native sampler per distinct configuration, shared by every tracker of this process (or
 * worker). `acquireSampler()` returns a lease; the sampler's thread runs while at least one lease
 * holds it (at the shortest interval any lease asked for) and the sampler is closed when the
 * last lease is released.
 *
 * Key: (hardwareRoot, nvmlLibrary, gpuIds, attributionPid, includeDescendants), after defaults
 * (`LET_HARDWARE_ROOT` or `/`, `LET_NVML_LIBRARY` or `libnvidia-ml.so.1`).
 */
import { loadNativeBinding } from './loader.js';
import type { NativeSampler, NativeSamplerOptions, Reading } from './types.js';

export interface SamplerLease {
  readonly sampler: NativeSampler;
  /** Fresh reading (exact start/stop). */
  read(): Reading;
  /** Latest totals, no hardware access. */
  latest(): Reading;
  /** Give the lease back; idempotent. */
  release(): void;
  readonly released: boolean;
}

export type AcquireOptions = NativeSamplerOptions & { samplingIntervalMs?: number };

interface Entry {
  key: string;
  sampler: NativeSampler;
  leases: number;
}

const pool = new Map<string, Entry>();

/** Options with the environment defaults applied, as the key sees them. */
export function resolveSamplerOptions(options: NativeSamplerOptions = {}, env: NodeJS.ProcessEnv = process.env): Required<Omit<NativeSamplerOptions, 'attributionPid'>> & { attributionPid?: number } {
  const root = options.hardwareRoot ?? (env.LET_HARDWARE_ROOT !== undefined && env.LET_HARDWARE_ROOT !== '' ? env.LET_HARDWARE_ROOT : '/');
  const nvml = options.nvmlLibrary ?? env.LET_NVML_LIBRARY ?? 'libnvidia-ml.so.1';
  const resolved: Required<Omit<NativeSamplerOptions, 'attributionPid'>> & { attributionPid?: number } = {
    hardwareRoot: root,
    nvmlLibrary: nvml,
    gpuIds: [...(options.gpuIds ?? [])],
    includeDescendants: options.includeDescendants ?? false,
  };
  if (options.attributionPid !== undefined && options.attributionPid !== process.pid) resolved.attributionPid = options.attributionPid;
  return resolved;
}

function keyOf(o: ReturnType<typeof resolveSamplerOptions>): string {
  return JSON.stringify([o.hardwareRoot, o.nvmlLibrary, o.gpuIds, o.attributionPid ?? 0, o.includeDescendants]);
}

/** Lease the shared sampler for these options (created on first use). */
export function acquireSampler(options: AcquireOptions = {}): SamplerLease {
  const { samplingIntervalMs, ...rest } = options;
  const interval = samplingIntervalMs ?? 1000;
  if (!Number.isFinite(interval) || interval < 1 || interval > 60000) {
    throw new RangeError(`samplingIntervalMs must be between 1 and 60000, got ${interval}`);
  }
  const resolved = resolveSamplerOptions(rest);
  const key = keyOf(resolved);
  let entry = pool.get(key);
  if (entry === undefined) {
    const binding = loadNativeBinding();
    entry = { key, sampler: new binding.Sampler(resolved), leases: 0 };
    pool.set(key, entry);
  }
  const token = entry.sampler.acquire(interval);
  entry.leases++;
  const e = entry;
  let released = false;
  return {
    sampler: e.sampler,
    read: () => {
      if (released) throw new Error('this sampler lease was released');
      return e.sampler.read();
    },
    latest: () => {
      if (released) throw new Error('this sampler lease was released');
      return e.sampler.latest();
    },
    release: () => {
      if (released) return;
      released = true;
      e.sampler.release(token);
      e.leases--;
      if (e.leases === 0) {
        if (pool.get(e.key) === e) pool.delete(e.key);
        e.sampler.close();
      }
    },
    get released() {
      return released;
    },
  };
}

/** Samplers currently pooled (for tests). */
export function pooledSamplerCount(): number {
  return pool.size;
}
