import { expect } from 'chai';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import {
  TimelineRecorder,
  drainPeriodMs,
  downsampleCumulative,
  keptIndices,
  listTimelines,
  loadTimeline,
  timelineEnergyJ,
  timelinePath,
  timelinePower,
  type TimelineSource,
} from '../../lib/timeline/index.js';
import type { Reading } from '../../lib/native/types.js';
import type { RunEnergy } from '../../lib/tracker/components.js';
import { FakeHardware, intelServer, type PowercapCounter } from '../fixtures/fake-hardware.js';
import { trackerOptionsFromFlags } from '../../lib/cli/commands/run.js';
import { loadResults } from '../../lib/store/index.js';
import { deleteResults } from '../../lib/index.js';
import { deleteRunsAndTimelines } from '../../lib/timeline/index.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { FakeNvml, nowNs } from '../fixtures/fake-nvml.js';

const KWH = 3.6e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deterministic pseudo-random sequence (no hard-coded results: the totals are computed). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('timeline downsampling', () => {
  it('keeps at most maxPoints, always the first and last, and every kept cumulative value unchanged', () => {
    const random = lcg(7);
    const times: number[] = [0];
    const energy: number[] = [0];
    for (let index = 1; index < 10_000; index++) {
      times.push(times.at(-1)! + 0.001 + random() * 0.01);
      energy.push(energy.at(-1)! + Math.floor(random() * 5_000_000)); // integer µJ steps, like a counter
    }
    const { times: keptTimes, series } = downsampleCumulative(times, [energy], 2000);
    expect(keptTimes.length).to.be.at.most(2000).and.at.least(1900);
    expect(keptTimes[0]).to.equal(0);
    expect(keptTimes.at(-1)).to.equal(times.at(-1));
    expect(series[0]!.at(-1)).to.equal(energy.at(-1)); // the total, exactly
    const byTime = new Map(times.map((time, index) => [time, energy[index]!]));
    keptTimes.forEach((time, index) => expect(series[0]![index]).to.equal(byTime.get(time)));
    // Energy of the stored segments (power × duration) adds up to the total.
    const segments = timelinePower({ t_s: keptTimes, components: [{ component: 'cpu', method: 'measured:powercap', estimated: false, energy_j: series[0]! }] });
    const integral = segments.reduce((sum, segment) => sum + segment.watts[0]! * (segment.toS - segment.fromS), 0);
    expect(integral).to.be.closeTo(energy.at(-1)!, energy.at(-1)! * 1e-12);
  });

  it('spreads the kept points over time (one per bucket) and leaves short series alone', () => {
    const times = Array.from({ length: 1001 }, (_, index) => index);
    const kept = keptIndices(times, 11);
    expect(kept).to.deep.equal([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(keptIndices([0, 1, 2], 5)).to.deep.equal([0, 1, 2]);
    expect(keptIndices([0, 0, 0, 0], 2)).to.deep.equal([0, 3]);
    expect(() => keptIndices(times, 1)).to.throw(RangeError, /maxPoints/);
  });
});

describe('TimelineRecorder', () => {
  it('bounds a long run to maxPoints and ends exactly on the record energy', () => {
    const random = lcg(11);
    let cumulative = 0;
    const readings: Reading[] = [];
    const reading = (ns: number, uj: number): Reading => ({
      timestampNs: ns,
      energyUj: [uj],
      attributedUj: [uj],
      cpu: { available: false, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: 0, logicalCpus: 0 },
    });
    const start = reading(1e9, 0);
    for (let index = 1; index <= 50_000; index++) {
      cumulative += Math.floor(random() * 1_000_000);
      readings.push(reading(1e9 + index * 1e6, cumulative));
    }
    let served = 0;
    const source: TimelineSource = {
      kind: 'native',
      samplesSince: (sinceNs) => {
        // Hands out the readings in chunks, as successive drains of the ring would.
        const chunk = readings.slice(served, served + 4000).filter((entry) => entry.timestampNs > sinceNs);
        served += 4000;
        return chunk;
      },
    };
    const recorder = new TimelineRecorder(source, start, { samplingIntervalMs: 1, maxPoints: 500 });
    for (let drain = 0; drain < 12; drain++) recorder.drain();
    const end = reading(1e9 + 50_001 * 1e6, cumulative + 123);
    const energyOf = (uj: number): RunEnergy => ({
      cpu: { joules: uj / 1e6, method: 'measured:powercap' },
      gpu: { joules: 0, method: 'none:no-gpu' },
      ram: { joules: 0, method: 'estimated:dimm-model' },
      gpuDomains: [],
      cpuUtilizationPercent: null,
    });
    const final = energyOf(cumulative + 123);
    const timeline = recorder.finish(end, (entry) => energyOf(entry.energyUj[0]!), final, { durationS: 50.001, startTime: new Date(), pue: 1 });
    expect(timeline.t_s.length).to.be.at.most(500).and.at.least(400);
    expect(timeline.components.map((component) => component.component)).to.deep.equal(['cpu', 'ram']);
    expect(timelineEnergyJ(timeline).cpu).to.equal(final.cpu.joules);
    expect(timeline.components[1]!.estimated).to.equal(true);
    const cpu = timeline.components[0]!.energy_j;
    for (let index = 1; index < cpu.length; index++) expect(cpu[index]).to.be.at.least(cpu[index - 1]!);
    // Every kept intermediate point is a reading's exact cumulative value.
    const values = new Set(readings.map((entry) => entry.energyUj[0]! / 1e6));
    for (const value of cpu.slice(1, -1)) expect(values.has(value), String(value)).to.equal(true);
  });
});

describe('TimelineRecorder draining on its timer', function () {
  this.timeout(10000);
  it('drains the ring a quarter of its length apart, and takes one reading per interval without a ring', async () => {
    expect(drainPeriodMs('native', 1000)).to.equal(60_000);
    expect(drainPeriodMs('native', 10)).to.equal(10_240);
    expect(drainPeriodMs('native', 1)).to.equal(1024);
    expect(drainPeriodMs('fallback', 1000)).to.equal(1000);
    expect(drainPeriodMs('fallback', 10)).to.equal(100);
    // A fallback source: each call is one fresh reading (as the JavaScript CPU sampler gives).
    const t0 = Number(process.hrtime.bigint());
    const reading = (): Reading => {
      const now = Number(process.hrtime.bigint());
      return { timestampNs: now, energyUj: [], attributedUj: [], cpu: { available: true, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: (now - t0) / 1e9, logicalCpus: 1 } };
    };
    const source: TimelineSource = { kind: 'fallback', samplesSince: (sinceNs) => [reading()].filter((entry) => entry.timestampNs > sinceNs) };
    const start = reading();
    const recorder = new TimelineRecorder(source, start, { samplingIntervalMs: 100 });
    await sleep(560);
    const end = reading();
    const energyOf = (entry: Reading): RunEnergy => ({
      cpu: { joules: 15 * (entry.cpu.loadModelS - start.cpu.loadModelS), method: 'estimated:tdp-load-model' },
      gpu: { joules: 0, method: 'none:no-gpu' },
      ram: { joules: 0, method: 'none:no-sensor' },
      gpuDomains: [],
      cpuUtilizationPercent: null,
    });
    const timeline = recorder.finish(end, energyOf, energyOf(end), { durationS: (end.timestampNs - start.timestampNs) / 1e9, startTime: new Date(), pue: 1 });
    expect(timeline.t_s.length).to.be.within(4, 8); // start, ~5 ticks (at least 2 on a busy machine), end
    expect(timeline.components.map((component) => [component.component, component.estimated])).to.deep.equal([['cpu', true]]);
    expect(timeline.components[0]!.energy_j.at(-1)).to.equal(energyOf(end).cpu.joules);
  });
});

describe('timelines of tracked runs (simulated counters)', function () {
  this.timeout(30000);
  let hw: FakeHardware;
  let packages: PowercapCounter[];
  let drams: PowercapCounter[];
  let outputDir: string;

  beforeEach(() => {
    ({ hw, packages, drams } = intelServer(2, 2));
    outputDir = mkdtempSync(join(tmpdir(), 'let-timeline-'));
  });
  afterEach(() => {
    hw.cleanup();
    rmSync(outputDir, { recursive: true, force: true });
  });

  it('stores a timeline whose integral is the run energy per component, exactly, with the steps where they happened', async () => {
    const tracker = new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 5, pue: 1.25 }).start();
    const steps = [
      [3.25, 0.5],
      [0, 0],
      [12.000001, 1.75],
      [0.000061, 0.25],
    ] as const;
    const cpuAfterStep: number[] = [];
    for (const [cpuJ, ramJ] of steps) {
      packages[0]!.addJoules(cpuJ / 2);
      packages[1]!.addJoules(cpuJ / 2);
      drams[0]!.addJoules(ramJ);
      cpuAfterStep.push(packages.reduce((sum, counter) => sum + Number(counter.injectedUj()), 0) / 1e6);
      await sleep(40);
    }
    const record = tracker.stop();
    const timeline = loadTimeline(record.run_id, { outputDir });
    expect(timeline).to.not.equal(null);
    const injectedCpuUj = packages.reduce((sum, counter) => sum + Number(counter.injectedUj()), 0);
    const injectedRamUj = drams.reduce((sum, counter) => sum + Number(counter.injectedUj()), 0);
    const energy = timelineEnergyJ(timeline!);
    // Exact: the counters' injected µJ, and the record's kWh recomputed from them with its PUE.
    expect(energy.cpu).to.equal(injectedCpuUj / 1e6);
    expect(energy.ram).to.equal(injectedRamUj / 1e6);
    expect((energy.cpu! * 1.25) / KWH).to.equal(record.cpu_energy);
    expect((energy.ram! * 1.25) / KWH).to.equal(record.ram_energy);
    expect(energy.gpu).to.equal(undefined); // no GPU: no series
    expect(timeline!.run_id).to.equal(record.run_id);
    expect(timeline!.pue).to.equal(1.25);
    expect(timeline!.duration_s).to.equal(record.duration);
    expect(timeline!.components.map((component) => [component.component, component.method, component.estimated])).to.deep.equal([
      ['cpu', 'measured:powercap', false],
      ['ram', 'measured:powercap', false],
    ]);
    // The samples between the steps are there: the cumulative CPU energy passes through each step's total.
    const cpu = timeline!.components[0]!.energy_j;
    expect(cpu).to.include.members(cpuAfterStep);
    expect(timeline!.t_s.length).to.be.greaterThan(10);
    for (let index = 1; index < cpu.length; index++) expect(cpu[index]).to.be.at.least(cpu[index - 1]!);
    expect(listTimelines({ outputDir })).to.deep.equal([record.run_id]);
  });

  it('in process mode, follows the attributed energy and ends on the record exactly', async () => {
    const tracker = new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 5, trackingMode: 'process' }).start();
    for (let step = 0; step < 4; step++) {
      hw.advanceCpu(40, 0);
      hw.advanceProcess(hw.selfPid, 10 * (step + 1)); // a quarter of the machine's CPU time, then more
      packages[0]!.addJoules(8);
      await sleep(40);
    }
    const record = tracker.stop();
    const timeline = loadTimeline(record.run_id, { outputDir })!;
    const cpu = timeline.components.find((component) => component.component === 'cpu')!;
    expect(cpu.method).to.equal('measured:powercap');
    expect((cpu.energy_j.at(-1)! * (record.pue ?? 1)) / KWH).to.equal(record.cpu_energy);
    expect(cpu.energy_j.at(-1)).to.be.lessThan(32); // a share of the machine's 32 J
    expect(cpu.energy_j.filter((value, index) => index > 0 && value > cpu.energy_j[index - 1]!).length).to.be.greaterThan(1);
    for (let index = 1; index < cpu.energy_j.length; index++) expect(cpu.energy_j[index]).to.be.at.least(cpu.energy_j[index - 1]!);
  });

  it('`run` stores the timeline of the command it tracks, and `--no-timeline` does not', () => {
    ensureBuilt();
    const base = ['run', '--output-dir', outputDir, '--hardware-root', hw.root, '--nvml-library', '', '--sampling-interval-ms', '10', '--no-summary'];
    const tracked = runCli([...base, '--project-name', 'with', '--', process.execPath, '-e', 'setTimeout(() => {}, 200)']);
    expect(tracked.status, tracked.stderr).to.equal(0);
    const untracked = runCli([...base, '--project-name', 'without', '--no-timeline', '--', process.execPath, '-e', '0']);
    expect(untracked.status, untracked.stderr).to.equal(0);
    const [withRun] = loadResults({ outputDir, projectName: 'with' });
    const [withoutRun] = loadResults({ outputDir, projectName: 'without' });
    const timeline = loadTimeline(withRun!.run_id, { outputDir })!;
    expect(timeline.t_s.length).to.be.greaterThan(5);
    expect((timeline.components[0]!.energy_j.at(-1)! * (withRun!.pue ?? 1)) / KWH).to.equal(withRun!.cpu_energy);
    expect(loadTimeline(withoutRun!.run_id, { outputDir })).to.equal(null);
    const flags = { save: true, summary: true };
    expect(trackerOptionsFromFlags({ ...flags, timeline: false }, 'x', 1).timeline).to.equal(false);
    expect(trackerOptionsFromFlags(flags, 'x', 1).timeline).to.equal(undefined);
  });

  it('gives a GPU measured by NVML its own series, ending on the record and following the power steps', async () => {
    const fake = FakeNvml.create({
      gpus: [{ name: 'NVIDIA H200', uuid: 'GPU-8f3c0a1e-55aa-4b1c-9d2e-0123456789ab', energyBaseNs: nowNs(), profile: [{ startNs: 0n, mW: 100_000 }] }],
    });
    try {
      const tracker = new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: fake.libraryPath, outputDir, printSummary: false, samplingIntervalMs: 20 }).start();
      // 100 W, then 300 W from 300 ms after the start on.
      fake.setProfile(0, [{ startNs: 0n, mW: 100_000 }, { startNs: nowNs() + 300_000_000n, mW: 300_000 }]);
      await sleep(700);
      const record = tracker.stop();
      const timeline = loadTimeline(record.run_id, { outputDir })!;
      const gpu = timeline.components.find((component) => component.component === 'gpu')!;
      expect([gpu.method, gpu.estimated]).to.deep.equal(['measured:nvml-energy', false]);
      expect((gpu.energy_j.at(-1)! * (record.pue ?? 1)) / KWH).to.equal(record.gpu_energy);
      const position = timeline.components.indexOf(gpu);
      const power = timelinePower(timeline).map((segment) => ({ at: segment.fromS, watts: segment.watts[position]! }));
      const mean = (list: typeof power) => list.reduce((sum, segment) => sum + segment.watts, 0) / list.length;
      // NVML's counter moves every 100 ms: compare means over whole stretches well away from the step.
      expect(mean(power.filter((segment) => segment.at < 0.2))).to.be.within(50, 150);
      expect(mean(power.filter((segment) => segment.at > 0.45))).to.be.within(200, 400);
    } finally {
      fake.dispose();
    }
  });

  it('stores nothing with timeline: false or save: false', () => {
    const base = { hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 5 };
    const off = new EnergyTracker({ ...base, timeline: false }).start().stop();
    const unsaved = new EnergyTracker({ ...base, save: false }).start().stop();
    expect(existsSync(timelinePath(off.run_id, { outputDir }))).to.equal(false);
    expect(existsSync(timelinePath(unsaved.run_id, { outputDir }))).to.equal(false);
    expect(loadTimeline(off.run_id, { outputDir })).to.equal(null);
  });

  it("the package's deleteResults deletes the deleted runs' timelines and keeps the others'", () => {
    const base = { hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 5 };
    const gone = new EnergyTracker({ ...base, projectName: 'gone' }).start().stop();
    const kept = new EnergyTracker({ ...base, projectName: 'kept' }).start().stop();
    expect(existsSync(timelinePath(gone.run_id, { outputDir }))).to.equal(true);
    expect(deleteResults({ outputDir, projectName: 'nobody' })).to.equal(0);
    expect(listTimelines({ outputDir }).sort()).to.deep.equal([gone.run_id, kept.run_id].sort());
    expect(deleteResults({ outputDir, projectName: 'gone' })).to.equal(1);
    expect(listTimelines({ outputDir })).to.deep.equal([kept.run_id]);
    expect(loadResults({ outputDir }).map((r) => r.run_id)).to.deep.equal([kept.run_id]);
    expect(deleteRunsAndTimelines({ outputDir })).to.deep.equal({ runs: 1, timelines: 1 });
    expect(listTimelines({ outputDir })).to.deep.equal([]);
  });

  it('rejects a run id that is not a file name and names a corrupt file', () => {
    expect(() => loadTimeline('../emissions', { outputDir })).to.throw(RangeError, /run id/);
    mkdirSync(join(outputDir, 'timelines'));
    writeFileSync(join(outputDir, 'timelines', 'abc.json'), '{"format":"lamarr-energy-tracker/timeline","version":1');
    expect(() => loadTimeline('abc', { outputDir })).to.throw(Error, /abc\.json: not a valid timeline/);
    writeFileSync(join(outputDir, 'timelines', 'abc.json'), JSON.stringify({ format: 'lamarr-energy-tracker/timeline', version: 1, run_id: 'abc', start_time: new Date().toISOString(), duration_s: 1, pue: 1, sampling_interval_ms: 1, t_s: [0, 1], components: [{ component: 'cpu', method: 'm', estimated: false, energy_j: [0] }] }));
    expect(() => loadTimeline('abc', { outputDir })).to.throw(Error, /energy_j has 1 entries, t_s has 2/);
  });
});

describe('timelines of estimated runs (no readable counter)', function () {
  this.timeout(30000);
  it('gives the TDP-model CPU and the DIMM-model RAM a timeline labelled estimated, ending on the record', async () => {
    const hw = FakeHardware.create();
    const outputDir = mkdtempSync(join(tmpdir(), 'let-timeline-'));
    try {
      hw.cpuinfo('GenuineIntel', 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 8).procStat(8);
      hw.process(hw.selfPid, { ppid: 1 });
      const tracker = new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 10 }).start();
      await sleep(150);
      hw.advanceCpu(800, 0); // busy
      await sleep(150);
      hw.advanceCpu(0, 800); // idle
      await sleep(150);
      const record = tracker.stop();
      const timeline = loadTimeline(record.run_id, { outputDir })!;
      expect(timeline.components.map((component) => [component.component, component.method, component.estimated])).to.deep.equal([
        ['cpu', 'estimated:tdp-load-model', true],
        ['ram', 'estimated:dimm-model', true],
      ]);
      const energy = timelineEnergyJ(timeline);
      expect((energy.cpu! * (record.pue ?? 1)) / KWH).to.equal(record.cpu_energy);
      expect((energy.ram! * (record.pue ?? 1)) / KWH).to.equal(record.ram_energy);
      // The model's power follows the load: the busy middle third draws more than the idle end.
      const power = timelinePower(timeline).map((segment) => ({ at: (segment.fromS + segment.toS) / 2, cpuW: segment.watts[0]! }));
      const busy = power.filter((segment) => segment.at > 0.17 && segment.at < 0.28).map((segment) => segment.cpuW);
      const idle = power.filter((segment) => segment.at > 0.35).map((segment) => segment.cpuW);
      expect(Math.min(...busy)).to.be.greaterThan(Math.max(...idle));
    } finally {
      hw.cleanup();
      rmSync(outputDir, { recursive: true, force: true });
    }
  });
});
