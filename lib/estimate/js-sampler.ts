/**
 * Pure-JavaScript CPU-time sampler: the fallback when the native addon cannot be loaded at all
 * or on platforms without it. It gives the same cumulative {@link CpuTimes} as a native
 * reading, from `os.cpus()` (machine busy/total time, per libuv) and `process.cpuUsage()`
 * (this process's user + system time), and integrates CodeCarbon's load model per sampling
 * interval into `loadModelS`, so `TDP × ΔloadModelS` is the machine-mode estimate and
 * `TDP × ΔprocessS ÷ logicalCpus` the process-mode estimate.
 *
 * Limits: children's CPU time is not included (`process.cpuUsage()` covers this process only);
 * `os.cpus()` counts in clock ticks (10 ms per CPU on Linux), so very short intervals see no
 * change — such an interval is integrated with the previous interval's load.
 */
import { cpus as osCpus, type CpuInfo } from 'node:os';
import type { CpuTimes } from '../native/types.js';
import { loadModelFactor } from './cpu-power.js';

/** Options of {@link JsCpuSampler}. */
export interface JsCpuSamplerOptions {
  /** Sampling interval in ms (default 1000; at least 10). */
  intervalMs?: number;
  /** Source of per-CPU times (default `os.cpus`); injectable for tests. Times in ms. */
  cpus?: () => CpuInfo[];
  /** Source of this process's CPU time (default `process.cpuUsage`), µs. */
  cpuUsage?: () => NodeJS.CpuUsage;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

interface MachineTimes {
  totalS: number;
  busyS: number;
  count: number;
}

function machineTimes(list: CpuInfo[]): MachineTimes | null {
  if (!Array.isArray(list) || list.length === 0) return null;
  let total = 0;
  let idle = 0;
  for (const c of list) {
    const t = c.times;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
    idle += t.idle;
  }
  if (!(total > 0)) return null;
  return { totalS: total / 1000, busyS: (total - idle) / 1000, count: list.length };
}

/**
 * Samples machine and process CPU time on an unref'd timer and integrates CodeCarbon's load
 * model. `read()` takes a fresh sample and returns cumulative totals: `machineTotalS`,
 * `machineBusyS` and `processS` are the counters' absolute values (since boot / process
 * start; use differences), `loadModelS` is integrated since `start()`.
 */
export class JsCpuSampler {
  /** Effective sampling interval, ms. */
  readonly intervalMs: number;
  private readonly cpus: () => CpuInfo[];
  private readonly cpuUsage: () => NodeJS.CpuUsage;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private lastWallMs = 0;
  private last: MachineTimes | null = null;
  private lastLoad = 0;
  private loadModelS = 0;
  private processS = 0;
  private started = false;

  constructor(options: JsCpuSamplerOptions = {}) {
    const interval = options.intervalMs ?? 1000;
    this.intervalMs = Number.isFinite(interval) ? Math.max(10, Math.round(interval)) : 1000;
    this.cpus = options.cpus ?? osCpus;
    this.cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether the timer is running. */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Take a baseline (first call only) and start the timer. Idempotent. */
  start(): void {
    if (this.timer) return;
    if (!this.started) {
      this.started = true;
      this.last = this.safeMachineTimes();
      this.lastWallMs = this.now();
      this.processS = this.readProcessS();
    } else {
      this.sample();
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Take a last sample and stop the timer. Idempotent; `read()` keeps working (and sampling) afterwards. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  /** Take a fresh sample now and return the cumulative totals. Starts the baseline if `start()` was never called. */
  read(): CpuTimes {
    if (!this.started) {
      this.started = true;
      this.last = this.safeMachineTimes();
      this.lastWallMs = this.now();
      this.processS = this.readProcessS();
    } else this.sample();
    const m = this.last;
    if (!m) {
      return { available: false, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: 0, logicalCpus: 0 };
    }
    return {
      available: true,
      machineTotalS: m.totalS,
      machineBusyS: m.busyS,
      processS: this.processS,
      loadModelS: this.loadModelS,
      logicalCpus: m.count,
    };
  }

  private safeMachineTimes(): MachineTimes | null {
    try {
      return machineTimes(this.cpus());
    } catch {
      return null;
    }
  }

  private readProcessS(): number {
    const u = this.cpuUsage();
    return (u.user + u.system) / 1e6;
  }

  /** One sampling step: integrate the load model over the time since the previous step. */
  private sample(): void {
    const nowMs = this.now();
    const m = this.safeMachineTimes();
    this.processS = Math.max(this.processS, this.readProcessS());
    const dtS = (nowMs - this.lastWallMs) / 1000;
    if (!m) return; // keep the last state; nothing to integrate
    if (!this.last || m.count !== this.last.count) {
      // first usable sample, or CPUs hot-plugged: re-baseline
      this.last = m;
      this.lastWallMs = nowMs;
      return;
    }
    if (dtS <= 0) return;
    const dTotal = m.totalS - this.last.totalS;
    const dBusy = m.busyS - this.last.busyS;
    if (dTotal > 0) this.lastLoad = Math.min(1, Math.max(0, dBusy / dTotal));
    this.loadModelS += loadModelFactor(this.lastLoad) * dtS;
    this.last = m;
    this.lastWallMs = nowMs;
  }
}
