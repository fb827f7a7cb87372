/**
 * streamResults over a very large store in constant memory (issue 12: 10M rows, ~5 GB): RSS and
 * heap reported every `--every` rows, and the time per million rows.
 *
 *   node --import tsx bench/stream-large.bench.ts [--rows 10000000] [--every 1000000] [--ours 0|1|2] [--aggregates 1]
 *
 * The store is written directly in our layout (no per-row formatting): one real row and sidecar
 * line from appendRecord, repeated with a distinct fixed-width run_id. `--ours 0` writes no
 * sidecar (a store CodeCarbon wrote: rows only); `--ours 1` (default) writes one sidecar line per
 * row, as our tracker does; `--ours 2` alternates our rows and CodeCarbon's (rows without a sidecar
 * line between ours: the join then reads the sidecar's run_id hashes). The files are deleted at the end.
 *
 * `--aggregates 1`: instead of streaming, the statement aggregates are built from scratch over
 * the store (what stop()'s summary does after a rewrite, a hand edit or an upgrade), in a child
 * process: its time and peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storeAggregates } from '../lib/store/aggregate-scan.js';
import { appendRecord, streamResults } from '../lib/store/index.js';
import { makeRecord } from '../test/store/helpers.js';

const args = process.argv.slice(2);

if (args[0] === '--rebuild-child') {
  const t = performance.now();
  const aggregates = storeAggregates(args[1]!);
  if (aggregates === null) throw new Error('no aggregates');
  console.log(`aggregates built from scratch in ${((performance.now() - t) / 1000).toFixed(1)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  process.exit(0);
}

const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  return Number.isFinite(v) && v >= 0 ? Math.floor(v) : def;
};
const ROWS = opt('--rows', 10_000_000);
const EVERY = opt('--every', 1_000_000);
const MODE = opt('--ours', 1);
const OURS = MODE >= 1;
const MiB = 1024 * 1024;
const ID = '00000000-0000-4000-8000-000000000000';

const dir = mkdtempSync(join(tmpdir(), 'let-stream-large-'));
try {
  appendRecord(makeRecord({ run_id: ID }), dir);
  const csv = readFileSync(join(dir, 'emissions.csv'), 'utf8');
  const nl = csv.indexOf('\n');
  const header = csv.slice(0, nl + 1);
  const row = csv.slice(nl + 1);
  const side = readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8');
  const t0 = performance.now();
  const fc = openSync(join(dir, 'emissions.csv'), 'w');
  const fs = OURS ? openSync(join(dir, 'emissions.let.jsonl'), 'w') : -1;
  if (!OURS) rmSync(join(dir, 'emissions.let.jsonl'));
  writeSync(fc, header);
  const BATCH = 10_000;
  for (let done = 0; done < ROWS; done += BATCH) {
    let rows = '';
    let lines = '';
    for (let i = done; i < Math.min(ROWS, done + BATCH); i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      rows += row.replace(ID, id);
      if (OURS && (MODE === 1 || i % 2 === 0)) lines += side.replace(ID, id);
    }
    writeSync(fc, rows);
    if (OURS) writeSync(fs, lines);
  }
  closeSync(fc);
  if (OURS) closeSync(fs);
  const csvSize = statSync(join(dir, 'emissions.csv')).size;
  const sideSize = OURS ? statSync(join(dir, 'emissions.let.jsonl')).size : 0;
  console.log(`wrote ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s: emissions.csv ${(csvSize / MiB).toFixed(0)} MiB, sidecar ${(sideSize / MiB).toFixed(0)} MiB`);
  if (opt('--aggregates', 0) === 1) {
    rmSync(join(dir, 'emissions.let-aggregates.json'), { force: true });
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--rebuild-child', dir], { stdio: 'inherit' });
    if (child.status !== 0) console.log(`the rebuild failed: exit ${child.status}, signal ${child.signal}`);
    process.exitCode = child.status ?? 1;
  } else await stream();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function stream(): Promise<void> {
  const mem = () => {
    const m = process.memoryUsage();
    return `RSS ${(m.rss / MiB).toFixed(0)} MiB, heap ${(m.heapUsed / MiB).toFixed(0)} MiB`;
  };
  console.log(`before streaming: ${mem()}`);
  let n = 0;
  let energy = 0;
  let t = performance.now();
  const start = t;
  for await (const r of streamResults({ outputDir: dir })) {
    energy += r.energy_consumed ?? 0;
    if (++n % EVERY === 0) {
      const now = performance.now();
      console.log(`${n} rows: ${mem()}; ${((now - t) / 1000).toFixed(1)} s for the last ${EVERY}`);
      t = now;
    }
  }
  console.log(`streamed ${n} rows in ${((performance.now() - start) / 1000).toFixed(0)} s (energy sum ${energy.toFixed(3)} kWh); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
