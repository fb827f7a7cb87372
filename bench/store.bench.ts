/**
 * Store benchmark: `loadResults` on a large emissions.csv and `appendRecord`, each as a ratio
 * against a plain baseline measured in the same run.
 *
 *   node --import tsx bench/store.bench.ts [--rows 100000] [--appends 300] [--repeat 5] [--json]
 *
 * - Read: `loadResults` (full parse to typed records) vs `readFileSync(file, 'utf8')` split into
 *   lines, on the same generated file. Every run is a fresh child process, so its peak memory
 *   (max RSS minus RSS before the operation; heap used after it) is its own; the figures are
 *   medians of `--repeat` runs of each side, run alternately; the ratios are medians of the
 *   per-pair ratios.
 * - Append: `appendRecord` (lock, header check, one write, fsync, unlock) vs `appendFileSync`
 *   of one preformatted row (no lock, no fsync), and, for context, `appendFileSync` + fsync;
 *   also `appendRecord` onto the large file, to show its cost does not grow with the file.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODECARBON_COLUMNS, appendRecord, appendRecords, formatHeader, formatRecordRow, loadResults } from '../lib/store/index.js';
import type { EmissionsRecord } from '../lib/store/index.js';
import { makeRecord } from '../test/store/helpers.js';
import { median } from './stats.js';

const SELF = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  return Number.isFinite(v) && v > 0 ? v : def;
};

/** Row i of the synthetic file: the store tests' complete record, varied per row. */
function record(i: number): EmissionsRecord {
  return makeRecord({
    timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().slice(0, 19),
    project_name: `project-${i % 17}`,
    user: `user${i % 5}`,
    hostname: `node-${i % 11}`,
    run_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    duration: 10 + (i % 1000) / 7,
    emissions: 1.2345678901234e-5 * (1 + (i % 13)),
    emissions_rate: 3.3360597612813955e-8,
    cpu_power: 42.123456789,
    gpu_power: i % 3 === 0 ? null : 250.5,
    cpu_energy: 2.075146180215413e-5,
    gpu_energy: 1.5234918733441896e-8,
    ram_energy: 2.1129370867499045e-5,
    energy_consumed: 4.189606758838662e-5,
    os: 'Linux-6.8.0-49-generic-x86_64-with-glibc2.39',
    gpu_count: 1,
    gpu_model: '1 x NVIDIA H200',
    gpu_utilization_percent: 80,
    gpu_energy_method: 'measured:nvml-energy',
  });
}


interface ChildResult {
  kind: string;
  medianMs: number;
  runsMs: number[];
  peakRssDeltaMb: number;
  heapUsedMb: number;
  rows: number;
}

/** Child mode: one warm-up-free run of one reader on the file, with its memory. */
function child(kind: string, dir: string): void {
  const file = join(dir, 'emissions.csv');
  const rssBefore = process.memoryUsage().rss;
  let rows = 0;
  let keep: unknown;
  const t0 = process.hrtime.bigint();
  if (kind === 'loadResults') {
    const res = loadResults({ outputDir: dir });
    rows = res.length;
    keep = res;
  } else {
    const lines = readFileSync(file, 'utf8').split('\n');
    rows = lines.length - 2; // the header, and the empty string after the last line end
    keep = lines;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;
  const peakRssDeltaMb = (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20;
  if (keep === null) process.exit(3);
  process.stdout.write(JSON.stringify({ ms, peakRssDeltaMb, heapUsedMb, rows }));
}

interface OneRun {
  ms: number;
  peakRssDeltaMb: number;
  heapUsedMb: number;
  rows: number;
}

function oneRun(kind: string, dir: string): OneRun {
  const res = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', kind, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (res.status !== 0) throw new Error(`bench child ${kind} failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as OneRun;
}

function summarise(kind: string, runs: OneRun[]): ChildResult {
  return {
    kind,
    medianMs: median(runs.map((r) => r.ms)),
    runsMs: runs.map((r) => r.ms),
    peakRssDeltaMb: median(runs.map((r) => r.peakRssDeltaMb)),
    heapUsedMb: median(runs.map((r) => r.heapUsedMb)),
    rows: runs[0]?.rows ?? 0,
  };
}

/**
 * Run the baseline and loadResults `repeat` times each, alternating, each run in a fresh
 * process (so each peak is its own). Ratios are the medians of the per-pair ratios, which
 * drift on a shared machine affects least.
 */
function runReaders(dir: string, repeat: number): { base: ChildResult; load: ChildResult; timeRatio: number; peakRssRatio: number } {
  const b: OneRun[] = [];
  const l: OneRun[] = [];
  for (let i = 0; i < repeat; i++) {
    b.push(oneRun('readFileSync+split', dir));
    l.push(oneRun('loadResults', dir));
  }
  return {
    base: summarise('readFileSync+split', b),
    load: summarise('loadResults', l),
    timeRatio: median(l.map((x, i) => x.ms / (b[i] as OneRun).ms)),
    peakRssRatio: median(l.map((x, i) => x.peakRssDeltaMb / (b[i] as OneRun).peakRssDeltaMb)),
  };
}

function timeEach(n: number, fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e6 / n;
}

interface AppendResults {
  appendRecordMs: number;
  appendRecordLargeFileMs: number;
  appendFileSyncMs: number;
  appendFileSyncFsyncMs: number;
}

function benchAppends(n: number, largeDir: string): AppendResults {
  const dir = mkdtempSync(join(tmpdir(), 'let-bench-append-'));
  try {
    const plain = join(dir, 'plain.csv');
    const plainFsync = join(dir, 'plain-fsync.csv');
    const row = formatRecordRow(record(1), CODECARBON_COLUMNS);
    writeFileSync(plain, formatHeader(CODECARBON_COLUMNS));
    writeFileSync(plainFsync, formatHeader(CODECARBON_COLUMNS));
    const ours = join(dir, 'ours');
    appendRecord(record(0), ours); // creates the file: not part of the timing
    // Interleave the contenders in rounds so that drift affects all alike.
    const rounds = 5;
    const per = Math.max(1, Math.floor(n / rounds));
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    const d: number[] = [];
    for (let r = 0; r < rounds; r++) {
      a.push(timeEach(per, (i) => appendRecord(record(i), ours)));
      b.push(timeEach(per, () => appendFileSync(plain, row)));
      c.push(
        timeEach(per, () => {
          const fd = openSync(plainFsync, 'a');
          try {
            appendFileSync(fd, row);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
        }),
      );
      d.push(timeEach(Math.max(1, Math.floor(per / 5)), (i) => appendRecord(record(i), largeDir)));
    }
    return { appendRecordMs: median(a), appendFileSyncMs: median(b), appendFileSyncFsyncMs: median(c), appendRecordLargeFileMs: median(d) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const ROWS = opt('--rows', 100_000);
  const APPENDS = opt('--appends', 300);
  const REPEAT = opt('--repeat', 5);
  const JSON_OUT = args.includes('--json');
  const dir = mkdtempSync(join(tmpdir(), 'let-bench-store-'));
  try {
    const file = join(dir, 'emissions.csv');
    // The store's own layout: CodeCarbon's 38 columns, our fields in the sidecar (one bulk append).
    appendRecords(Array.from({ length: ROWS }, (_, i) => record(i)), dir);
    const sizeMb = statSync(file).size / 2 ** 20;

    const readers = runReaders(dir, REPEAT);
    const { base, load } = readers;
    if (load.rows !== ROWS || base.rows !== ROWS) throw new Error(`row counts differ: loadResults ${load.rows}, baseline ${base.rows}, expected ${ROWS}`);
    const app = benchAppends(APPENDS, dir);

    const out = {
      node: process.version,
      rows: ROWS,
      fileMb: sizeMb,
      read: {
        loadResults: load,
        baseline: base,
        timeRatio: readers.timeRatio,
        peakRssRatio: readers.peakRssRatio,
      },
      append: { ...app, ratioVsAppendFileSync: app.appendRecordMs / app.appendFileSyncMs, ratioVsAppendFileSyncFsync: app.appendRecordMs / app.appendFileSyncFsyncMs },
    };
    if (JSON_OUT) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const f = (x: number, d = 1): string => x.toFixed(d);
    process.stdout.write(`Store benchmark (Node ${process.version}, ${ROWS} rows, ${f(sizeMb)} MiB, medians of ${REPEAT} fresh-process runs each)\n\n`);
    process.stdout.write('| read | time (ms) | peak RSS over start (MiB) | heap used after (MiB) |\n|---|---:|---:|---:|\n');
    for (const r of [base, load]) {
      process.stdout.write(`| ${r.kind} | ${f(r.medianMs)} | ${f(r.peakRssDeltaMb)} | ${f(r.heapUsedMb)} |\n`);
    }
    process.stdout.write(`| **ratio loadResults / baseline** (median of pairs) | **${f(out.read.timeRatio, 2)}×** | **${f(out.read.peakRssRatio, 2)}×** | |\n\n`);
    process.stdout.write('| append one row | time per append (µs) | ratio vs appendFileSync | ratio vs appendFileSync + fsync |\n|---|---:|---:|---:|\n');
    const us = (ms: number): string => f(ms * 1000, 0);
    const line = (name: string, ms: number): void => {
      process.stdout.write(`| ${name} | ${us(ms)} | ${f(ms / app.appendFileSyncMs, 2)}× | ${f(ms / app.appendFileSyncFsyncMs, 2)}× |\n`);
    };
    line('appendFileSync (no lock, no fsync)', app.appendFileSyncMs);
    line('appendFileSync + fsync', app.appendFileSyncFsyncMs);
    line('appendRecord (lock, header check, one write, fsync)', app.appendRecordMs);
    line(`appendRecord onto the ${ROWS}-row file`, app.appendRecordLargeFileMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--child') {
  child(args[1] as string, args[2] as string);
} else {
  await main();
}
