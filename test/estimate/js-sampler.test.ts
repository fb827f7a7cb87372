import { expect } from 'chai';
import { cpus, type CpuInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsCpuSampler, machineCpuEnergyJ, processCpuEnergyJ } from '../../lib/estimate/index.js';

/** A fake machine: per-CPU cumulative times (ms) the test advances, a fake clock and process time. */
class FakeMachine {
  clockMs = 1_000;
  processUs = 500_000;
  calls = 0;
  readonly times: Array<{ busy: number; idle: number }>;
  constructor(n: number) {
    this.times = Array.from({ length: n }, () => ({ busy: 10_000, idle: 90_000 }));
  }
  /** Advance wall time by ms, with every CPU busy for `load` of it. */
  advance(ms: number, load: number, processMs = 0): void {
    this.clockMs += ms;
    for (const t of this.times) {
      t.busy += ms * load;
      t.idle += ms * (1 - load);
    }
    this.processUs += processMs * 1000;
  }
  cpus = (): CpuInfo[] => {
    this.calls++;
    return this.times.map((t) => ({
      model: 'Fake',
      speed: 1000,
      times: { user: t.busy * 0.7, nice: 0, sys: t.busy * 0.3, idle: t.idle, irq: 0 },
    }));
  };
  sampler(intervalMs = 1000): JsCpuSampler {
    return new JsCpuSampler({
      intervalMs,
      cpus: this.cpus,
      cpuUsage: () => ({ user: this.processUs * 0.8, system: this.processUs * 0.2 }),
      now: () => this.clockMs,
    });
  }
}

describe('estimate: JsCpuSampler (pure-JavaScript fallback)', () => {
  it('integrates the load model per interval', () => {
    const m = new FakeMachine(4);
    const s = m.sampler();
    const r0 = s.read();
    expect(r0).to.include({ available: true, logicalCpus: 4, loadModelS: 0 });
    expect(r0.machineTotalS).to.be.closeTo(4 * 100, 1e-9);
    expect(r0.machineBusyS).to.be.closeTo(4 * 10, 1e-9);
    expect(r0.processS).to.be.closeTo(0.5, 1e-12);

    m.advance(2000, 0.5, 300);
    const r1 = s.read();
    expect(r1.loadModelS).to.be.closeTo(2 * (0.1 + 0.9 * 0.125), 1e-9);
    expect(r1.machineTotalS - r0.machineTotalS).to.be.closeTo(8, 1e-9);
    expect(r1.machineBusyS - r0.machineBusyS).to.be.closeTo(4, 1e-9);
    expect(r1.processS - r0.processS).to.be.closeTo(0.3, 1e-9);

    m.advance(1000, 1);
    m.advance(1000, 0); // two intervals seen as one sample: mean load 0.5
    const r2 = s.read();
    expect(r2.loadModelS - r1.loadModelS).to.be.closeTo(2 * (0.1 + 0.9 * 0.125), 1e-9);

    m.advance(1000, 1);
    const r3 = s.read();
    expect(r3.loadModelS - r2.loadModelS).to.be.closeTo(1, 1e-9);

    // feeds the estimate helpers
    expect(machineCpuEnergyJ(100, r0, r3)).to.be.closeTo(100 * r3.loadModelS, 1e-9);
    expect(processCpuEnergyJ(100, r0, r1)).to.be.closeTo((100 * 0.3) / 4, 1e-9);
  });

  it('uses the previous load for an interval in which the tick counters did not move', () => {
    const m = new FakeMachine(2);
    const s = m.sampler();
    s.read();
    m.advance(1000, 1);
    const a = s.read();
    m.clockMs += 5; // 5 ms later, counters unchanged
    const b = s.read();
    expect(b.loadModelS - a.loadModelS).to.be.closeTo(0.005, 1e-12);
  });

  it('samples on its timer, which does not keep the process alive, and stops', async () => {
    const m = new FakeMachine(1);
    const s = m.sampler(20);
    s.start();
    expect(s.running).to.equal(true);
    const before = m.calls;
    await sleep(150);
    expect(m.calls - before).to.be.at.least(3);
    s.stop();
    expect(s.running).to.equal(false);
    const afterStop = m.calls;
    await sleep(80);
    expect(m.calls).to.equal(afterStop);
    s.stop(); // idempotent
  });

  it('reports unavailable when no per-CPU times exist', () => {
    const s = new JsCpuSampler({ cpus: () => [] });
    expect(s.read()).to.deep.equal({ available: false, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: 0, logicalCpus: 0 });
  });

  it('gives plausible readings on this machine while this process burns CPU', async function () {
    this.timeout(20000);
    const s = new JsCpuSampler({ intervalMs: 50 });
    s.start();
    const t0 = performance.now();
    const r0 = s.read();
    // Burn until this process has used 0.3 s of CPU (wall time varies with the machine's load).
    const cpuAtStart = process.cpuUsage();
    const deadline = performance.now() + 10000;
    let x = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 10000; i++) x += Math.sqrt(x + 1);
      const used = process.cpuUsage(cpuAtStart);
      if ((used.user + used.system) / 1e6 >= 0.3) break;
    }
    expect(x).to.be.greaterThan(0);
    await sleep(100);
    const r1 = s.read();
    const wallS = (performance.now() - t0) / 1000;
    s.stop();
    expect(r1.available).to.equal(true);
    expect(r1.logicalCpus).to.equal(cpus().length);
    const dProcess = r1.processS - r0.processS;
    expect(dProcess).to.be.within(0.25, wallS * r1.logicalCpus + 0.05);
    const dLoad = r1.loadModelS - r0.loadModelS;
    // the factor lies in [0.1, 1], so the integral lies in [0.1, 1] × elapsed time
    expect(dLoad).to.be.within(0.1 * (wallS - 0.1), wallS + 0.01);
    expect(r1.machineBusyS - r0.machineBusyS).to.be.at.least(0);
    expect(r1.machineBusyS - r0.machineBusyS).to.be.at.most(r1.machineTotalS - r0.machineTotalS);
  });
});
