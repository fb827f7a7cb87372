/**
 * Aggregates benchmark: the statement over 1,000,000 runs from the aggregates, against summing
 * 1,000,000 numbers in a Float64Array (the least any statement over the rows must do), measured
 * in the same run.
 *
 *   node --import tsx bench/aggregates.bench.ts [--rows 1000000] [--repeat 7] [--json]
 *
 * - The aggregates are built once from `--rows` synthetic rows (5 projects, 2 users, 3 hosts,
 *   4 hardware configurations, our rows and CodeCarbon's) and saved beside a sparse store file of
 *   ~512 bytes per row (no disk used), as the store keeps them.
 * - Timed (medians of `--repeat` after a warm-up): `statementFromSummary` for all runs and for
 *   one (project, user, host); `readAggregates` (read + JSON parse + validation of the file);
 *   `updateAggregates` when nothing changed (what `stop()`'s summary pays before the statement);
 *   `updateAggregates` after one appended row with the state before the append (what an append
 *   pays, fsync and rename included). The same at 1,000 rows shows whether the cost grows.
 */
import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatementAggregates, statementFromSummary, type AggregateRecord } from '../lib/statement/index.js';
import { aggregatesFile, fileState, readAggregates, updateAggregates, writeAggregatesAtomic } from '../lib/store/aggregates.js';
import { countArg, middleSample } from './stats.js';

const args = process.argv.slice(2);
const ROWS = countArg('--rows', 1_000_000);
const REPEAT = countArg('--repeat', 7);
const BYTES_PER_ROW = 512;
const STORE = 'emissions.csv';

const HARDWARE: [string, number, string][] = [
  ['Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 0, ''],
  ['AMD EPYC 7742 64-Core Processor', 4, '4 x NVIDIA A100-SXM4-40GB'],
  ['Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 2, '2 x NVIDIA H200'],
  ['Apple M1', 1, 'Apple M1'],
];

/** Row i: hardware cycling through four configurations, every 5th row written by CodeCarbon. */
function record(i: number): AggregateRecord {
  const [cpu, gpuCount, gpuModel] = HARDWARE[i % HARDWARE.length]!;
  const ours = i % 5 !== 0;
  const energy = 4.189606758838662e-5 * (1 + (i % 13));
  return {
    project_name: `project-${i % 5}`,
    user: `user-${i % 2}`,
    hostname: `host-${i % 3}`,
    energy_consumed: energy,
    emissions: (energy * 380.95) / 1000,
    cpu_energy: energy / 2,
    gpu_energy: energy / 4,
    ram_energy: energy / 4,
    cpu_model: cpu,
    gpu_count: gpuCount,
    gpu_model: gpuModel,
    codecarbon_version: ours ? '' : '3.2.3',
    tracker_version: ours ? '0.1.0' : '',
    cpu_energy_method: ours ? (i % 7 === 0 ? 'estimated:tdp-load-model' : 'measured:powercap') : '',
    gpu_energy_method: ours ? (gpuCount > 0 ? 'measured:nvml-energy' : 'none:no-gpu') : '',
    ram_energy_method: ours ? 'estimated:dimm-model' : '',
    carbon_intensity: ours ? 380.95 : null,
    country_iso_code: 'DEU',
    written_by: ours ? 'lamarr-energy-tracker' : 'codecarbon',
  };
}


/** Median ms of `repeat` runs of `work` after one warm-up. */
function time(work: () => unknown, repeat = REPEAT): number {
  work();
  const ms: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    work();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return middleSample(ms);
}

interface Figures {
  rows: number;
  buildMs: number;
  fileBytes: number;
  statementAllMs: number;
  statementGroupMs: number;
  readMs: number;
  updateUnchangedMs: number;
  updateAppendMs: number;
}

function measure(rows: number): Figures {
  const dir = mkdtempSync(join(tmpdir(), 'let-aggregates-bench-'));
  try {
    const store = join(dir, STORE);
    writeFileSync(store, '');
    truncateSync(store, rows * BYTES_PER_ROW); // sparse: the size of a real store, no disk used
    const t0 = process.hrtime.bigint();
    const built = new StatementAggregates();
    for (let i = 0; i < rows; i++) built.add(record(i));
    const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
    let covered = statSync(store).size;
    // Save them as the store would, covering the whole file (one full read, for the checksum).
    const first = updateAggregates(dir, {
      files: [STORE],
      scan: (_from, add) => {
        // The rows are already summarised above; hand them over without a second pass.
        void add;
        return { [STORE]: covered };
      },
    });
    if (!first.written) throw new Error(`aggregates not written: ${first.notWritten}`);
    writeAggregatesAtomic(dir, { files: readAggregates(dir)!.files, aggregates: built });
    const fileBytes = statSync(aggregatesFile(dir)).size;
    const loaded = readAggregates(dir)!.aggregates;
    if (loaded.runs !== rows) throw new Error(`loaded ${loaded.runs} runs, expected ${rows}`);
    const all = loaded.select({})!;
    const group = loaded.select({ projectName: 'project-1', user: 'user-1', hostname: 'host-1' })!;
    const statementAllMs = time(() => statementFromSummary(all, { comparison: true }), REPEAT * 3);
    const statementGroupMs = time(() => statementFromSummary(group), REPEAT * 3);
    const readMs = time(() => readAggregates(dir));
    const scanOne = (from: Readonly<Record<string, number>> | null, add: (r: AggregateRecord) => void): Record<string, number> => {
      if (from === null) throw new Error('the bench expects no rebuild');
      add(record(rows));
      return { [STORE]: statSync(store).size };
    };
    const updateUnchangedMs = time(() => {
      const r = updateAggregates(dir, { files: [STORE], scan: scanOne });
      if (r.change !== 'unchanged') throw new Error(`expected unchanged, got ${r.change}`);
    });
    const updateAppendMs = time(() => {
      const before = { [STORE]: fileState(store) };
      appendFileSync(store, 'x'.repeat(BYTES_PER_ROW - 1) + '\n');
      covered += BYTES_PER_ROW;
      const r = updateAggregates(dir, { files: [STORE], scan: scanOne, before });
      if (r.change !== 'extended' || !r.written) throw new Error(`expected a saved extension, got ${r.change} ${r.notWritten ?? ''}`);
    });
    return { rows, buildMs, fileBytes, statementAllMs, statementGroupMs, readMs, updateUnchangedMs, updateAppendMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const values = new Float64Array(ROWS);
for (let i = 0; i < ROWS; i++) values[i] = 4.189606758838662e-5 * (1 + (i % 13));
let sink = 0;
const baselineMs = time(() => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  sink += s;
});
measure(1000); // warm-up: compile every path before either size is timed
const small = measure(1000);
const large = measure(ROWS);
if (sink === 0) console.log('');

if (args.includes('--json')) {
  console.log(JSON.stringify({ rows: ROWS, repeat: REPEAT, baselineMs, small, large }, null, 2));
} else {
  const f = (ms: number): string => ms.toFixed(3);
  console.log(`aggregates: ${ROWS.toLocaleString('en-US')} rows (built in ${(large.buildMs / 1000).toFixed(1)} s, ${(large.buildMs * 1e3 / ROWS).toFixed(2)} µs/row; file ${large.fileBytes} bytes), medians of ${REPEAT}`);
  console.log(`baseline: sum of ${ROWS.toLocaleString('en-US')} numbers in a Float64Array: ${f(baselineMs)} ms`);
  console.log('| operation | 1,000 rows, ms | ' + `${ROWS.toLocaleString('en-US')} rows, ms | large ÷ small | large ÷ baseline |`);
  console.log('|---|---:|---:|---:|---:|');
  const row = (name: string, key: keyof Figures): void => {
    console.log(`| ${name} | ${f(small[key])} | ${f(large[key])} | ${(large[key] / small[key]).toFixed(2)}× | ${(large[key] / baselineMs).toFixed(3)}× |`);
  };
  row('statementFromSummary, all runs (with comparison)', 'statementAllMs');
  row('statementFromSummary, one project/user/host', 'statementGroupMs');
  row('readAggregates (read + parse + validate)', 'readMs');
  row('updateAggregates, nothing changed', 'updateUnchangedMs');
  row('updateAggregates after our append (fsync + rename)', 'updateAppendMs');
}
