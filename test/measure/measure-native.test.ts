/**
 * measureEnergy on simulated hardware through the native sampler: a fake powercap zone whose
 * energy_uj file is advanced by a driver that adds a known energy per call of the test
 * function (the function itself writes the counter) plus a known idle power (advanced by the
 * wall time elapsed at every write, and by a 1 ms timer while the process sleeps).
 */
import { expect } from 'chai';
import { measureEnergy } from '../../lib/measure/index.js';
import { FakeHardware, type PowercapCounter } from '../fixtures/fake-hardware.js';

/** Drives a fake counter: idle watts by wall time, plus a known energy per call, in whole steps. */
class EnergyDriver {
  private trueUj = 0;
  private written = 0;
  private last = process.hrtime.bigint();
  private timer: NodeJS.Timeout | null = null;
  calls = 0;
  constructor(
    private readonly counter: PowercapCounter,
    private readonly idleW: number,
    private readonly perCallUj: number,
    private readonly stepUj = 61,
  ) {}
  tick(extraUj = 0): void {
    const now = process.hrtime.bigint();
    this.trueUj += (this.idleW * Number(now - this.last)) / 1e3 + extraUj; // W × ns = nJ
    this.last = now;
    const target = Math.floor(this.trueUj / this.stepUj) * this.stepUj;
    if (target > this.written) {
      this.counter.add(target - this.written);
      this.written = target;
    }
  }
  /** One call of the function under test. */
  call(): void {
    this.calls++;
    this.tick(this.perCallUj);
  }
  start(): this {
    this.last = process.hrtime.bigint();
    this.timer = setInterval(() => this.tick(), 1);
    return this;
  }
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function machine(options: { rootOnly?: boolean } = {}): { hw: FakeHardware; pkg: PowercapCounter } {
  const hw = FakeHardware.create({ selfPid: process.pid });
  hw.cpuinfo('GenuineIntel', 'Fake Core', 2).procStat(2).cpu(0, 0).cpu(1, 0);
  hw.process(process.pid, { ppid: 1 });
  const pkg = hw.zone({ zone: 'intel-rapl:0', name: 'package-0', ...(options.rootOnly ? { rootOnly: true } : {}) });
  return { hw, pkg };
}

describe('measureEnergy on simulated hardware (native sampler)', function () {
  this.timeout(60000);
  let hw: FakeHardware | null = null;
  let driver: EnergyDriver | null = null;

  before(async () => {
    // The addon is built before the tests (npm test): a missing build fails here, loudly.
    const loader = await import('../../lib/native/loader.js');
    loader.loadNativeBinding();
  });

  afterEach(() => {
    driver?.stop();
    driver = null;
    hw?.cleanup();
    hw = null;
  });

  it('returns the known energy per call within its stated interval, and the known idle power', async function () {
    // A 95% interval misses the truth in about one run in twenty by design: two more tries.
    this.retries(2);
    const m0 = machine();
    hw = m0.hw;
    const perCallUj = 40;
    const idleW = 8;
    driver = new EnergyDriver(m0.pkg, idleW, perCallUj).start();
    const d = driver;
    const m = await measureEnergy(() => d.call(), { hardwareRoot: hw.root, nvmlLibrary: '', batches: 8 });
    expect(m.quality, m.message).to.equal('measured');
    expect(m.domains).to.have.length(1);
    const dom = m.domains[0]!;
    expect(dom.domain.name).to.equal('package-0');
    // defaults come from the sensor: 1000 × its resolution, 50 × its update period
    expect(dom.minBatchEnergyJ).to.be.closeTo((1000 * dom.domain.resolutionUj) / 1e6, 1e-12);
    expect(m.minBatchMs).to.equal(50 * Math.max(1, dom.domain.updatePeriodMs));
    const truth = perCallUj / 1e6;
    expect(m.activeCi95J!.low, JSON.stringify(m.activeCi95J)).to.be.at.most(truth);
    expect(m.activeCi95J!.high, JSON.stringify(m.activeCi95J)).to.be.at.least(truth);
    expect(Math.abs(m.activeJ! - truth) / truth).to.be.below(0.1);
    expect(m.idlePowerW!).to.be.closeTo(idleW, idleW * 0.1);
    expect(d.calls).to.be.at.least(m.iterations);
  });

  it('reports below-resolution when the counter does not move enough', async () => {
    const m0 = machine();
    hw = m0.hw;
    driver = new EnergyDriver(m0.pkg, 0, 0.001).start();
    const d = driver;
    const m = await measureEnergy(() => d.call(), {
      hardwareRoot: hw.root,
      nvmlLibrary: '',
      batches: 3,
      maxTimeMs: 1500,
      warmupMs: 10,
    });
    expect(m.quality).to.equal('below-resolution');
    expect(m.activeJ).to.equal(null);
    expect(m.upperBoundJ).to.be.a('number');
  });

  it('reports estimate-only when the counters are not readable, naming the sensor', async () => {
    const m0 = machine({ rootOnly: true });
    hw = m0.hw;
    const prev = process.env.LET_TEST_UNPRIVILEGED;
    process.env.LET_TEST_UNPRIVILEGED = '1';
    let calls = 0;
    try {
      const m = await measureEnergy(() => calls++, { hardwareRoot: hw.root, nvmlLibrary: '' });
      expect(m.quality, m.message).to.equal('estimate-only');
      expect(m.activeJ).to.equal(null);
      expect(m.totalJ).to.equal(null);
      expect(m.message).to.contain('energy_uj');
      expect(calls).to.equal(0);
    } finally {
      if (prev === undefined) delete process.env.LET_TEST_UNPRIVILEGED;
      else process.env.LET_TEST_UNPRIVILEGED = prev;
    }
  });
});
