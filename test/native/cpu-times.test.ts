import { expect } from 'chai';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { openSampler } from '../fixtures/native-helpers.js';

// CpuTimes and attribution: read from the hardware root's proc/stat and proc/<pid>/stat.
describe('native sampler: CPU times and attribution', () => {
  let hw: FakeHardware;
  afterEach(() => hw?.cleanup());

  it('reports machine and process CPU seconds and attributes energy by CPU-time share', () => {
    const m = intelServer(1, 4);
    hw = m.hw;
    const s = openSampler(hw.root);
    try {
      const r0 = s.read();
      expect(r0.cpu.available).to.equal(true);
      expect(r0.cpu.logicalCpus).to.equal(4);
      m.packages[0]!.add(1_000_000);
      m.drams[0]!.add(400_000);
      hw.advanceCpu(100, 300); // 4 s of CPU time, 1 s busy: u = 0.25
      hw.advanceProcess(hw.selfPid, 100); // our process: 1 s of the 4
      const r1 = s.read();
      expect(r1.cpu.machineTotalS - r0.cpu.machineTotalS).to.equal(4);
      expect(r1.cpu.machineBusyS - r0.cpu.machineBusyS).to.equal(1);
      expect(r1.cpu.processS - r0.cpu.processS).to.equal(1);
      expect(r1.attributedUj[0]! - r0.attributedUj[0]!).to.equal(250_000);
      expect(r1.attributedUj[2]! - r0.attributedUj[2]!).to.equal(100_000);
      // Load model: ∫(0.1 + 0.9·u³)dt over the interval, u = 0.25
      const dt = (r1.timestampNs - r0.timestampNs) / 1e9;
      expect(r1.cpu.loadModelS - r0.cpu.loadModelS).to.be.closeTo((0.1 + 0.9 * 0.25 ** 3) * dt, 1e-9);
      // Energy while the tick counters stand still waits, then is attributed with the share of
      // the whole window once they move (here: the process used all of it).
      m.packages[0]!.add(2_000_000);
      const r2 = s.read();
      expect(r2.attributedUj[0]).to.equal(r1.attributedUj[0]);
      hw.advanceCpu(50, 0);
      hw.advanceProcess(hw.selfPid, 80); // more than the machine moved: clamped to 1
      const r3 = s.read();
      expect(r3.attributedUj[0]! - r2.attributedUj[0]!).to.equal(2_000_000);
    } finally {
      s.close();
    }
  });

  it('counts reaped children (cutime/cstime) of the attribution process, with or without descendants', () => {
    hw = FakeHardware.create({ selfPid: 100 });
    hw.cpuinfo('GenuineIntel', 'x', 1).procStat(1);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
    hw.process(100, { ppid: 1, utime: 10 });
    hw.process(101, { ppid: 100, utime: 0 });
    const alone = openSampler(hw.root, {});
    const tree = openSampler(hw.root, { includeDescendants: true });
    try {
      hw.advanceCpu(10, 0);
      const a0 = alone.read().cpu.processS;
      const t0 = tree.read().cpu.processS;
      hw.advanceProcess(101, 50); // the child runs 0.5 s …
      hw.reap(101); // … and exits between two samples
      expect(alone.read().cpu.processS - a0).to.be.closeTo(0.5, 1e-12);
      expect(tree.read().cpu.processS - t0).to.be.closeTo(0.5, 1e-12);
    } finally {
      alone.close();
      tree.close();
    }
  });

  it('attributionPid with includeDescendants sums the live process tree', () => {
    hw = FakeHardware.create({ selfPid: 100 });
    hw.cpuinfo('GenuineIntel', 'x', 1).procStat(1);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
    hw.process(100, { ppid: 1, utime: 0 });
    hw.process(200, { ppid: 1, utime: 10 }); // tracked root
    hw.process(201, { ppid: 200, utime: 20, stime: 5 });
    hw.process(202, { ppid: 201, utime: 30 });
    hw.process(300, { ppid: 1, utime: 1000 }); // unrelated
    const alone = openSampler(hw.root, { attributionPid: 200 });
    const tree = openSampler(hw.root, { attributionPid: 200, includeDescendants: true });
    try {
      hw.advanceCpu(10, 0);
      expect(alone.read().cpu.processS).to.be.closeTo(0.1, 1e-12);
      expect(tree.read().cpu.processS).to.be.closeTo(0.65, 1e-12);
      hw.advanceProcess(202, 100);
      expect(tree.read().cpu.processS).to.be.closeTo(1.65, 1e-12);
      expect(alone.read().cpu.processS).to.be.closeTo(0.1, 1e-12);
    } finally {
      alone.close();
      tree.close();
    }
  });

  it('without proc files: cpu.available is false and nothing is attributed', () => {
    hw = FakeHardware.create();
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0' }).add(5);
    const s = openSampler(hw.root);
    try {
      const r = s.read();
      expect(r.cpu).to.deep.equal({ available: false, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: 0, logicalCpus: 0 });
      expect(r.attributedUj).to.deep.equal([0]);
    } finally {
      s.close();
    }
  });

  it('reads the real /proc of this machine (default root)', () => {
    const s = openSampler('/');
    try {
      const a = s.read();
      let x = 0;
      const until = Date.now() + 60;
      while (Date.now() < until) x += Math.sqrt(x + 1);
      const b = s.read();
      expect(a.cpu.available).to.equal(true);
      expect(b.cpu.logicalCpus).to.be.greaterThan(0);
      expect(b.cpu.machineTotalS).to.be.at.least(a.cpu.machineTotalS);
      expect(b.cpu.processS).to.be.greaterThan(0);
      expect(b.cpu.processS - a.cpu.processS).to.be.at.least(0);
      expect(x).to.be.greaterThan(0);
    } finally {
      s.close();
    }
  });
});
