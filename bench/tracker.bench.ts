/**
 * Tracker benchmark: the cost of a whole tracked run's bookkeeping, `start()` + `stop()` with
 * its CSV append, against plain baselines measured in the same run:
 *
 *   node --import tsx bench/tracker.bench.ts [--runs 200] [--rounds 5]
 *
 * - `readFileSync` of the files a reading touches (the 6 counter files of the simulated two-socket
 *   machine, proc/stat and the process's stat: 8 files), once and twice (a run reads at start
 *   and at stop): the cost of the hardware access alone;
 * - `appendFileSync` of one preformatted row (no lock, no fsync): the cheapest possible store;
 * - `appendFileSync` + fsync: the cheapest store that survives a power cut;
 * - `start()`+`stop()` with `save: false`: the measurement alone (two fresh counter readings,
 *   record building), on a simulated hardware root with two sockets;
 * - `start()`+`stop()` with `save: true`: the above plus `appendRecord` (lock, one write, fsync).
 * The contenders are interleaved in `--rounds` rounds of `--runs` each; medians per operation.
 */
import { appendFileSync, closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyTracker } from '../lib/tracker/energy-tracker.js';
import { formatRecordRow } from '../lib/store/index.js';
import { intelServer } from '../test/fixtures/fake-hardware.js';
import { middleSample } from './stats.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const runs = option('--runs', 200);
const rounds = option('--rounds', 5);

const { hw } = intelServer(2, 2);
const dir = mkdtempSync(join(tmpdir(), 'let-bench-tracker-'));
const base = { hardwareRoot: hw.root, nvmlLibrary: '', outputDir: dir, printSummary: false, projectName: 'bench' } as const;

// A representative row, produced by the tracker itself.
const sample = new EnergyTracker({ ...base, save: false }).start().stop();
const row = formatRecordRow(sample);
// The files one reading touches: every counter, proc/stat and the process's stat.
const readingFiles = [
  ...['0', '0:0', '0:1', '1', '1:0', '1:1'].map((zone) => hw.path('sys/class/powercap', `intel-rapl:${zone}`, 'energy_uj')),
  hw.path('proc/stat'),
  hw.path('proc', String(hw.selfPid), 'stat'),
];
const readAll = () => {
  for (const file of readingFiles) readFileSync(file);
};

function timePerOp(operation: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) operation();
  return Number(process.hrtime.bigint() - start) / runs / 1000; // µs
}

const contenders: Record<string, () => void> = {
  'readFileSync of the 8 files a reading touches': readAll,
  'readFileSync of the 8 files, twice (start and stop)': () => {
    readAll();
    readAll();
  },
  'appendFileSync (no lock, no fsync)': () => appendFileSync(join(dir, 'plain.csv'), row),
  'appendFileSync + fsync': () => {
    const fd = openSync(join(dir, 'synced.csv'), 'a');
    try {
      appendFileSync(fd, row);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  'start()+stop(), save: false': () => {
    new EnergyTracker({ ...base, save: false }).start().stop();
  },
  'start()+stop(), save: false, handleSignals: false': () => {
    new EnergyTracker({ ...base, save: false, handleSignals: false }).start().stop();
  },
  'start()+stop(), save: true (appendRecord)': () => {
    new EnergyTracker({ ...base }).start().stop();
  },
};

const samples = new Map<string, number[]>(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, operation] of Object.entries(contenders)) samples.get(name)!.push(timePerOp(operation));
}
const medians = new Map([...samples].map(([name, values]) => [name, middleSample(values)]));
const plain = medians.get('appendFileSync (no lock, no fsync)')!;
const synced = medians.get('appendFileSync + fsync')!;

console.log(`tracker bench: ${rounds} rounds × ${runs} operations, medians; Node ${process.version}`);
const files = medians.get('readFileSync of the 8 files a reading touches')!;
console.log('| operation | µs per run | vs 8-file readFileSync | vs appendFileSync | vs appendFileSync + fsync |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, value] of medians) {
  console.log(`| ${name} | ${value.toFixed(1)} | ${(value / files).toFixed(2)}× | ${(value / plain).toFixed(1)}× | ${(value / synced).toFixed(2)}× |`);
}

hw.cleanup();
rmSync(dir, { recursive: true, force: true });
