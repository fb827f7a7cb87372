/**
 * Whole runs benchmark: what `run`'s window adds to a command, what a checkpoint costs, and the
 * streamed `results` table, each against a baseline measured in the same run.
 *
 *   node --import tsx bench/wholerun.bench.ts [--runs 10] [--rows 100000]
 *
 * - `run -- sleep 0.5`: the recorded duration's error, and `run`'s wall time against
 *   `sleep 0.5` spawned directly (the baseline: what the command costs without us).
 * - One checkpoint (`tracker.checkpoint()`: a fresh reading, the record, temp file, fsync,
 *   rename) against `appendRecord` of the same record (lock, write, fsync), in process.
 * - `results` as a table (two streamed passes) against `results --format csv` (one pass), on
 *   a generated store of `--rows` rows, each a fresh CLI process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EnergyTracker } from '../lib/tracker/energy-tracker.js';
import { ALL_COLUMNS, appendRecord, formatHeader, formatRecordRow, loadResults } from '../lib/store/index.js';
import { makeRecord } from '../test/store/helpers.js';
import { intelServer } from '../test/fixtures/fake-hardware.js';
import { CLI_PATH, ensureBuilt } from '../test/helpers/cli.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  return Number.isFinite(v) && v > 0 ? v : def;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = opt('--runs', 10);
const rows = opt('--rows', 100_000);
ensureBuilt();
const dir = mkdtempSync(join(tmpdir(), 'let-bench-wholerun-'));
try {
  // 1. run's window and overhead
  const direct: number[] = [];
  const wrapped: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    spawnSync('sleep', ['0.5']);
    direct.push(performance.now() - t);
    t = performance.now();
    const r = spawnSync(process.execPath, [CLI_PATH, 'run', '--output-dir', dir, '--no-summary', '--', 'sleep', '0.5']);
    wrapped.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`run failed: ${r.stderr}`);
  }
  const errors = loadResults({ outputDir: dir }).map((row) => Math.abs(row.duration! - 0.5) * 1000);
  console.log(`run -- sleep 0.5 (${runs}×): recorded duration error median ${median(errors).toFixed(1)} ms, max ${Math.max(...errors).toFixed(1)} ms`);
  console.log(`  wall time: sleep alone ${median(direct).toFixed(1)} ms, under run ${median(wrapped).toFixed(1)} ms (${(median(wrapped) / median(direct)).toFixed(2)}×; run's start-up, sampler, store)`);

  // 2. checkpoint vs appendRecord
  const { hw } = intelServer(1, 2);
  try {
    const store = join(dir, 'checkpoint');
    const tracker = new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir: store, printSummary: false }).start();
    const record = makeRecord({});
    const cp: number[] = [];
    const ap: number[] = [];
    for (let i = 0; i < 50; i++) {
      let t = performance.now();
      tracker.checkpoint();
      cp.push(performance.now() - t);
      t = performance.now();
      appendRecord({ ...record, run_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }, join(dir, 'append'));
      ap.push(performance.now() - t);
    }
    tracker.stop({ save: false });
    console.log(`checkpoint ${(median(cp) * 1000).toFixed(0)} µs vs appendRecord ${(median(ap) * 1000).toFixed(0)} µs (${(median(cp) / median(ap)).toFixed(2)}×), median of 50`);
  } finally {
    hw.cleanup();
  }

  // 3. results table vs csv
  const big = join(dir, 'big');
  spawnSync('mkdir', ['-p', big]);
  writeFileSync(join(big, 'emissions.csv'), formatHeader(ALL_COLUMNS) + formatRecordRow(makeRecord({})).repeat(rows));
  const time = (format: string): number => {
    const t = performance.now();
    const r = spawnSync(process.execPath, [CLI_PATH, 'results', '--output-dir', big, '--format', format], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`results failed: ${r.stderr}`);
    return performance.now() - t;
  };
  const table: number[] = [];
  const csv: number[] = [];
  for (let i = 0; i < 3; i++) {
    csv.push(time('csv'));
    table.push(time('table'));
  }
  console.log(`results of ${rows} rows: table ${median(table).toFixed(0)} ms vs csv ${median(csv).toFixed(0)} ms (${(median(table) / median(csv)).toFixed(2)}×; the table reads the file twice), median of 3`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
