/**
 * One native sampler per distinct configuration, shared by every tracker of this process (or
 * worker). `acquireSampler()` returns a lease; the sampler's thread samples while at least one
 * lease holds it (at the shortest interval any lease asked for). When the last lease is released,
 * the sampler (its open counter files, NVML) stays open for `LET_SAMPLER_IDLE_MS` (default
 * 2000 ms), so that back-to-back runs pay neither for discovery again (2–3 ms) nor for a new
 * thread: its thread is parked (it waits with no deadline: no CPU, no wake-up) and the next
 * acquire wakes it. Then the sampler is closed, which stops and joins the thread. The timer
 * never keeps the process alive, and the addon's env cleanup hook closes whatever is still open
 * at exit (process.exit, a worker's end or terminate). `closeIdleSamplers()` closes the idle
 * ones at once.
 *
 * Key: the options after `resolveSamplerOptions` (sampler-options.ts: the `LET_*` defaults).
 * Each lease tells the sampler which CPU times its ticks need (`cpuTimes`, decided by the caller
 * from the discovered domains); the thread reads the union of what the leases need. Callers
 * use a lease through the one wrapper over it, `SamplerSource` (sampler-source.ts).
 */
import { loadNativeBinding } from './loader.js';
import { readingBufferLength, readingFromBuffer } from './reading-buffer.js';
import { resolveSamplerOptions, resolveSamplingIntervalMs, type ResolvedSamplerOptions, type SamplerOptions } from './sampler-options.js';
import type { NativeSampler, ProbeResult, Reading } from './types.js';

export { resolveSamplerOptions, type SamplerOptions } from './sampler-options.js';

export interface SamplerLease {
  readonly sampler: NativeSampler;
  /** Fresh reading (exact start/stop). */
  read(): Reading;
  /** Latest totals, no hardware access. */
  latest(): Reading;
  /** The sampler's discovery findings (what it measures, what it cannot read): found once per sampler. */
  probe(): ProbeResult;
  /**
   * Whether the sampler could read the machine's CPU times when it opened (its baseline reading,
   * taken at construction: it never changes for a sampler). Found once per sampler.
   */
  cpuTimesAvailable(): boolean;
  /** Give the lease back; idempotent. */
  release(): void;
  readonly released: boolean;
}

interface Entry {
  key: string;
  sampler: NativeSampler;
  leases: number;
  /**
   * The idle-close timer, or null. It is not cleared and re-armed for every run: when it fires
   * it closes the sampler only when no lease holds it and the last release is
   * `LET_SAMPLER_IDLE_MS` old, else it waits again for the rest (or stops while leased).
   */
  idleTimer: NodeJS.Timeout | null;
  /** performance.now() of the last release that left the sampler without a lease. */
  idleSinceMs: number;
  /** The sampler's probe(), taken on first use: discovery is done once, so it never changes. */
  probe: ProbeResult | null;
  /** Whether its baseline reading had CPU times, taken on first use (it never changes). */
  cpuTimesAvailable: boolean | null;
  /** The buffer fresh readings are written into (readInto), made on first use; copied out at once. */
  buffer: Float64Array | null;
}

/** A fresh reading of the entry's sampler: through its buffer where the addon can, else read(). */
function readFresh(entry: Entry): Reading {
  const { sampler } = entry;
  if (typeof sampler.readInto !== 'function') return sampler.read();
  const domains = sampler.domains.length;
  entry.buffer ??= new Float64Array(readingBufferLength(domains));
  sampler.readInto(entry.buffer);
  return readingFromBuffer(entry.buffer, domains);
}

const pool = new Map<string, Entry>();

/** How long an idle sampler stays open: `LET_SAMPLER_IDLE_MS`, default 2000 ms (0 = close at once). */
export function samplerIdleCloseMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.LET_SAMPLER_IDLE_MS);
  return env.LET_SAMPLER_IDLE_MS !== undefined && env.LET_SAMPLER_IDLE_MS !== '' && Number.isFinite(value) && value >= 0 ? value : 2000;
}

function closeEntry(entry: Entry): void {
  if (entry.idleTimer !== null) clearTimeout(entry.idleTimer);
  entry.idleTimer = null;
  if (pool.get(entry.key) === entry) pool.delete(entry.key);
  entry.sampler.close();
}

/** Timer callback (JS thread): close the idle sampler once its idle window has passed. */
function onIdleTimer(entry: Entry): void {
  entry.idleTimer = null;
  if (entry.leases > 0 || pool.get(entry.key) !== entry) return;
  const remainingMs = entry.idleSinceMs + samplerIdleCloseMs() - performance.now();
  if (remainingMs > 0) armIdleTimer(entry, remainingMs);
  else closeEntry(entry);
}

function armIdleTimer(entry: Entry, ms: number): void {
  entry.idleTimer = setTimeout(onIdleTimer, Math.ceil(ms), entry);
  entry.idleTimer.unref(); // never keeps the process alive
}

/** Close every pooled sampler that no lease holds (their threads parked or stopped: close joins them). */
export function closeIdleSamplers(): void {
  for (const entry of [...pool.values()]) if (entry.leases === 0) closeEntry(entry);
}

function keyOf(o: ResolvedSamplerOptions): string {
  return JSON.stringify([o.hardwareRoot, o.nvmlLibrary, o.gpuIds, o.attributionPid ?? 0, o.includeDescendants, o.loadModel ?? null, o.simulateUnprivileged]);
}

/** Lease the shared sampler for these options (created on first use). */
export function acquireSampler(options: SamplerOptions = {}): SamplerLease {
  const interval = resolveSamplingIntervalMs(options.samplingIntervalMs);
  const resolved = resolveSamplerOptions(options);
  const { cpuTimes } = options;
  const key = keyOf(resolved);
  let entry = pool.get(key);
  if (entry === undefined) {
    const binding = loadNativeBinding();
    entry = { key, sampler: new binding.Sampler(resolved), leases: 0, idleTimer: null, idleSinceMs: 0, probe: null, cpuTimesAvailable: null, buffer: null };
    pool.set(key, entry);
  }
  const use = typeof cpuTimes === 'function' ? cpuTimes(entry.sampler.domains) : cpuTimes;
  const token = use == null ? entry.sampler.acquire(interval) : entry.sampler.acquire(interval, use);
  entry.leases++;
  const e = entry;
  let released = false;
  return {
    sampler: e.sampler,
    read: () => {
      if (released) throw new Error('this sampler lease was released');
      return readFresh(e);
    },
    latest: () => {
      if (released) throw new Error('this sampler lease was released');
      return e.sampler.latest();
    },
    probe: () => (e.probe ??= e.sampler.probe()),
    cpuTimesAvailable: () => (e.cpuTimesAvailable ??= e.sampler.latest().cpu.available),
    release: () => {
      if (released) return;
      released = true;
      const last = e.leases === 1;
      const idleMs = last ? samplerIdleCloseMs() : 0;
      // The last lease parks the thread for the idle window (joined when the sampler closes).
      e.sampler.release(token, last && idleMs > 0);
      e.leases--;
      if (!last) return;
      if (idleMs === 0) closeEntry(e);
      else {
        e.idleSinceMs = performance.now();
        if (e.idleTimer === null) armIdleTimer(e, idleMs);
      }
    },
    get released() {
      return released;
    },
  };
}

/** Samplers currently pooled, held or idle (for tests). */
export function pooledSamplerCount(): number {
  return pool.size;
}
