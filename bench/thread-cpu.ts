/**
 * What the sampler-thread benches share: the CPU time of one thread of this process (from
 * /proc/self/task/<tid>/schedstat) while a sampler samples, and the baseline program
 * (bench/native-wake-floor.cpp) that only wakes up at the same rate.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** The ids of this process's threads. */
export const threadIds = (): Set<string> => new Set(readdirSync('/proc/self/task'));

/** CPU time a thread of this process has used, ns. */
export const cpuNs = (tid: string): number => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

/** The part of a sampler these benches drive (pooled, direct or an older build's). */
export interface BenchSampler {
  acquire(intervalMs: number, use?: unknown): number;
  release(token: number): void;
  stats(): { samples: number };
}

/** What a sampler thread cost while it sampled. */
export interface ThreadCost {
  /** CPU time over wall time, share of one core. */
  share: number;
  /** CPU time per sampling tick, µs. */
  perTickUs: number;
  /** Ticks taken. */
  samples: number;
}

/**
 * The CPU share of the thread `sampler.acquire` starts, over `seconds` of sampling every
 * `intervalMs`, while `tick()` is called about every millisecond from this thread (to keep
 * simulated counters moving as hardware would).
 */
export async function samplerThreadCost(sampler: BenchSampler, intervalMs: number, seconds: number, tick: () => void, use?: unknown): Promise<ThreadCost> {
  const before = threadIds();
  const token = use === undefined ? sampler.acquire(intervalMs) : sampler.acquire(intervalMs, use);
  await sleep(30);
  const tid = [...threadIds()].find((id) => !before.has(id));
  if (tid === undefined || !existsSync(`/proc/self/task/${tid}/schedstat`)) throw new Error('sampler thread not found');
  const c0 = cpuNs(tid);
  const w0 = process.hrtime.bigint();
  const s0 = sampler.stats().samples;
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    tick();
    await sleep(1);
  }
  const c1 = cpuNs(tid);
  const w1 = process.hrtime.bigint();
  const samples = sampler.stats().samples - s0;
  sampler.release(token);
  return { share: (c1 - c0) / Number(w1 - w0), perTickUs: (c1 - c0) / Math.max(1, samples) / 1000, samples };
}

/** Compile bench/native-wake-floor.cpp (g++ is required: it is the baseline). */
export function buildWakeFloor(): { bin: string; dir: string } {
  const src = fileURLToPath(new URL('./native-wake-floor.cpp', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'let-wake-'));
  const bin = join(dir, 'wake-floor');
  const r = spawnSync('g++', ['-O2', '-std=c++17', '-pthread', src, '-o', bin]);
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`this bench needs g++ for its baseline: ${r.stderr?.toString() ?? r.error}`);
  }
  return { bin, dir };
}

/** The baseline thread's CPU share and cost per wake-up, waking every `intervalMs` for `seconds` ('cv': timed condition-variable wait; 'sleep': clock_nanosleep). */
export function wakeFloor(bin: string, intervalMs: number, seconds: number, mode: 'cv' | 'sleep' = 'cv'): { share: number; perWakeUs: number } {
  const [n, cpu, wall] = execFileSync(bin, [String(intervalMs), String(seconds), mode]).toString().trim().split(' ').map(Number);
  return { share: cpu! / wall!, perWakeUs: cpu! / Math.max(1, n!) / 1000 };
}
