import { expect } from 'chai';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { describeMethod } from '../../lib/tracker/components.js';
import { methodPhrase } from '../../lib/statement/methodology.js';
import { closeIdleSamplers } from '../../lib/native/sampler-pool.js';
import { openSamplerSource } from '../../lib/native/sampler-source.js';
import { openMeasurement } from '../../lib/tracker/measurement.js';
import { FakeHardware } from '../fixtures/fake-hardware.js';

/** Keep this thread busy for `ms` (the CPU the estimate must see). */
function busy(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1e4; i++) x += Math.sqrt(i);
  return x;
}

describe('tracker: a CPU estimate where /proc/stat is missing', function () {
  this.timeout(30000);
  let hw: FakeHardware;
  beforeEach(() => {
    closeIdleSamplers();
    // A CPU the sampler can name, no RAPL counters, no proc/stat (macOS, some sandboxes).
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake Xeon', 2).process(hw.selfPid, { ppid: 1, utime: 0, stime: 0 });
  });
  afterEach(() => {
    closeIdleSamplers();
    hw.cleanup();
  });

  const options = () => ({ hardwareRoot: hw.root, nvmlLibrary: '', save: false, printSummary: false });

  it('the native sampler itself reports no CPU times on this root (what the fallback replaces)', () => {
    const source = openSamplerSource({ hardwareRoot: hw.root, nvmlLibrary: '' });
    try {
      expect(source.read().cpu.available).to.equal(false);
      expect(source.estimatesAvailable).to.equal(false);
      expect(source.cpuTimesOrigin).to.equal(null);
    } finally {
      source.release();
    }
  });

  it('machine mode: a busy CPU is estimated above 0 W from os.cpus(), and labelled so', () => {
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'machine' }).start();
    busy(300);
    const record = tracker.stop();
    expect(record.cpu_energy_method).to.equal('estimated:tdp-load-model+os-cpus');
    expect(record.cpu_energy).to.be.greaterThan(0);
    expect(record.cpu_power).to.be.greaterThan(0);
    expect(record.cpu_utilization_percent).to.be.a('number');
  });

  it("process mode: this process's busy CPU time is estimated above 0 W from process.cpuUsage(), labelled", () => {
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'process' }).start();
    busy(300);
    const record = tracker.stop();
    expect(record.cpu_energy_method).to.equal('estimated:tdp-process-share+os-cpus');
    expect(record.cpu_energy).to.be.greaterThan(0);
  });

  it('process mode for another process: process.cpuUsage() cannot stand in, so no os-cpus label', () => {
    hw.process(999, { ppid: 1, utime: 0, stime: 0 });
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'process', attributionPid: 999 }).start();
    busy(50);
    const record = tracker.stop();
    expect(record.cpu_energy_method).to.equal('estimated:tdp-process-share');
    expect(record.cpu_energy).to.equal(0);
  });

  it('with /proc/stat present the native CPU times are used and the label has no os-cpus', () => {
    hw.procStat(2);
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'machine' }).start();
    const record = tracker.stop();
    expect(record.cpu_energy_method).to.equal('estimated:tdp-load-model');
  });

  it('the source says its CPU times come from os.cpus() and gives a timeline one reading on demand', () => {
    const source = openMeasurement({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 1000, trackingMode: 'machine', live: false });
    try {
      expect(source.kind).to.equal('fallback');
      expect(source.fallbackReason).to.equal(null);
      const samples = source.samplesSince(0);
      expect(samples).to.have.length(1);
      expect(samples[0]!.cpu).to.include({ available: true, origin: 'os-cpus' });
      expect(samples[0]!.cpu.logicalCpus).to.be.greaterThan(0);
    } finally {
      source.release();
    }
    expect(source.samplesSince(0)).to.deep.equal([]);
  });

  it('the summary and the statement say where the CPU times came from', () => {
    expect(describeMethod('estimated:tdp-load-model+os-cpus')).to.equal(
      "estimated from the CPU's TDP and load (CPU times from os.cpus() and process.cpuUsage(), as /proc/stat was missing)",
    );
    expect(methodPhrase('estimated:tdp-load-model+os-cpus')).to.equal(
      "estimated from the CPU's TDP and load (CPU times from os.cpus(), as /proc/stat was missing)",
    );
    expect(methodPhrase('estimated:tdp-load-model')).to.equal("estimated from the CPU's TDP and load");
  });
});
