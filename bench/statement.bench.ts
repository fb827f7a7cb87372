/**
 * Statement benchmark: the paper statement over 100,000 rows, as ratios against plain baselines
 * measured in the same run.
 *
 *   node --import tsx bench/statement.bench.ts [--rows 100000] [--repeat 7] [--json] [--synthetic]
 *
 * The history is one generated emissions.csv: four hardware configurations, our rows and
 * CodeCarbon rows, two CPU methods, so every path of the statement is taken.
 * - In memory: `statementFromRecords` over the records `loadResults` returned for that file vs a
 *   baseline loop summing `energy_consumed` over the same array (`--synthetic`: over object
 *   literals built in memory instead). Medians of `--repeat` timed runs after a warm-up.
 * - From the file: `paperStatement({ outputDir })` (load + statement) vs `loadResults` alone and
 *   vs `readFileSync`. Each run is a fresh child process, so its time and peak memory (max RSS
 *   minus RSS before the operation) are its own; medians of `--repeat` runs of each side.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_COLUMNS, formatHeader, formatRecordRow, loadResults, type EmissionsRecord, type LoadedRecord } from '../lib/store/index.js';
import { paperStatement, statementFromRecords } from '../lib/statement/index.js';
import { makeRecord } from '../test/store/helpers.js';
import { countArg, median } from './stats.js';

const SELF = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

const HARDWARE: [string, number, string][] = [
  ['Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 0, ''],
  ['AMD EPYC 7742 64-Core Processor', 4, '4 x NVIDIA A100-SXM4-40GB'],
  ['Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 2, '2 x NVIDIA H200'],
  ['Apple M1', 1, 'Apple M1'],
];

/** Row i of the synthetic history: every 5th row written by CodeCarbon, hardware cycling through four configurations. */
function record(i: number): EmissionsRecord {
  const [cpu, gpuCount, gpuModel] = HARDWARE[i % HARDWARE.length]!;
  const ours = i % 5 !== 0;
  const energy = 4.189606758838662e-5 * (1 + (i % 13));
  return makeRecord({
    timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().slice(0, 19),
    project_name: 'bench',
    experiment_id: 'bench___user___host',
    run_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    duration: 10 + (i % 1000) / 7,
    emissions: (energy * 380.95) / 1000,
    emissions_rate: 3.3e-8,
    cpu_power: 42.1,
    gpu_power: gpuCount > 0 ? 250.5 : null,
    cpu_energy: energy / 2,
    gpu_energy: gpuCount > 0 ? energy / 4 : 0,
    ram_energy: gpuCount > 0 ? energy / 4 : energy / 2,
    energy_consumed: energy,
    os: 'Linux-6.8.0-49-generic-x86_64-with-glibc2.39',
    python_version: ours ? '' : '3.12.3',
    codecarbon_version: ours ? '' : '3.2.3',
    cpu_model: cpu,
    gpu_count: gpuCount,
    gpu_model: gpuModel,
    longitude: null,
    latitude: null,
    gpu_utilization_percent: 80,
    // Rows written by CodeCarbon have none of our columns.
    ...(ours
      ? {
          hostname: 'host',
          user: 'user',
          cpu_energy_method: i % 7 === 0 ? 'estimated:tdp-load-model' : 'measured:powercap',
          gpu_energy_method: gpuCount > 0 ? 'measured:nvml-energy' : 'none:no-gpu',
        }
      : { hostname: '', user: '', tracker_version: '', cpu_energy_method: '', gpu_energy_method: '', ram_energy_method: '', carbon_intensity: null, run_status: '' }),
  } as Partial<EmissionsRecord>);
}

function loaded(i: number): LoadedRecord {
  const r = record(i);
  return { ...r, source_file: '/bench/emissions.csv', source_line: i + 2, written_by: r.tracker_version !== '' ? 'lamarr-energy-tracker' : 'codecarbon' };
}


// ---- child mode: one operation on one file, report time and peak memory -------------------
if (args[0] === '--child') {
  const op = args[1]!;
  const dir = args[2]!;
  const rssBefore = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let check = 0;
  if (op === 'read') check = readFileSync(join(dir, 'emissions.csv'), 'utf8').length;
  else if (op === 'load') check = loadResults({ outputDir: dir }).length;
  else if (op === 'statement') check = paperStatement({ outputDir: dir }).length;
  else throw new Error(`unknown op ${op}`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const peakMb = (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20;
  process.stdout.write(JSON.stringify({ ms, peakMb, check }));
  process.exit(0);
}

const rows = countArg('--rows', 100_000);
const repeat = countArg('--repeat', 7);
const asJson = args.includes('--json');

// ---- the history: one generated file; the in-memory part uses the records loadResults returns ---
const dir = mkdtempSync(join(tmpdir(), 'let-statement-bench-'));
const chunks: string[] = [formatHeader(ALL_COLUMNS)];
for (let i = 0; i < rows; i += 1) chunks.push(formatRecordRow(record(i), ALL_COLUMNS));
writeFileSync(join(dir, 'emissions.csv'), chunks.join(''));
chunks.length = 0;
const fileMb = statSync(join(dir, 'emissions.csv')).size / 2 ** 20;
let records: LoadedRecord[] = loadResults({ outputDir: dir });
if (records.length !== rows) throw new Error(`loadResults returned ${records.length} rows, expected ${rows}`);
if (args.includes('--synthetic')) records = Array.from({ length: rows }, (_, i) => loaded(i));

// ---- in memory ------------------------------------------------------------------------------
let sink = 0;
const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
/** Median times of the baseline and the statement over `array`, alternating, after a warm-up. */
function inMemory(array: readonly LoadedRecord[]): { baseMs: number; stmtMs: number } {
  const baseline = (): void => {
    let sum = 0;
    for (const r of array) sum += r.energy_consumed ?? 0;
    sink += sum;
  };
  const statement = (): void => {
    sink += statementFromRecords(array).energyKwh;
  };
  for (let i = 0; i < 3; i += 1) {
    baseline();
    statement();
  }
  const baseMs: number[] = [];
  const stmtMs: number[] = [];
  for (let i = 0; i < repeat; i += 1) {
    baseMs.push(time(baseline));
    stmtMs.push(time(statement));
  }
  return { baseMs: median(baseMs), stmtMs: median(stmtMs) };
}
// Worst case: the file's order, hardware changing on every row. Typical: runs of one machine
// together (the same rows, stably grouped by hardware, as a per-host history is).
const interleaved = inMemory(records);
const grouped = inMemory([...records].sort((a, b) => (a.cpu_model < b.cpu_model ? -1 : a.cpu_model > b.cpu_model ? 1 : 0)));
const text = statementFromRecords(records).text;

// ---- from a file ----------------------------------------------------------------------------
const fileResults: Record<string, { ms: number; peakMb: number }> = {};
try {
  const runs: Record<string, { ms: number[]; peakMb: number[] }> = { read: { ms: [], peakMb: [] }, load: { ms: [], peakMb: [] }, statement: { ms: [], peakMb: [] } };
  for (let i = 0; i < repeat; i += 1) {
    for (const op of Object.keys(runs)) {
      const child = spawnSync(process.execPath, [...process.execArgv, SELF, '--child', op, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`child ${op} failed: ${child.stderr}`);
      const out = JSON.parse(child.stdout) as { ms: number; peakMb: number };
      runs[op]!.ms.push(out.ms);
      runs[op]!.peakMb.push(out.peakMb);
    }
  }
  for (const [op, r] of Object.entries(runs)) fileResults[op] = { ms: median(r.ms), peakMb: median(r.peakMb) };
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const result = {
  node: process.version,
  rows,
  repeat,
  inMemory: {
    interleaved: {
      baselineSumMs: interleaved.baseMs,
      statementFromRecordsMs: interleaved.stmtMs,
      ratio: interleaved.stmtMs / interleaved.baseMs,
      nsPerRow: (interleaved.stmtMs * 1e6) / rows,
    },
    grouped: {
      baselineSumMs: grouped.baseMs,
      statementFromRecordsMs: grouped.stmtMs,
      ratio: grouped.stmtMs / grouped.baseMs,
      nsPerRow: (grouped.stmtMs * 1e6) / rows,
    },
  },
  fromFile: {
    fileMb,
    readFileSync: fileResults.read!,
    loadResults: fileResults.load!,
    paperStatement: fileResults.statement!,
    statementVsLoadTime: fileResults.statement!.ms / fileResults.load!.ms,
    statementVsReadTime: fileResults.statement!.ms / fileResults.read!.ms,
    statementVsLoadPeak: fileResults.statement!.peakMb / fileResults.load!.peakMb,
  },
  text,
  sink,
};
if (asJson) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const f = (x: number, d = 1): string => x.toFixed(d);
  process.stdout.write(
    [
      `Node ${process.version}, ${rows} rows, medians of ${repeat}`,
      '',
      'in memory (records from loadResults)         time (ms)   ratio',
      `  hardware changing every row: sum (base)    ${f(interleaved.baseMs, 2).padStart(9)}   1.00`,
      `                               statement     ${f(interleaved.stmtMs, 2).padStart(9)}   ${f(interleaved.stmtMs / interleaved.baseMs, 2)}  (${f((interleaved.stmtMs * 1e6) / rows)} ns/row)`,
      `  rows grouped by hardware:    sum (base)    ${f(grouped.baseMs, 2).padStart(9)}   1.00`,
      `                               statement     ${f(grouped.stmtMs, 2).padStart(9)}   ${f(grouped.stmtMs / grouped.baseMs, 2)}  (${f((grouped.stmtMs * 1e6) / rows)} ns/row)`,
      '',
      `from a ${f(fileMb)} MiB emissions.csv (fresh process each)   time (ms)   peak RSS (MiB)`,
      `  readFileSync                   ${f(fileResults.read!.ms).padStart(9)}   ${f(fileResults.read!.peakMb).padStart(8)}`,
      `  loadResults                    ${f(fileResults.load!.ms).padStart(9)}   ${f(fileResults.load!.peakMb).padStart(8)}`,
      `  paperStatement                 ${f(fileResults.statement!.ms).padStart(9)}   ${f(fileResults.statement!.peakMb).padStart(8)}`,
      `  paperStatement / loadResults: time ${f(result.fromFile.statementVsLoadTime, 2)}, peak ${f(result.fromFile.statementVsLoadPeak, 2)}; / readFileSync: time ${f(result.fromFile.statementVsReadTime, 1)}`,
      '',
      text,
      '',
    ].join('\n'),
  );
}
