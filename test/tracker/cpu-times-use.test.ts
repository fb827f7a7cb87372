import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { cpuTimesUse } from '../../lib/tracker/components.js';
import { acquireSampler, closeIdleSamplers, pooledSamplerCount } from '../../lib/native/sampler-pool.js';
import { CPU_LOAD_MODEL } from '../../lib/estimate/cpu-power.js';
import type { DomainInfo } from '../../lib/native/types.js';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';

function domain(kind: DomainInfo['kind'], device: DomainInfo['device'] = 'cpu', parentId: string | null = null): DomainInfo {
  return {
    id: `${kind}-${device}`,
    device,
    kind,
    name: kind,
    index: 0,
    die: -1,
    parentId,
    method: device === 'gpu' ? 'nvml-energy' : 'powercap',
    resolutionUj: 1,
    wrapRangeUj: 0,
    source: 'x',
    uuid: null,
    updatePeriodMs: 1,
  };
}

describe('tracker: which CPU times the sampling thread reads (cpuTimesUse)', () => {
  const pkg = domain('package');
  const dram = domain('dram', 'cpu', 'package-cpu');
  const gpu = domain('gpu', 'gpu');
  const cases: Array<[string, DomainInfo[], 'machine' | 'process', boolean, { machine: boolean; process: boolean }]> = [
    ['machine mode, CPU measured', [pkg, dram, gpu], 'machine', false, { machine: false, process: false }],
    ['machine mode, CPU measured, live', [pkg], 'machine', true, { machine: false, process: false }],
    ['machine mode, CPU estimated (load model)', [gpu], 'machine', false, { machine: true, process: false }],
    ['machine mode, nothing measured', [], 'machine', true, { machine: true, process: false }],
    ['process mode, CPU measured (attribution)', [pkg, gpu], 'process', false, { machine: true, process: true }],
    ['process mode, only RAM measured (attribution)', [dram], 'process', false, { machine: true, process: true }],
    ['process mode, estimated', [gpu], 'process', false, { machine: false, process: false }],
    ['process mode, estimated, live', [], 'process', true, { machine: false, process: true }],
  ];
  for (const [name, domains, mode, live, want] of cases) {
    it(name, () => expect(cpuTimesUse(domains, mode, live)).to.deep.equal(want));
  }
});

describe('tracker: the sampling thread of a run reads only the CPU times the run uses', function () {
  this.timeout(30000);
  let hw: FakeHardware;
  beforeEach(() => closeIdleSamplers());
  afterEach(() => {
    closeIdleSamplers();
    hw?.cleanup();
  });

  /** The tracker's pooled sampler, through a lease of our own that needs nothing itself. */
  function peek(): ReturnType<typeof acquireSampler> {
    const before = pooledSamplerCount();
    const lease = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', loadModel: CPU_LOAD_MODEL, cpuTimes: { machine: false, process: false } });
    expect(pooledSamplerCount()).to.equal(before); // the same sampler as the tracker's
    return lease;
  }

  const options = () => ({ hardwareRoot: hw.root, nvmlLibrary: '', save: false, printSummary: false, samplingIntervalMs: 1 });

  it('machine mode with RAPL counters: the ticks never read proc/stat (it could not even be parsed)', async () => {
    hw = intelServer(1, 2).hw;
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'machine' }).start();
    const lease = peek();
    try {
      const before = lease.latest().cpu;
      expect(before.available).to.equal(true);
      writeFileSync(hw.path('proc/stat'), 'garbage\n');
      const samples = lease.sampler.stats().samples;
      await sleep(100);
      expect(lease.sampler.stats().samples).to.be.greaterThan(samples + 10);
      expect(lease.latest().cpu).to.deep.equal(before);
      hw.advanceCpu(100, 100); // a readable proc/stat again for stop()'s fresh reading
    } finally {
      lease.release();
      const record = tracker.stop();
      expect(record.cpu_energy_method).to.equal('measured:powercap');
      expect(record.cpu_utilization_percent).to.equal(50);
    }
  });

  it('machine mode without a CPU counter: the ticks read proc/stat (the load model), not the process', async () => {
    hw = FakeHardware.create({ selfPid: 4242 });
    hw.cpuinfo('GenuineIntel', 'Fake Xeon', 2).procStat(2).process(4242, { ppid: 1 });
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'machine' }).start();
    const lease = peek();
    try {
      const before = lease.latest().cpu;
      hw.advanceCpu(100, 100).advanceProcess(4242, 30);
      for (let i = 0; i < 200 && lease.latest().cpu.machineTotalS === before.machineTotalS; i++) await sleep(10);
      expect(lease.latest().cpu.machineTotalS - before.machineTotalS).to.equal(2);
      expect(lease.latest().cpu.processS).to.equal(before.processS);
    } finally {
      lease.release();
      expect(tracker.stop().cpu_energy_method).to.equal('estimated:tdp-load-model');
    }
  });

  it('process mode with RAPL counters: the ticks read both (attribution)', async () => {
    hw = intelServer(1, 2).hw;
    const tracker = new EnergyTracker({ ...options(), trackingMode: 'process' }).start();
    const lease = peek();
    try {
      const before = lease.latest().cpu;
      hw.advanceCpu(100, 100).advanceProcess(hw.selfPid, 30);
      for (let i = 0; i < 200 && lease.latest().cpu.processS === before.processS; i++) await sleep(10);
      expect(lease.latest().cpu.processS - before.processS).to.be.closeTo(0.3, 1e-12);
      expect(lease.latest().cpu.machineTotalS - before.machineTotalS).to.equal(2);
    } finally {
      lease.release();
      tracker.stop();
    }
  });
});
