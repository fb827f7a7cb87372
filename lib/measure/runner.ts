/**
 * Running a measurement: idle windows before, warm-up, calibration of the batch size, the
 * measured batches, idle windows after. Reads counters and calls the function; computes
 * nothing beyond what the next step needs (the figures come from `analysis.ts`).
 */
import type { CounterReading, EnergyCounterSource } from './source.js';
import type { MeasurementPlan, ResolvedOptions } from './plan.js';

/** One measured batch: its duration and the energy per measured domain. */
export interface BatchRecord {
  durationNs: number;
  /** µJ per measured domain. */
  energyUj: number[];
}

/** One idle window: its duration, energy per measured domain, and side of the run. */
export interface IdleWindow {
  durationNs: number;
  /** µJ per measured domain. */
  energyUj: number[];
  phase: 'before' | 'after';
}

/** What the run produced, for the analysis. */
export interface RunResult {
  /** The measured batches (all of the same size). */
  records: BatchRecord[];
  /** Calls per batch. */
  callsPerBatch: number;
  idle: IdleWindow[];
  /** Whether the function returned promises. */
  isAsync: boolean;
}

/** Monotonic time in ns. */
export function nowNs(): number {
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

/**
 * Run the measurement of `fn` on `source` as planned. `startNs` is when measureEnergy began
 * (the time budget counts from there).
 */
export async function runMeasurement(
  fn: () => unknown,
  source: EnergyCounterSource,
  plan: MeasurementPlan,
  o: ResolvedOptions,
  startNs: number,
): Promise<RunResult> {
  const { positions, domains, domainMinUj, minBatchMs } = plan;
  const read = (): CounterReading => source.read();
  const delta = (a: CounterReading, b: CounterReading): number[] => positions.map((i) => b.energyUj[i]! - a.energyUj[i]!);

  const idle: IdleWindow[] = [];
  const readIdle = async (phase: 'before' | 'after'): Promise<void> => {
    let prev = read();
    for (let w = 0; w < o.idleWindows; w++) {
      await sleep(plan.idleWindowMs);
      const cur = read();
      idle.push({ durationNs: cur.timestampNs - prev.timestampNs, energyUj: delta(prev, cur), phase });
      prev = cur;
    }
  };

  // 1. idle before, after a short settle (opening the sampler and loading code is work too)
  if (plan.needIdle) {
    await sleep(Math.min(plan.idleWindowMs, 50));
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

  const elapsedMs = (): number => (nowNs() - startNs) / 1e6;
  const batchCapMs = (): number => Math.max(1, (o.maxTimeMs - elapsedMs() - plan.idlePhaseMs) / (o.batches + 1));

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

  // 4. batches, back to back (each batch's end reading is the next one's start), appended to
  //    `into` until it holds `o.batches`. Returns by how much the worst batch fell short of the
  //    criteria (≤ 1: met); with `stopOnShortfall`, stops at the first batch that falls short.
  const measureBatches = async (into: BatchRecord[], calls: number, stopOnShortfall: boolean): Promise<number> => {
    let prev = read();
    let shortfall = 1;
    while (into.length < o.batches) {
      await runBatch(calls);
      const cur = read();
      const rec = { durationNs: cur.timestampNs - prev.timestampNs, energyUj: delta(prev, cur) };
      into.push(rec);
      prev = cur;
      shortfall = Math.max(shortfall, (minBatchMs * 1e6) / Math.max(1, rec.durationNs));
      for (let k = 0; k < domains.length; k++) {
        const e = rec.energyUj[k]!;
        shortfall = Math.max(shortfall, e > 0 ? domainMinUj[k]! / e : 10);
      }
      if (shortfall > 1 && stopOnShortfall) break;
    }
    return shortfall;
  };

  // A series whose batches fall short of the criteria (calls got faster once the JIT settled)
  // is restarted with larger batches while the budget allows; out of budget, it is finished
  // with the batch size it has.
  let records: BatchRecord[] = [];
  for (let attempt = 0; ; attempt++) {
    records = [];
    const shortfall = await measureBatches(records, n, o.fixedN === undefined);
    if (shortfall <= 1 || attempt >= 4 || o.fixedN !== undefined) break;
    const recNsPerCall = records.reduce((s, r) => s + r.durationNs, 0) / (records.length * n);
    const maxN = Math.max(1, Math.floor((batchCapMs() * 1e6) / recNsPerCall));
    const next = Math.min(maxN, Math.ceil(n * Math.min(100, shortfall * 1.5)));
    if (next <= n) {
      await measureBatches(records, n, false);
      break;
    }
    n = next;
  }

  // 5. idle after
  if (plan.needIdle) await readIdle('after');

  return { records, callsPerBatch: n, idle, isAsync };
}
