import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, buildReportData, timelineForPage, writeReport, type ReportRecord } from '../../lib/report/index.js';
import { listTimelines, timelinePower, type Timeline } from '../../lib/timeline/index.js';
import { ENERGY_BAR_WIDTH, energyBar, useColour } from '../../lib/cli/energy-bar.js';
import { makeRecord } from '../store/helpers.js';
import { syntheticStore, writeSyntheticStore } from '../fixtures/synthetic-runs.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

function withTimelineIds(store: ReturnType<typeof syntheticStore>): Map<string, Timeline> {
  return new Map([...store.timelines].map(([runId, data]) => [runId, { ...data, run_id: runId }]));
}

describe('report data (aggregated in Node)', () => {
  const store = syntheticStore(30, { maxPoints: 300 });

  it('totals equal the sums of the records, overall and per project, and keep measured/estimated/wall apart', () => {
    const data = buildReportData(store.records, (runId) => withTimelineIds(store).get(runId) ?? null);
    const sum = (records: readonly ReportRecord[], pick: (record: ReportRecord) => number | null | undefined) => records.reduce((total, record) => total + (pick(record) ?? 0), 0);
    expect(data.totals.runs).to.equal(30);
    expect(data.totals.energyKwh).to.equal(sum(store.records, (record) => record.energy_consumed));
    expect(data.totals.emissionsKg).to.equal(sum(store.records, (record) => record.emissions));
    expect(data.totals.wallKwh).to.equal(sum(store.records, (record) => record.wall_energy));
    expect(data.totals.wallRuns).to.equal(store.records.filter((record) => typeof record.wall_energy === 'number').length).and.greaterThan(0);
    for (const project of data.projects) {
      const mine = store.records.filter((record) => record.project_name === project.name);
      expect(project.totals.energyKwh).to.equal(sum(mine, (record) => record.energy_consumed));
      expect(project.endRun - project.firstRun).to.equal(mine.length);
      expect(project.statement).to.match(/^Using /);
      expect(project.bibtex).to.contain('lamarr_energy_tracker');
      // The project's runs are in time order.
      const times = data.runs.timestamp.slice(project.firstRun, project.endRun);
      expect(times).to.deep.equal([...times].sort());
    }
    const laptop = data.projects.find((project) => project.name === 'thesis-laptop')!;
    expect(laptop.totals.measuredKwh).to.equal(0);
    const kinds = Object.fromEntries(data.methods.map((method) => [method.label, method.kind]));
    expect(kinds).to.include({ 'measured:powercap': 'measured', 'estimated:tdp-load-model': 'estimated', 'none:no-gpu': 'none' });
    expect(Object.keys(data.timelines)).to.have.length(30);
  });

  it('carries each timeline with a bounded number of points, its segments adding up to the run energy', () => {
    const timelines = withTimelineIds(store);
    const [runId, timeline] = [...timelines].find(([, entry]) => entry.t_s.length === 300)!;
    const page = timelineForPage(timeline, 50);
    expect(page.t.length).to.be.at.most(50);
    const power = timelinePower(timeline);
    expect(power.length).to.be.greaterThan(50);
    page.series.forEach((series, position) => {
      const joules = series.watts.reduce((total, watts, segment) => total + watts * (page.t[segment + 1]! - page.t[segment]!), 0);
      const stored = timeline.components[position]!.energy_j.at(-1)!;
      expect(joules, `${runId} ${series.component}`).to.be.closeTo(stored, stored * 1e-3);
    });
    // A budget spreads the points over the runs.
    const data = buildReportData(store.records, (id) => timelines.get(id) ?? null, { timelinePointBudget: 30 * 20 });
    expect(data.timelinePointsPerRun).to.equal(20);
    expect(Math.max(...Object.values(data.timelines).map((entry) => entry.t.length))).to.be.at.most(20);
    expect(data.notes.join(' ')).to.contain('at most 20 points');
  });

  it('survives an unreadable timeline and a project without energy', () => {
    const records = [makeRecord({ run_id: 'a', energy_consumed: 0, cpu_energy: 0, ram_energy: 0, emissions: 0 })];
    const data = buildReportData(records, () => {
      throw new Error('corrupt');
    });
    expect(data.notes.join(' ')).to.contain('1 stored timeline(s) could not be read');
    expect(data.runs.hasTimeline).to.deep.equal([false]);
  });
});

describe('report HTML', () => {
  it('is self-contained: no external resource, uPlot and its MIT licence inlined, hostile names escaped', () => {
    const store = syntheticStore(6, { maxPoints: 50 });
    store.records[0]!.project_name = '</script><script>alert(1)</script>';
    const { html } = buildReport({ records: store.records, timelines: withTimelineIds(store) });
    expect(html).to.not.match(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).to.not.match(/@import|url\(\s*["']?https?:/i);
    expect(html).to.contain('var uPlot=');
    expect(html).to.contain('Copyright (c) 2022 Leon Sorokin').and.contain('Permission is hereby granted, free of charge');
    expect(html).to.not.contain('</script><script>alert(1)');
    expect(html).to.contain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.match(/<script\b/g)).to.have.length(3);
    expect(html).to.contain('@media print');
  });
});

describe('writeReport and the report command (from a store)', function () {
  this.timeout(60000);
  let outputDir: string;
  before(() => ensureBuilt());
  beforeEach(() => {
    outputDir = mkdtempSync(join(tmpdir(), 'let-report-'));
    writeSyntheticStore(outputDir, syntheticStore(12, { maxPoints: 100 }));
  });
  afterEach(() => rmSync(outputDir, { recursive: true, force: true }));

  it('writes the filtered runs with their stored timelines', () => {
    const out = join(outputDir, 'r.html');
    const written = writeReport({ outputDir, projectName: 'llm-finetune', out });
    expect(written).to.deep.include({ file: out, runs: 4, timelines: 4 });
    const html = readFileSync(out, 'utf8');
    expect(written.bytes).to.equal(Buffer.byteLength(html));
    expect(html).to.contain('Project llm-finetune').and.not.contain('Project thesis-laptop');
    expect(() => writeReport({ outputDir, projectName: 'nothing-here', out })).to.throw(RangeError, /No runs match/);
  });

  it('`report --out` writes the file and says what is in it; `delete` removes the deleted runs\' timelines', () => {
    const out = join(outputDir, 'cli.html');
    const result = runCli(['report', '--output-dir', outputDir, '--out', out, '--title', 'CLI report']);
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^Wrote .*cli\.html: 12 run\(s\), 12 with a power timeline, \d+ KiB\.\n$/);
    expect(readFileSync(out, 'utf8')).to.contain('<title>CLI report</title>');
    const deleted = runCli(['delete', '--output-dir', outputDir, '--project-name', 'thesis-laptop', '--yes']);
    expect(deleted.status, deleted.stderr).to.equal(0);
    expect(deleted.stdout).to.contain('Deleted 4 run(s)').and.contain('and 4 power timeline(s)');
    expect(listTimelines({ outputDir })).to.have.length(8);
  });

  it('`report --open` without a desktop opener still writes the report and says how to open it', () => {
    const out = join(outputDir, 'open.html');
    const result = runCli(['report', '--output-dir', outputDir, '--out', out, '--open'], { env: { PATH: join(outputDir, 'no-such-bin') } });
    expect(result.status, result.stderr).to.equal(0);
    expect(existsSync(out)).to.equal(true);
    expect(result.stderr).to.contain('could not open the report with xdg-open').and.contain(`open ${out} in a browser`);
  });

  it('`results` shows a bar per run, without colour when not a terminal or with NO_COLOR', () => {
    for (const env of [{}, { NO_COLOR: '1' }]) {
      const result = runCli(['results', '--output-dir', outputDir], { env });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.not.contain('\u001b[');
      expect(result.stdout).to.contain('by component').and.contain('bar: █ CPU  ▓ GPU  ░ RAM');
      const rows = result.stdout.split('\n').filter((line) => line.startsWith('2026-'));
      expect(rows).to.have.length(12);
      for (const row of rows) expect(row).to.match(/[█▓░▏▎▍▌▋▊▉]$/);
    }
  });
});

describe('energy bar', () => {
  const record = (cpuKwh: number, gpuKwh: number, ramKwh: number, estimated = false) =>
    makeRecord({ cpu_energy: cpuKwh, gpu_energy: gpuKwh, ram_energy: ramKwh, cpu_energy_method: estimated ? 'estimated:tdp-load-model' : 'measured:powercap', ram_energy_method: 'measured:powercap' });

  it('is always the same width, proportional to the largest run, split by component', () => {
    expect(energyBar(record(8, 4, 4), 16, false)).to.equal('████████▓▓▓▓░░░░');
    expect(energyBar(record(4, 0, 4), 16, false)).to.equal('████░░░░' + ' '.repeat(8));
    expect(energyBar(record(0, 0, 0), 16, false)).to.equal(' '.repeat(ENERGY_BAR_WIDTH));
    expect(energyBar(record(1, 0, 0), 16 * 8, false)).to.equal('▏' + ' '.repeat(15)); // one eighth of a cell
    for (const bar of [energyBar(record(3, 1, 0.2), 7, false), energyBar(record(0.001, 0, 0), 7, false)]) expect([...bar]).to.have.length(ENERGY_BAR_WIDTH);
  });

  it('colours components only on a terminal without NO_COLOR, an estimated one dim', () => {
    const coloured = energyBar(record(8, 0, 8, true), 16, true);
    expect(coloured).to.contain('\u001b[2;34m████████\u001b[0m').and.contain('\u001b[33m░░░░░░░░\u001b[0m');
    expect(useColour({ isTTY: true }, {})).to.equal(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).to.equal(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).to.equal(true);
    expect(useColour({ isTTY: false }, {})).to.equal(false);
    expect(useColour({}, {})).to.equal(false);
  });
});

describe('report file safety', () => {
  it('does not leave a temporary file behind and refuses an unwritable path with the path in the error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'let-report-'));
    try {
      const store = syntheticStore(3, { maxPoints: 10 });
      const out = join(dir, 'missing-dir', 'r.html');
      expect(() => writeReport({ records: store.records, timelines: new Map(), out })).to.throw(Error, /cannot write the report to .*missing-dir/);
      expect(existsSync(join(dir, 'missing-dir'))).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
