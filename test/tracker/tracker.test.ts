import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyTracker, RunNotStoredError } from '../../lib/tracker/energy-tracker.js';
import { loadResults } from '../../lib/store/index.js';
import { ALL_COLUMNS, type EmissionsRecord } from '../../lib/store/schema.js';
import { FakeHardware, intelServer, type PowercapCounter } from '../fixtures/fake-hardware.js';
import { captureStdout } from '../helpers/process-state.js';

const KWH = 3.6e6;

/** Energy in kWh → µJ, rounded (the store keeps full double precision). */
const microjoules = (kwh: number | null) => Math.round((kwh ?? 0) * KWH * 1e6);

describe('EnergyTracker on simulated hardware', function () {
  this.timeout(30000);
  let hw: FakeHardware;
  let packages: PowercapCounter[];
  let drams: PowercapCounter[];
  let outputDir: string;
  const base = () => ({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 50 });

  beforeEach(() => {
    ({ hw, packages, drams } = intelServer(2, 2));
    outputDir = mkdtempSync(join(tmpdir(), 'let-tracker-'));
  });
  afterEach(() => {
    hw.cleanup();
    rmSync(outputDir, { recursive: true, force: true });
  });

  it('measures exactly the energy put into the counters, labels it, and stores the row it returns', () => {
    const tracker = new EnergyTracker({ ...base(), projectName: 'exact', countryIsoCode: 'FRA', pue: 1.5 }).start();
    packages[0]!.addJoules(12.5);
    packages[1]!.addJoules(7.5);
    drams[0]!.addJoules(2);
    drams[1]!.addJoules(1);
    const record = tracker.stop();

    expect(microjoules(record.cpu_energy)).to.equal(20e6 * 1.5);
    expect(microjoules(record.ram_energy)).to.equal(3e6 * 1.5);
    expect(record.gpu_energy).to.equal(0);
    expect(microjoules(record.energy_consumed)).to.equal(23e6 * 1.5);
    expect(record.cpu_energy_method).to.equal('measured:powercap');
    expect(record.ram_energy_method).to.equal('measured:powercap');
    expect(record.gpu_energy_method).to.equal('none:no-gpu');
    expect(record.country_iso_code).to.equal('FRA');
    expect(record.carbon_intensity).to.be.closeTo(56.04, 0.5);
    expect(record.emissions).to.be.closeTo(((record.energy_consumed ?? 0) * (record.carbon_intensity ?? 0)) / 1000, 1e-15);
    expect(record.experiment_id).to.equal(`exact___${record.user}___${record.hostname}`);
    expect(record.run_status).to.equal('completed');
    expect(record.python_version).to.equal('');
    expect(record.codecarbon_version).to.equal('');
    expect(record.cpu_model).to.equal('Fake Xeon');
    expect(record.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);

    const stored = loadResults({ outputDir });
    expect(stored).to.have.length(1);
    for (const column of ALL_COLUMNS) {
      expect(stored[0]![column], column).to.deep.equal(record[column as keyof EmissionsRecord]);
    }
  });

  it('lets trackers overlap and nest, each measuring its own window', () => {
    const outer = new EnergyTracker({ ...base(), save: false }).start();
    packages[0]!.addJoules(1);
    const inner = new EnergyTracker({ ...base(), save: false }).start();
    packages[0]!.addJoules(2);
    const overlapping = new EnergyTracker({ ...base(), save: false }).start();
    packages[1]!.addJoules(4);
    const innerRecord = inner.stop();
    packages[0]!.addJoules(8);
    const outerRecord = outer.stop();
    packages[0]!.addJoules(16);
    const overlappingRecord = overlapping.stop();
    expect(microjoules(innerRecord.cpu_energy)).to.equal(6e6);
    expect(microjoules(outerRecord.cpu_energy)).to.equal(15e6);
    expect(microjoules(overlappingRecord.cpu_energy)).to.equal(28e6);
  });

  it('track() returns the callback value and stores the run', async () => {
    const tracker = new EnergyTracker({ ...base(), projectName: 'callback' });
    const value = await tracker.track(async () => {
      packages[0]!.addJoules(3);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 42;
    });
    expect(value).to.equal(42);
    expect(tracker.running).to.equal(false);
    const [row] = loadResults({ outputDir, projectName: 'callback' });
    expect(microjoules(row!.cpu_energy)).to.equal(3e6);
    expect(row!.run_status).to.equal('completed');
  });

  it('track() stops the tracker and stores a failed run when the callback throws', async () => {
    const tracker = new EnergyTracker({ ...base(), projectName: 'throws' });
    let caught: unknown;
    try {
      await tracker.track(() => {
        packages[0]!.addJoules(1);
        throw new Error('experiment crashed');
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(Error).with.property('message', 'experiment crashed');
    expect(tracker.running).to.equal(false);
    const rows = loadResults({ outputDir, projectName: 'throws' });
    expect(rows).to.have.length(1);
    expect(rows[0]!.run_status).to.equal('failed');
    expect(microjoules(rows[0]!.cpu_energy)).to.equal(1e6);
  });

  it('works with `using` (stops at the end of the block)', () => {
    let tracker: EnergyTracker;
    {
      using scoped = new EnergyTracker({ ...base(), projectName: 'using' }).start();
      tracker = scoped;
      packages[1]!.addJoules(5);
      expect(scoped.running).to.equal(true);
    }
    expect(tracker.running).to.equal(false);
    const rows = loadResults({ outputDir, projectName: 'using' });
    expect(rows).to.have.length(1);
    expect(microjoules(rows[0]!.cpu_energy)).to.equal(5e6);
  });

  it('works with `await using`', async () => {
    {
      await using scoped = new EnergyTracker({ ...base(), projectName: 'await-using' }).start();
      packages[0]!.addJoules(2);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(scoped.running).to.equal(true);
    }
    expect(loadResults({ outputDir, projectName: 'await-using' })).to.have.length(1);
  });

  it('refuses to start twice or stop when not running, with clear errors', () => {
    const tracker = new EnergyTracker(base()).start();
    expect(() => tracker.start()).to.throw(/already running/);
    tracker.stop();
    expect(() => tracker.stop()).to.throw(/not running/);
  });

  it('never loses a measured run: a store that cannot be appended to gives the record on the error, and the file is unchanged', () => {
    const file = join(outputDir, 'emissions.csv');
    const corrupt = 'timestamp,project_name,run_id\n2026-01-01T00:00:00,p,"unterminated\n2026-01-01T00:00:01,p,r2\n';
    writeFileSync(file, corrupt);
    const tracker = new EnergyTracker({ ...base(), projectName: 'kept' }).start();
    packages[0]!.addJoules(1);
    let caught: unknown;
    let printed = '';
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      printed += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      tracker.stop();
    } catch (error) {
      caught = error;
    } finally {
      process.stderr.write = stderr;
    }
    expect(caught).to.be.instanceOf(RunNotStoredError);
    const error = caught as RunNotStoredError;
    expect(error.message).to.include(file);
    expect(error.record.project_name).to.equal('kept');
    expect(microjoules(error.record.cpu_energy)).to.equal(1e6);
    expect(readFileSync(file, 'utf8')).to.equal(corrupt);
    expect(tracker.running).to.equal(false);
    // stop() printed the unsaved record once; constructing the error prints nothing
    expect(printed.match(/unsaved run: /g)).to.have.length(1);
    expect(JSON.parse(printed.slice(printed.indexOf('{')).trim())).to.deep.equal(error.record);
    const stderrBefore = printed;
    process.stderr.write = ((chunk: string) => {
      printed += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      new RunNotStoredError(error.record, file, new Error('x'));
    } finally {
      process.stderr.write = stderr;
    }
    expect(printed).to.equal(stderrBefore);
  });

  it('rejects an unknown country at construction', () => {
    expect(() => new EnergyTracker({ ...base(), countryIsoCode: 'XYZ' })).to.throw(RangeError, /XYZ/);
    expect(() => new EnergyTracker({ ...base(), countryIsoCode: 'XYZ', carbonIntensity: 100 })).to.throw(RangeError, /XYZ/);
  });

  it('uses the given carbon intensity over the country', () => {
    const tracker = new EnergyTracker({ ...base(), carbonIntensity: 100 }).start();
    packages[0]!.addJoules(36);
    const record = tracker.stop();
    expect(record.carbon_intensity).to.equal(100);
    expect(record.emissions).to.be.closeTo((36 / KWH) * 0.1, 1e-15);
  });

  it('prints the run energy and the statement for this project, user and host', () => {
    new EnergyTracker({ ...base(), projectName: 'other' }).start().stop();
    const tracker = new EnergyTracker({ ...base(), projectName: 'printed', printSummary: true }).start();
    packages[0]!.addJoules(10);
    const { output } = captureStdout(() => tracker.stop());
    expect(output).to.match(/^Tracker stopped - this experiment consumed /);
    expect(output).to.include('measured with RAPL');
    expect(output).to.include('Using the Lamarr Energy Tracker');
    expect(output).to.include('~\\cite{lamarr_energy_tracker');
  });

  it('gives a live snapshot of energy so far without touching the hardware', async () => {
    const tracker = new EnergyTracker({ ...base(), samplingIntervalMs: 5, save: false }).start();
    packages[0]!.addJoules(4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const snapshot = tracker.snapshot();
    expect(snapshot.energyJ.cpu).to.be.closeTo(4, 1e-6);
    expect(snapshot.elapsedS).to.be.greaterThan(0.05);
    tracker.stop();
  });

  it('a snapshot shows what the sampling thread last read, never a fresh hardware read', () => {
    // At a 60 s interval the thread does not sample during this test: a snapshot that read the
    // counters would see the 4 J; stop() reads them fresh and does.
    const tracker = new EnergyTracker({ ...base(), samplingIntervalMs: 60000, save: false }).start();
    packages[0]!.addJoules(4);
    expect(tracker.snapshot().energyJ.cpu).to.equal(0);
    expect(tracker.stop().cpu_energy! * 3.6e6).to.be.closeTo(4, 1e-6);
  });
});

describe('EnergyTracker process mode on simulated hardware', function () {
  this.timeout(30000);
  it('charges this process its share of CPU time, and two processes at most the machine', () => {
    const { hw, packages } = intelServer(1, 4);
    const outputDir = mkdtempSync(join(tmpdir(), 'let-tracker-'));
    try {
      const other = 5151;
      hw.process(other, { ppid: 1 });
      const options = { hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, save: false, trackingMode: 'process' as const, samplingIntervalMs: 60000 };
      const mine = new EnergyTracker(options).start();
      const theirs = new EnergyTracker({ ...options, attributionPid: other }).start();
      // One interval: 400 ticks of busy machine time, 100 ours and 300 theirs; 20 J in the package.
      hw.advanceCpu(400, 0);
      hw.advanceProcess(hw.selfPid, 100);
      hw.advanceProcess(other, 300);
      packages[0]!.addJoules(20);
      const myRecord = mine.stop();
      const theirRecord = theirs.stop();
      const machine = 20;
      const mineJ = ((myRecord.cpu_energy ?? 0) * KWH);
      const theirsJ = ((theirRecord.cpu_energy ?? 0) * KWH);
      expect(myRecord.tracking_mode).to.equal('process');
      expect(mineJ).to.be.closeTo(5, 1e-3);
      expect(theirsJ).to.be.closeTo(15, 1e-3);
      expect(mineJ + theirsJ).to.be.at.most(machine + 1e-6);
    } finally {
      hw.cleanup();
      rmSync(outputDir, { recursive: true, force: true });
    }
  });
});

describe('EnergyTracker without any readable counter (simulated machine)', function () {
  this.timeout(30000);
  it('estimates CPU energy from the TDP table and the measured load, and RAM from the DIMM model, and labels both', async () => {
    const hw = FakeHardware.create();
    const outputDir = mkdtempSync(join(tmpdir(), 'let-tracker-'));
    try {
      hw.cpuinfo('GenuineIntel', 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 8).procStat(8);
      hw.process(hw.selfPid, { ppid: 1 });
      // A root-only RAPL zone, as on Linux >= 5.10 for a normal user: it must not be read.
      hw.zone({ zone: 'intel-rapl:0', name: 'package-0', rootOnly: true });
      const tracker = FakeHardware.unprivileged(() =>
        new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 60000 }).start(),
      );
      // The whole machine busy for the run: load 1, so the model gives the full TDP.
      await new Promise((resolve) => setTimeout(resolve, 300));
      hw.advanceCpu(800, 0);
      const record = tracker.stop();
      expect(record.cpu_energy_method).to.equal('estimated:tdp-load-model');
      expect(record.ram_energy_method).to.equal('estimated:dimm-model');
      expect(record.gpu_energy_method).to.equal('none:no-gpu');
      expect(record.cpu_model).to.equal('Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz');
      // CodeCarbon's table: i7-10610U 15 W; P = TDP × (0.1 + 0.9 × 1³) over the run.
      const cpuJ = (record.cpu_energy ?? 0) * KWH;
      expect(cpuJ).to.be.closeTo(15 * (record.duration ?? 0), 0.05 * 15 * (record.duration ?? 0));
      expect(record.cpu_utilization_percent).to.equal(100);
      const ramW = ((record.ram_energy ?? 0) * KWH) / (record.duration ?? 1);
      expect(ramW).to.be.at.least(10);
    } finally {
      hw.cleanup();
      rmSync(outputDir, { recursive: true, force: true });
    }
  });
});
