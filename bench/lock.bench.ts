/**
 * Lock benchmark: the cost of taking and releasing the store's lock once (uncontended), as a
 * ratio against opening and closing the same lock file, measured in the same run.
 *
 *   node --import tsx bench/lock.bench.ts [--n 2000] [--rounds 5] [--json]
 *
 * - baseline: `openSync(lockFile, 'r+')` + `closeSync` of the kernel lock's file;
 * - `withLock(file, noop)` with the kernel lock (`fcntl`: open, fstat, F_OFD_SETLK, write of the
 *   holder text, a look for a lock file of the fallback, and at release ftruncate and close);
 * - the addon's `lockTry` + `lockRelease` alone (no TypeScript around it);
 * - `withLock(file, noop)` with the lock-file fallback (`file`: temp file, link, unlink,
 *   and unlink at release).
 * Rounds interleave the contenders so that drift affects all alike; figures are medians of
 * the rounds' per-operation means.
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeBinding } from '../lib/native/loader.js';
import { LOCK_FILE_SUFFIX, withLock } from '../lib/store/lock.js';
import { median } from './stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  return Number.isFinite(v) && v > 0 ? v : def;
};


function timeEach(n: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

const N = opt('--n', 2000);
const ROUNDS = opt('--rounds', 5);
const dir = mkdtempSync(join(tmpdir(), 'let-bench-lock-'));
try {
  const file = join(dir, 'emissions.csv');
  const lockFile = `${file}${LOCK_FILE_SUFFIX}`;
  const binding = loadNativeBinding();
  const { lockTry, lockRelease } = binding;
  if (typeof lockTry !== 'function' || typeof lockRelease !== 'function' || binding.lockSupported !== true) {
    throw new Error('this addon has no kernel lock (rebuild it: npx node-gyp rebuild)');
  }
  withLock(file, () => undefined, { lockMethod: 'fcntl' }); // creates the lock file
  const holder = '{"pid":1}\n';
  const contenders: Array<[string, () => void]> = [
    ["openSync(lockFile, 'r+') + closeSync (baseline)", () => closeSync(openSync(lockFile, 'r+'))],
    ["withLock(file, noop), lockMethod 'fcntl'", () => withLock(file, () => undefined, { lockMethod: 'fcntl' })],
    ['lockTry + lockRelease (addon alone)', () => lockRelease(lockTry(lockFile, holder) as number)],
    ["withLock(file, noop), lockMethod 'file'", () => withLock(file, () => undefined, { lockMethod: 'file' })],
  ];
  for (const [, fn] of contenders) timeEach(Math.max(1, N / 10), fn); // warm-up
  const perRound: number[][] = contenders.map(() => []);
  for (let r = 0; r < ROUNDS; r++) contenders.forEach(([, fn], i) => perRound[i]!.push(timeEach(N, fn)));
  const us = perRound.map(median);
  const base = us[0] as number;
  const results = contenders.map(([name], i) => ({ name, us: us[i] as number, ratio: (us[i] as number) / base }));
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ node: process.version, n: N, rounds: ROUNDS, results }, null, 2)}\n`);
  } else {
    process.stdout.write(`Lock benchmark (Node ${process.version}, ${N} per round, medians of ${ROUNDS} interleaved rounds, uncontended)\n\n`);
    process.stdout.write('| operation | µs per lock+unlock | ratio vs open+close |\n|---|---:|---:|\n');
    for (const r of results) process.stdout.write(`| ${r.name} | ${r.us.toFixed(1)} | ${r.ratio.toFixed(2)}× |\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
