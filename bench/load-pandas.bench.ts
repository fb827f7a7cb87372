/**
 * `loadResults` of a 100k-row store against pandas' `read_csv` of the same emissions.csv, in the
 * same run (issue 12: at most 1/3 of pandas' time; peak memory at most half the file's size on
 * top of the records returned).
 *
 *   node --import tsx bench/load-pandas.bench.ts [--rows 100000] [--repeat 5]
 *
 * Each read is a fresh child process, alternating ours and pandas' (Debian's python3-pandas,
 * run by /usr/bin/python3). Ours: time of loadResults; memory = peak RSS during the call minus
 * RSS before, and the records' own size (heap used after the call and a GC, minus before). The
 * extra is peak − records. Pandas: time of read_csv, peak RSS minus RSS before; then, in the
 * same process, the time of `df.to_dict('records')` (one dict per row, the kind of result
 * loadResults returns) and the peak RSS after it.
 *
 * The floor (a third child, alternating too): the same records built again as object literals
 * from values already parsed (loadResults' own result, untimed), i.e. only the objects and
 * their collection: what any JS reader returning these records pays, however it parses.
 * The columnar floor (a fourth child): fresh records (new numbers and text) built from the file
 * already parsed into columns, as a native parser would hand them over: what a reader pays with
 * parsing made free.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendRecords, loadResults } from '../lib/store/index.js';
import { makeRecord } from '../test/store/helpers.js';
import { countArg, middleSample } from './stats.js';

const args = process.argv.slice(2);
const MiB = 1024 * 1024;

if (args[0] === '--child') {
  const dir = args[1]!;
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const t = process.hrtime.bigint();
  const rows = loadResults({ outputDir: dir });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const peak = process.resourceUsage().maxRSS * 1024;
  gc();
  const records = process.memoryUsage().heapUsed - heap0;
  process.stdout.write(JSON.stringify({ ms, rows: rows.length, peakExtra: peak - rss0, records }));
  process.exit(0);
}

if (args[0] === '--columns-floor') {
  // The records built fresh from the file already parsed into columns, as a native parser
  // (another thread, any speed) would hand them over: numbers in Float64Arrays (NaN for null;
  // a value equal to the previous row's shares its number, as the decoder does), text as
  // dictionary codes into one latin1 string of the distinct values (each distinct value one
  // slice of it). Untimed: making the columns. Timed: the string of distinct text and the
  // records. The least a reader returning fresh records pays with no parsing at all.
  const gc = (globalThis as { gc?: () => void }).gc!;
  const loaded = loadResults({ outputDir: args[1]! }) as unknown as Record<string, unknown>[];
  const columns = Object.keys(loaded[0]!);
  const n = loaded.length;
  const numeric = columns.map((c) => loaded.every((r) => r[c] === null || typeof r[c] === 'number'));
  const numbers: (Float64Array | null)[] = [];
  const texts: ({ codes: Int32Array; starts: Int32Array; ends: Int32Array } | null)[] = [];
  const distinct: string[] = [];
  let length = 0;
  columns.forEach((c, k) => {
    if (numeric[k]) {
      numbers.push(Float64Array.from(loaded, (r) => (r[c] === null ? NaN : (r[c] as number))));
      texts.push(null);
      return;
    }
    const codes = new Int32Array(n);
    const starts: number[] = [];
    const ends: number[] = [];
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const v = String(loaded[i]![c]);
      let code = seen.get(v);
      if (code === undefined) {
        code = starts.length;
        seen.set(v, code);
        starts.push(length);
        distinct.push(v);
        length += v.length;
        ends.push(length);
      }
      codes[i] = code;
    }
    numbers.push(null);
    texts.push({ codes, starts: Int32Array.from(starts), ends: Int32Array.from(ends) });
  });
  const bytes = Buffer.from(distinct.join(''), 'latin1');
  const src = `return function build(n, num, txt, all) {
    const out = new Array(n);
    ${columns.map((_, k) => (numeric[k] ? `const n${k} = num[${k}]; let p${k} = -0.5, x${k} = null;` : `const t${k} = txt[${k}]; const v${k} = new Array(t${k}.starts.length); for (let d = 0; d < v${k}.length; d++) v${k}[d] = all.slice(t${k}.starts[d], t${k}.ends[d]);`)).join('\n    ')}
    for (let i = 0; i < n; i++) {
      ${columns.map((_, k) => (numeric[k] ? `const r${k} = n${k}[i]; if (r${k} !== p${k}) { p${k} = r${k}; x${k} = r${k} !== r${k} ? null : r${k}; }` : '')).join(' ')}
      out[i] = { ${columns.map((c, k) => `${JSON.stringify(c)}: ${numeric[k] ? `x${k}` : `v${k}[t${k}.codes[i]]`}`).join(', ')} };
    }
    return out;
  };`;
  const build = new Function(src)() as (n: number, num: typeof numbers, txt: typeof texts, all: string) => object[];
  loaded.length = 0;
  gc();
  const t = process.hrtime.bigint();
  const rows = build(n, numbers, texts, bytes.toString('latin1'));
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  process.stdout.write(JSON.stringify({ ms, rows: rows.length }));
  process.exit(0);
}

if (args[0] === '--floor') {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const columns = Object.keys(loadResults({ outputDir: args[1]! })[0]!);
  const values = loadResults({ outputDir: args[1]! }).map((r) => Object.values(r));
  const build = new Function('v', `return { ${columns.map((c, k) => `${JSON.stringify(c)}: v[${k}]`).join(', ')} };`) as (v: unknown[]) => object;
  gc();
  const t = process.hrtime.bigint();
  const rows: object[] = [];
  for (const v of values) rows.push(build(v));
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  process.stdout.write(JSON.stringify({ ms, rows: rows.length }));
  process.exit(0);
}

const ROWS = countArg('--rows', 100_000);
const REPEAT = countArg('--repeat', 5);
const dir = mkdtempSync(join(tmpdir(), 'let-load-pandas-'));
try {
  const batch = 20_000;
  for (let done = 0; done < ROWS; done += batch) {
    appendRecords(
      Array.from({ length: Math.min(batch, ROWS - done) }, (_, k) => {
        const i = done + k;
        return makeRecord({
          run_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().slice(0, 19),
          project_name: `project-${i % 17}`,
          hostname: `node-${i % 11}`,
          duration: 10 + (i % 1000) / 7,
          emissions: 1.2345678901234e-5 * (1 + (i % 13)),
          energy_consumed: 4.189606758838662e-5 * (1 + (i % 7)),
        });
      }),
      dir,
    );
  }
  const file = join(dir, 'emissions.csv');
  const size = statSync(file).size;
  const py = [
    'import sys, time, resource, pandas',
    'def rss():\n    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()',
    'r0 = rss(); t = time.perf_counter(); df = pandas.read_csv(sys.argv[1]); ms = (time.perf_counter() - t) * 1000',
    'peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - r0',
    't = time.perf_counter(); records = df.to_dict("records"); rec_ms = (time.perf_counter() - t) * 1000',
    'print(ms, len(df), peak, rec_ms, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - r0)',
  ].join('\n');
  const ours: { ms: number; rows: number; peakExtra: number; records: number }[] = [];
  const pandas: { ms: number; peak: number; recordsMs: number; recordsPeak: number }[] = [];
  const floor: number[] = [];
  const columnsFloor: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const f = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--floor', dir], { encoding: 'utf8' });
    if (f.status !== 0) throw new Error(f.stderr);
    floor.push((JSON.parse(f.stdout) as { ms: number }).ms);
    const c = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--columns-floor', dir], { encoding: 'utf8' });
    if (c.status !== 0) throw new Error(c.stderr);
    columnsFloor.push((JSON.parse(c.stdout) as { ms: number }).ms);
    const o = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', dir], { encoding: 'utf8' });
    if (o.status !== 0) throw new Error(o.stderr);
    ours.push(JSON.parse(o.stdout));
    const p = spawnSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(p.stderr);
    const [ms, rows, peak, recordsMs, recordsPeak] = p.stdout.trim().split(' ').map(Number) as [number, number, number, number, number];
    if (rows !== ours[0]!.rows) throw new Error(`pandas read ${rows} rows, loadResults ${ours[0]!.rows}`);
    pandas.push({ ms, peak, recordsMs, recordsPeak });
  }
  const oursMs = middleSample(ours.map((o) => o.ms));
  const pandasMs = middleSample(pandas.map((p) => p.ms));
  const extra = middleSample(ours.map((o) => o.peakExtra - o.records));
  console.log(`file: ${ROWS} rows, ${(size / MiB).toFixed(1)} MiB (sidecar beside it)`);
  console.log(`loadResults: median ${oursMs.toFixed(0)} ms; peak RSS +${(middleSample(ours.map((o) => o.peakExtra)) / MiB).toFixed(0)} MiB, records ${(middleSample(ours.map((o) => o.records)) / MiB).toFixed(0)} MiB, extra ${(extra / MiB).toFixed(0)} MiB = ${(extra / size).toFixed(2)} of the file (target <= 0.5)`);
  console.log(`pandas read_csv: median ${pandasMs.toFixed(0)} ms; peak RSS +${(middleSample(pandas.map((p) => p.peak)) / MiB).toFixed(0)} MiB`);
  console.log(`loadResults / pandas = ${(oursMs / pandasMs).toFixed(2)} (target <= 0.33); per pair: ${ours.map((o, i) => (o.ms / pandas[i]!.ms).toFixed(2)).join(' ')}`);
  const asRowsMs = middleSample(pandas.map((p) => p.ms + p.recordsMs));
  console.log(`pandas read_csv + to_dict('records') (rows as dicts, like loadResults' records): median ${asRowsMs.toFixed(0)} ms; peak RSS +${(middleSample(pandas.map((p) => p.recordsPeak)) / MiB).toFixed(0)} MiB; loadResults / that = ${(oursMs / asRowsMs).toFixed(2)}`);
  const floorMs = middleSample(floor);
  console.log(`floor (the same records built from parsed values): median ${floorMs.toFixed(0)} ms = ${(floorMs / pandasMs).toFixed(2)} of pandas; loadResults = ${(oursMs / floorMs).toFixed(1)} x the floor`);
  const columnsMs = middleSample(columnsFloor);
  console.log(`columnar floor (fresh records from the file already parsed into columns, no parsing): median ${columnsMs.toFixed(0)} ms = ${(columnsMs / pandasMs).toFixed(2)} of pandas (per read: ${columnsFloor.map((m) => m.toFixed(0)).join(' ')} ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
