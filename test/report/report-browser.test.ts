/**
 * The HTML report in a real headless Chromium (Debian's `chromium`, driven by playwright-core).
 * This test FAILS when /usr/bin/chromium is missing: `.ci/run` installs it
 * (`apt-get install -y chromium`).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../fixtures/chromium.js';
import { loadResults } from '../../lib/store/index.js';
import { writeReport } from '../../lib/report/index.js';
import { formatEnergy } from '../../lib/format.js';
import { buildReportFixture, type ReportFixture } from './fixture.js';


/** The little of the DOM the functions run in the page use (tests compile without the DOM library). */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray } } | null;
  closest(selector: string): { id: string } | null;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageCanvas>;
  getElementById(id: string): { textContent: string | null } | null;
};
const KWH = 3.6e6;

interface CanvasInk {
  chart: string;
  drawn: number;
  cpuColoured: number;
}

/** Pixels drawn on each chart's canvas, and those in the CPU colour (#1f77b4) or near it. */
function inkOfCharts(page: Page): Promise<CanvasInk[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.chart canvas')).map((canvas) => {
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let drawn = 0;
      let cpuColoured = 0;
      for (let index = 0; index < pixels.length; index += 4) {
        if (pixels[index + 3]! === 0) continue;
        drawn++;
        if (Math.abs(pixels[index]! - 31) < 40 && Math.abs(pixels[index + 1]! - 119) < 40 && Math.abs(pixels[index + 2]! - 180) < 40) cpuColoured++;
      }
      return { chart: canvas.closest('.chart')!.id, drawn, cpuColoured };
    }),
  );
}

describe('HTML report in headless Chromium', function () {
  this.timeout(120000);
  let fixture: ReportFixture;
  let context: BrowserContext | null = null;
  let userDataDir = '';
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  let reportFile = '';

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium package (apt-get update && apt-get install -y chromium); .ci/run installs it`);
    }
    fixture = await buildReportFixture();
    reportFile = join(fixture.outputDir, 'report.html');
    writeReport({ records: fixture.records, outputDir: fixture.outputDir, out: reportFile, title: 'Browser test report' });
    userDataDir = mkdtempSync(join(tmpdir(), 'let-chromium-'));
    context = await launchChromium(userDataDir, { width: 1200, height: 900, timeout: 60000 });
    // Anything but the report file itself is a network request the page must not make.
    await context.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : route.abort()));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`file://${reportFile}`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
  });

  after(async () => {
    await context?.close();
    if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
    fixture?.cleanup();
  });

  it('loads with no console error and no request but the file itself', () => {
    expect(consoleErrors).to.deep.equal([]);
    expect(requests).to.deep.equal([`file://${reportFile}`]);
  });

  it('draws every chart: the stacked bars of each project and the timeline', async () => {
    const ink = await inkOfCharts(page);
    const projects = new Set(fixture.records.map((record) => record.project_name)).size;
    expect(ink.map((entry) => entry.chart).sort()).to.deep.equal([...Array.from({ length: projects }, (_, index) => `runs-chart-${index}`), 'timeline-chart'].sort());
    for (const entry of ink) {
      expect(entry.drawn, entry.chart).to.be.greaterThan(2000);
      expect(entry.cpuColoured, `${entry.chart}: CPU series drawn`).to.be.greaterThan(100);
    }
  });

  it('shows the totals of loadResults, overall and per project, including the wall-plug ground truth', async () => {
    const stored = loadResults({ outputDir: fixture.outputDir });
    const sum = (records: typeof stored, pick: (record: (typeof stored)[number]) => number | null) => records.reduce((total, record) => total + (pick(record) ?? 0), 0);
    const read = (scope: string, name: string) =>
      page.$eval(`table.totals[data-scope="${scope}"] [data-${name}]`, (element, attribute) => ({ value: Number(element.getAttribute(attribute)), text: element.textContent }), `data-${name}`);

    const energy = await read('all', 'energy-kwh');
    expect(energy.value).to.equal(sum(stored, (record) => record.energy_consumed));
    expect(energy.text).to.equal(formatEnergy(energy.value * KWH));
    expect((await read('all', 'runs')).value).to.equal(stored.length);
    expect((await read('all', 'emissions-kg')).value).to.equal(sum(stored, (record) => record.emissions));
    for (const project of new Set(stored.map((record) => record.project_name))) {
      const mine = stored.filter((record) => record.project_name === project);
      expect((await read(project, 'energy-kwh')).value, project).to.equal(sum(mine, (record) => record.energy_consumed));
      expect((await read(project, 'runs')).value, project).to.equal(mine.length);
      expect((await read(project, 'emissions-kg')).value, project).to.equal(sum(mine, (record) => record.emissions));
    }
    const wall = fixture.records.find((record) => record.run_id === fixture.wallRunId)!;
    expect((await read('all', 'wall-kwh')).value).to.equal(wall.wall_energy);
    // The escaped project name is shown as text, not markup.
    expect(await page.locator('section.project h3').allTextContents()).to.include('Project laptop <estimates> & co');
  });

  it('has each project\'s paper statement with a copy button and its BibTeX', async () => {
    const statements = await page.locator('blockquote[id^="statement-"]').allTextContents();
    expect(statements).to.have.length(2);
    for (const text of statements) expect(text).to.match(/^Using .+ the energy consumption of running all experiments .+ CO2-equivalents/);
    expect(await page.locator('button.copy[data-copy^="statement-"]').count()).to.equal(2);
    const bibtex = await page.locator('pre[id^="bibtex-"]').first().textContent();
    expect(bibtex).to.match(/^@\w+\{lamarr_energy_tracker,/);
    expect(bibtex).to.contain('{codecarbon,');
  });

  async function selectRun(runId: string): Promise<void> {
    const value = await page.$$eval('#run-list option', (options, id) => options.find((option) => option.textContent!.includes(id))?.getAttribute('value') ?? null, runId);
    expect(value, `run ${runId} in the list`).to.not.equal(null);
    await page.selectOption('#run-list', value!);
    await page.waitForSelector(`#run-details h3[data-run-id="${runId}"]`);
  }

  it('shows the timeline of a run picked from the list, its energy equal to the run\'s', async () => {
    for (const [runId, label] of [
      [fixture.measuredRunId, 'CPU (measured: powercap)'],
      [fixture.estimatedRunId, 'CPU (estimated: tdp-load-model)'],
    ] as const) {
      await selectRun(runId);
      const legend = await page.locator('#timeline-chart .u-legend').textContent();
      expect(legend).to.contain(label);
      const ink = (await inkOfCharts(page)).find((entry) => entry.chart === 'timeline-chart')!;
      expect(ink.drawn).to.be.greaterThan(2000);
      // The drawn series integrate to the run's CPU energy (watts kept to 4 significant digits).
      const { integral, cpuJ } = await page.evaluate((id) => {
        const data = JSON.parse(document.getElementById('let-data')!.textContent!);
        const index = data.runs.id.indexOf(id);
        const timeline = data.timelines[index];
        const cpu = timeline.series.find((series: { component: string }) => series.component === 'cpu');
        let joules = 0;
        cpu.watts.forEach((watts: number, segment: number) => (joules += watts * (timeline.t[segment + 1] - timeline.t[segment])));
        return { integral: joules, cpuJ: data.runs.cpuJ[index] };
      }, runId);
      const record = fixture.records.find((entry) => entry.run_id === runId)!;
      expect(cpuJ).to.be.closeTo((record.cpu_energy ?? 0) * KWH, 1e-5 * cpuJ);
      expect(integral).to.be.closeTo(cpuJ, 2e-3 * cpuJ);
    }
  });

  it('shows the wall-plug energy of the ground-truth run and says when a run has no timeline', async () => {
    await selectRun(fixture.wallRunId);
    expect(await page.locator('#run-details').textContent()).to.match(/Wall plug.*measured:tasmota/);
    await selectRun(fixture.noTimelineRunId);
    expect(await page.locator('#timeline-chart').textContent()).to.contain('No timeline is stored for this run');
    expect(await page.locator('#timeline-chart canvas').count()).to.equal(0);
  });
});
