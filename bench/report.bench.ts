/**
 * Report benchmark: the HTML report of 10,000 stored runs (each with a power timeline) against
 * a baseline that writes the same data as JSON, both measured in the same run.
 *
 *   node --import tsx bench/report.bench.ts [--runs 10000] [--points 200] [--repeat 5] [--no-browser]
 *
 * The store is generated (test/fixtures/synthetic-runs.ts): three projects and hardware profiles,
 * measured, estimated and wall-plug runs, one timeline per run with up to `--points` points.
 * - From the store: `writeReport({ outputDir })` (loadResults, every loadTimeline, aggregation,
 *   HTML, write) vs the baseline `loadResults` + every `loadTimeline` + `JSON.stringify` of
 *   both + write. Medians of `--repeat` alternating runs after a warm-up of each.
 * - In memory: `writeReport({ records, timelines })` vs `JSON.stringify({ records, timelines })`
 *   + write, to separate the report's own cost from reading the store.
 * - File sizes: the HTML vs the JSON.
 * - In Chromium (when /usr/bin/chromium exists, unless --no-browser): time from navigation to the
 *   page's charts drawn (`data-ready`), median of 3 fresh pages.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResults } from '../lib/store/index.js';
import { loadTimeline, type Timeline } from '../lib/timeline/index.js';
import { writeReport } from '../lib/report/index.js';
import { syntheticStore, writeSyntheticStore } from '../test/fixtures/synthetic-runs.js';
import { countArg, median } from './stats.js';

const args = process.argv.slice(2);
const runs = countArg('--runs', 10_000);
const points = countArg('--points', 200);
const repeat = countArg('--repeat', 5);

const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

const dir = mkdtempSync(join(tmpdir(), 'let-report-bench-'));
try {
  const generated = syntheticStore(runs, { maxPoints: points });
  writeSyntheticStore(dir, generated, 'bulk');
  const htmlFile = join(dir, 'report.html');
  const jsonFile = join(dir, 'baseline.json');
  const storeBytes = statSync(join(dir, 'emissions.csv')).size;

  const reportFromStore = () => {
    writeReport({ outputDir: dir, out: htmlFile });
  };
  const jsonFromStore = () => {
    const records = loadResults({ outputDir: dir });
    const timelines: Record<string, Timeline | null> = {};
    for (const record of records) timelines[record.run_id] = loadTimeline(record.run_id, { outputDir: dir });
    writeFileSync(jsonFile, JSON.stringify({ records, timelines }));
  };
  const memoryTimelines = new Map<string, Timeline>([...generated.timelines].map(([runId, data]) => [runId, { ...data, run_id: runId }]));
  const reportFromMemory = () => {
    writeReport({ records: generated.records, timelines: memoryTimelines, out: htmlFile });
  };
  const jsonFromMemory = () => {
    writeFileSync(jsonFile, JSON.stringify({ records: generated.records, timelines: Object.fromEntries(memoryTimelines) }));
  };

  const pairs: Array<[string, () => void, () => void]> = [
    ['from the store', reportFromStore, jsonFromStore],
    ['in memory', reportFromMemory, jsonFromMemory],
  ];
  const rows: string[] = [];
  for (const [label, report, baseline] of pairs) {
    report();
    baseline();
    const reportMs: number[] = [];
    const baselineMs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const r = time(report);
      const b = time(baseline);
      reportMs.push(r);
      baselineMs.push(b);
      ratios.push(r / b);
    }
    const htmlBytes = statSync(htmlFile).size;
    const jsonBytes = statSync(jsonFile).size;
    rows.push(
      `| ${label} | ${median(reportMs).toFixed(0)} | ${median(baselineMs).toFixed(0)} | ${median(ratios).toFixed(2)}× | ${(htmlBytes / 2 ** 20).toFixed(2)} | ${(jsonBytes / 2 ** 20).toFixed(2)} | ${(htmlBytes / jsonBytes).toFixed(3)}× |`,
    );
  }

  console.log(`${runs} runs, timelines of up to ${points} points (emissions.csv ${(storeBytes / 2 ** 20).toFixed(2)} MiB), median of ${repeat}\n`);
  console.log('| | report (ms) | JSON baseline (ms) | time ratio | HTML (MiB) | JSON (MiB) | size ratio |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);

  if (!args.includes('--no-browser') && existsSync('/usr/bin/chromium')) {
    writeReport({ outputDir: dir, out: htmlFile });
    const { launchChromium } = await import('../test/fixtures/chromium.js');
    const userDataDir = mkdtempSync(join(tmpdir(), 'let-report-bench-chromium-'));
    const context = await launchChromium(userDataDir, { width: 1280, height: 900 });
    try {
      const loads: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await context.newPage();
        const t0 = performance.now();
        await page.goto(`file://${htmlFile}`);
        await page.waitForSelector('html[data-ready="true"]', { timeout: 60000 });
        loads.push(performance.now() - t0);
        await page.close();
      }
      console.log(`\nChromium: navigation to charts drawn, median of 3: ${median(loads).toFixed(0)} ms`);
    } finally {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
