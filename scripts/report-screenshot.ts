/**
 * Makes docs/report.png, the README's picture of the HTML report: a synthetic store (the
 * report bench's generator: measured, estimated and wall-plug runs with timelines), its report,
 * and a screenshot in headless Chromium (Debian's `chromium`, driven by playwright-core).
 *
 *   node --import tsx scripts/report-screenshot.ts [docs/report.png]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeReport } from '../lib/report/index.js';
import { syntheticStore, writeSyntheticStore } from '../test/fixtures/synthetic-runs.js';
import { launchChromium } from '../test/fixtures/chromium.js';

const target = resolve(process.argv[2] ?? 'docs/report.png');
const dir = mkdtempSync(join(tmpdir(), 'let-report-shot-'));
const userDataDir = mkdtempSync(join(tmpdir(), 'let-report-shot-chromium-'));
try {
  const store = syntheticStore(36, { maxPoints: 600, seed: 7 });
  writeSyntheticStore(dir, store);
  // The records themselves (not loadResults): they carry the wall-plug fields.
  const { file } = writeReport({ records: store.records, outputDir: dir, out: join(dir, 'report.html'), title: 'Energy report: my paper', generated: new Date('2026-11-29T10:00:00Z') });
  const shown = [...store.records].reverse().find((record) => typeof record.wall_energy === 'number')!;
  const context = await launchChromium(userDataDir, { width: 1100, height: 900 });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`file://${file}`);
    await page.waitForSelector('html[data-ready="true"]');
    // Show the timeline of a run with measured and estimated components and wall-plug energy.
    const value = await page.$$eval('#run-list option', (options, id) => options.find((option) => option.textContent!.includes(id))!.getAttribute('value')!, shown.run_id);
    await page.selectOption('#run-list', value);
    await page.screenshot({ path: target, fullPage: true });
  } finally {
    await context.close();
  }
  console.log(`wrote ${target}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(userDataDir, { recursive: true, force: true });
}
