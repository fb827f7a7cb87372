/**
 * stop()'s cost with the summary at 1,000 stored runs against 1,000,000, and the statement over
 * 1,000,000 stored runs, measured in the same run (issue 12).
 *
 *   node --import tsx bench/stop-scale.bench.ts [--rows 1000000] [--repeat 15]
 *
 * What stop() does after measuring: appendRecord (the store's locked append, which extends the
 * aggregates) then printRunSummary (the summary, with the statement over this project's runs on
 * this host). Both are timed together, median of `--repeat` after the first (which builds the
 * aggregates once from the rows: reported separately). Stores are built with appendRecords.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendRecord, appendRecords } from '../lib/store/index.js';
import { paperStatement } from '../lib/statement/index.js';
import { printRunSummary } from '../lib/tracker/summary.js';
import { storeAggregates } from '../lib/store/aggregate-scan.js';
import { makeRecord } from '../test/store/helpers.js';
import { countArg, middleSample } from './stats.js';

const ROWS = countArg('--rows', 1_000_000);
const REPEAT = countArg('--repeat', 15);
const sink = new Writable({ write: (_c, _e, done) => done() });
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
let id = 0;
const record = () => makeRecord({ run_id: `run-${++id}`, project_name: id % 5 === 0 ? 'other' : 'demo', hostname: 'node1', user: 'alice' });

function build(rows: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'let-stop-scale-'));
  for (let done = 0; done < rows; done += 50_000) appendRecords(Array.from({ length: Math.min(50_000, rows - done) }, record), dir);
  return dir;
}

/** One stop(): the append and the summary. */
function stop(dir: string): number {
  const r = record();
  const t = process.hrtime.bigint();
  appendRecord(r, dir);
  printRunSummary(r, { outputDir: dir, wallMessage: null, saved: true, out: sink });
  return ms(t);
}

function statement(dir: string): number {
  const t = process.hrtime.bigint();
  paperStatement({ outputDir: dir });
  return ms(t);
}

const small = build(1000);
let t0 = process.hrtime.bigint();
const big = build(ROWS);
console.log(`built ${ROWS} rows in ${(ms(t0) / 1000).toFixed(1)} s (${statSync(join(big, 'emissions.csv')).size} bytes)`);
for (const [label, dir] of [['1,000', small], [String(ROWS), big]] as const) {
  t0 = process.hrtime.bigint();
  storeAggregates(dir);
  console.log(`aggregates built once from ${label} rows: ${ms(t0).toFixed(0)} ms`);
}
// Alternating, so both sizes see the same machine load.
const times: Record<'small' | 'big', number[]> = { small: [], big: [] };
const statements: Record<'small' | 'big', number[]> = { small: [], big: [] };
for (let i = 0; i < REPEAT; i++) {
  times.small.push(stop(small));
  times.big.push(stop(big));
  statements.small.push(statement(small));
  statements.big.push(statement(big));
}
const ratios = times.big.map((t, i) => t / times.small[i]!);
console.log(`stop() (append + summary), median: 1,000 rows ${middleSample(times.small).toFixed(2)} ms; ${ROWS} rows ${middleSample(times.big).toFixed(2)} ms; ratio of medians ${(middleSample(times.big) / middleSample(times.small)).toFixed(2)}x, median of paired ratios ${middleSample(ratios).toFixed(2)}x (target <= 1.2x)`);
console.log(`paperStatement, median: 1,000 rows ${middleSample(statements.small).toFixed(2)} ms; ${ROWS} rows ${middleSample(statements.big).toFixed(2)} ms (target < 50 ms)`);
rmSync(small, { recursive: true, force: true });
rmSync(big, { recursive: true, force: true });
