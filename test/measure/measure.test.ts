import { expect } from 'chai';
import { measureEnergy, studentT975 } from '../../lib/measure/index.js';
import { SimSource, domain } from './sim-source.js';

function spin(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x += i % 7;
  return x;
}

describe('measureEnergy (simulated counters in process)', function () {
  this.timeout(30000);

  it('returns the known energy per call within its own interval, and the known idle power', async function () {
    // A 95% interval misses the truth in about one run in twenty by design: two more tries.
    this.retries(2);
    const perCallUj = 3.7;
    const idleW = 4.2;
    const src = new SimSource([{ domain: domain(), idleW, perCallUj }]);
    const m = await measureEnergy(
      () => {
        src.call();
        spin(50);
      },
      { source: src, batches: 8 },
    );
    expect(m.quality, m.message).to.equal('measured');
    expect(m.activeJ).to.be.a('number');
    expect(m.activeCi95J).to.not.equal(null);
    const truth = perCallUj / 1e6;
    expect(m.activeCi95J!.low).to.be.at.most(truth);
    expect(m.activeCi95J!.high).to.be.at.least(truth);
    expect(Math.abs(m.activeJ! - truth) / truth).to.be.below(0.02);
    expect(m.idlePowerW).to.be.closeTo(idleW, idleW * 0.02);
    expect(m.domains[0]!.idleBeforeW).to.be.closeTo(idleW, idleW * 0.05);
    expect(m.domains[0]!.idleAfterW).to.be.closeTo(idleW, idleW * 0.05);
    // total = active + idle × time per call
    expect(m.totalJ!).to.be.closeTo(truth + idleW * m.timePerOpS!, truth * 0.05 + idleW * m.timePerOpS! * 0.05);
    expect(m.batches).to.equal(8);
    expect(m.iterations).to.equal(8 * m.iterationsPerBatch);
    // the batch meets the criteria derived from the domain (1000 × 61.035 µJ, 50 × 1 ms)
    expect(m.minBatchMs).to.equal(50);
    expect(m.minBatchEnergyJ).to.be.closeTo(0.061035, 1e-9);
    expect(m.batchMs!).to.be.at.least(50 * 0.95);
    expect(m.batchEnergyJ!).to.be.at.least(0.061035);
    expect(m.devices.cpu!.activeJ).to.equal(m.activeJ);
    expect(m.devices.gpu).to.equal(null);
    expect(src.released).to.equal(1);
  });

  it('awaits async functions one call after another', async function () {
    // Its 95% interval misses the truth in about one run in twenty by design: two more tries.
    this.retries(2);
    const perCallUj = 40;
    const src = new SimSource([{ domain: domain(), idleW: 1, perCallUj }]);
    let inFlight = 0;
    let maxInFlight = 0;
    const m = await measureEnergy(
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await Promise.resolve();
        src.call();
        inFlight--;
      },
      { source: src, batches: 5 },
    );
    expect(m.async).to.equal(true);
    expect(maxInFlight).to.equal(1);
    expect(m.quality, m.message).to.equal('measured');
    expect(m.activeCi95J!.low).to.be.at.most(perCallUj / 1e6);
    expect(m.activeCi95J!.high).to.be.at.least(perCallUj / 1e6);
  });

  it('sums top-level domains per device and keeps subzones out of the sum', async () => {
    const pkg = domain({ id: 'p0', name: 'package-0' });
    const core = domain({ id: 'p0c', name: 'core', kind: 'core', parentId: 'p0' });
    const gpu = domain({
      id: 'g0',
      name: 'Fake GPU',
      device: 'gpu',
      kind: 'gpu',
      method: 'nvml-energy',
      resolutionUj: 1000,
      updatePeriodMs: 1,
    });
    const src = new SimSource([
      { domain: pkg, idleW: 3, perCallUj: 10 },
      { domain: core, idleW: 1, perCallUj: 8 },
      { domain: gpu, idleW: 50, perCallUj: 30 },
    ]);
    const m = await measureEnergy(() => src.call(), { source: src, batches: 6 });
    expect(m.quality, m.message).to.equal('measured');
    expect(m.domains.map((d) => d.summed)).to.deep.equal([true, false, true]);
    expect(m.devices.cpu!.activeJ! * 1e6).to.be.closeTo(10, 0.5);
    expect(m.devices.gpu!.activeJ! * 1e6).to.be.closeTo(30, 1.5);
    expect(m.activeJ! * 1e6).to.be.closeTo(40, 2);
    expect(m.domains[1]!.activeJ! * 1e6).to.be.closeTo(8, 0.5);
    // the GPU's coarser step asks for a larger batch energy
    expect(m.domains[2]!.minBatchEnergyJ).to.be.closeTo(1, 1e-9);
    expect(m.domains[2]!.batchEnergyJ!).to.be.at.least(1);
  });

  it('restricts to the devices asked for', async () => {
    const gpu = domain({ id: 'g0', device: 'gpu', kind: 'gpu', method: 'nvml-energy', resolutionUj: 1000 });
    const src = new SimSource([
      { domain: domain(), idleW: 3, perCallUj: 10 },
      { domain: gpu, idleW: 50, perCallUj: 30 },
    ]);
    const m = await measureEnergy(() => src.call(), { source: src, batches: 3, devices: ['cpu'] });
    expect(m.domains.map((d) => d.domain.id)).to.deep.equal(['sim:package-0']);
    expect(m.devices.gpu).to.equal(null);
  });

  it('reports below-resolution (no number) when the counter does not move enough within the budget', async () => {
    // No idle power and a tiny energy per call: the 61 µJ counter barely moves.
    const src = new SimSource([{ domain: domain(), idleW: 0, perCallUj: 0.0005 }]);
    let calls = 0;
    const m = await measureEnergy(
      () => {
        calls++;
        src.call();
      },
      { source: src, batches: 4, maxTimeMs: 800, warmupMs: 20 },
    );
    expect(calls).to.be.greaterThan(0);
    expect(m.quality).to.equal('below-resolution');
    expect(m.activeJ).to.equal(null);
    expect(m.activeCi95J).to.equal(null);
    expect(m.totalJ).to.equal(null);
    expect(m.meanPowerW).to.equal(null);
    expect(m.upperBoundJ).to.be.a('number');
    expect(m.upperBoundJ!).to.be.at.least(0.0005 / 1e6);
    expect(m.message).to.match(/below resolution/i);
    expect(m.elapsedMs).to.be.below(800 * 1.5 + 500);
  });

  it('reports below-resolution when the active energy is not distinguishable from idle', async () => {
    // Plenty of idle energy (the batch criteria are met), but the call adds almost nothing.
    const src = new SimSource([{ domain: domain(), idleW: 6, perCallUj: 1e-7 }]);
    const m = await measureEnergy(() => src.call(), { source: src, batches: 10 });
    expect(m.quality, m.message).to.equal('below-resolution');
    expect(m.activeJ).to.equal(null);
    expect(m.upperBoundJ).to.be.a('number');
    // the total (idle included) was resolved and is still given, labelled by quality
    expect(m.totalJ).to.be.a('number');
    expect(m.message).to.match(/not distinguishable from idle/);
  });

  it('reports estimate-only without counters, without running the function', async () => {
    const src = new SimSource([], true);
    let calls = 0;
    const m = await measureEnergy(() => calls++, { source: src });
    expect(m.quality).to.equal('estimate-only');
    expect(calls).to.equal(0);
    for (const v of [m.totalJ, m.activeJ, m.activeCi95J, m.meanPowerW, m.timePerOpS]) expect(v).to.equal(null);
    expect(m.message).to.match(/estimates only/i);
    expect(src.released).to.equal(1);
  });

  it('treats GPU power samples (no energy counter) as estimate-only', async () => {
    const gpu = domain({ id: 'g0', device: 'gpu', kind: 'gpu', method: 'nvml-power', resolutionUj: 1000 });
    const src = new SimSource([{ domain: gpu, idleW: 50, perCallUj: 1 }]);
    const m = await measureEnergy(() => src.call(), { source: src });
    expect(m.quality).to.equal('estimate-only');
    expect(m.activeJ).to.equal(null);
    expect(m.message).to.match(/power samples/);
  });

  it('reports no-sensor when not even estimates are possible', async () => {
    const m = await measureEnergy(() => 0, { source: new SimSource([], false) });
    expect(m.quality).to.equal('no-sensor');
    expect(m.activeJ).to.equal(null);
  });

  it('uses a given idle baseline without an idle phase', async () => {
    const src = new SimSource([{ domain: domain(), idleW: 2, perCallUj: 5 }]);
    // Idle windows (and the settle before them) are timed sleeps: count them rather than time
    // the run, so a loaded machine cannot fail the test.
    const sleeps = async (options: Parameters<typeof measureEnergy>[1]) => {
      const realSetTimeout = globalThis.setTimeout;
      let count = 0;
      globalThis.setTimeout = ((fn: () => void, ms?: number) => {
        if ((ms ?? 0) >= 1) count++;
        return realSetTimeout(fn, ms);
      }) as typeof setTimeout;
      try {
        return { m: await measureEnergy(() => src.call(), options), count };
      } finally {
        globalThis.setTimeout = realSetTimeout;
      }
    };
    const { m, count } = await sleeps({ source: src, idlePowerW: 2, batches: 4, minBatchMs: 100 });
    expect(m.idlePowerW).to.equal(2);
    expect(m.domains[0]!.idleSource).to.equal('given');
    expect(m.domains[0]!.idleBeforeW).to.equal(null);
    // 4 batches + calibration, no 2 × 3 idle windows of 100 ms (nor the settle before them)
    expect(count).to.equal(0);
    expect((await sleeps({ source: src, batches: 4, minBatchMs: 100 })).count).to.equal(1 + 2 * 3);
    expect(m.domains[0]!.idleAfterW).to.equal(null);
    expect(m.activeJ! * 1e6).to.be.closeTo(5, 0.25);
  });

  it('a wrong idle baseline shows up in the active energy (the baseline is really used)', async () => {
    const src = new SimSource([{ domain: domain(), idleW: 2, perCallUj: 5 }]);
    const m = await measureEnergy(() => src.call(), { source: src, idlePowerW: 0, batches: 3 });
    // with idle 0 the "active" energy is the total
    expect(m.activeJ!).to.be.closeTo(m.totalJ!, 1e-12);
    // a non-zero wrong baseline (true idle is 2 W): active = total − 0.5 W × time per call,
    // which a skipped subtraction would not give
    const wrong = await measureEnergy(() => src.call(), { source: src, idlePowerW: 0.5, batches: 3 });
    expect(wrong.quality).to.equal('measured');
    const subtracted = wrong.totalJ! - wrong.activeJ!;
    expect(subtracted).to.be.above(0);
    expect(subtracted).to.be.closeTo(0.5 * wrong.timePerOpS!, 1e-9 * wrong.totalJ!);
  });

  it('validates options', async () => {
    const src = new SimSource([{ domain: domain(), idleW: 1, perCallUj: 1 }]);
    await expectReject(measureEnergy(() => 0, { source: src, batches: 0 }), /batches/);
    await expectReject(measureEnergy(() => 0, { source: src, minBatchMs: -1 }), /minBatchMs/);
    await expectReject(measureEnergy(() => 0, { source: src, idlePowerW: { nope: 1 } }), /unknown domain/);
    const two = new SimSource([
      { domain: domain({ id: 'a' }), idleW: 1, perCallUj: 1 },
      { domain: domain({ id: 'b', index: 1 }), idleW: 1, perCallUj: 1 },
    ]);
    await expectReject(measureEnergy(() => 0, { source: two, idlePowerW: 3 }), /exactly one top-level domain/);
  });

  it('releases the source when the function throws', async () => {
    const src = new SimSource([{ domain: domain(), idleW: 1, perCallUj: 1 }]);
    let calls = 0;
    await expectReject(
      measureEnergy(
        () => {
          if (++calls > 3) throw new Error('boom');
        },
        { source: src, idlePowerW: 1 },
      ),
      /boom/,
    );
    expect(src.released).to.equal(1);
  });
});

describe('studentT975', () => {
  it('matches the table', () => {
    expect(studentT975(1)).to.be.closeTo(12.706, 1e-3);
    expect(studentT975(9)).to.be.closeTo(2.262, 1e-3);
    expect(studentT975(60)).to.be.closeTo(2.0, 1e-3);
    expect(studentT975(1e9)).to.be.closeTo(1.96, 1e-3);
    expect(studentT975(9.5)).to.be.within(2.228, 2.262);
  });
});

async function expectReject(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (error) {
    expect((error as Error).message).to.match(re);
    return;
  }
  expect.fail(`expected a rejection matching ${re}`);
}

describe('measureEnergy with a fixed batch size', function () {
  this.timeout(30000);
  it('runs exactly the calls asked for and says when the criteria are not met', async () => {
    const src = new SimSource([{ domain: domain(), idleW: 5, perCallUj: 1 }]);
    let calls = 0;
    const m = await measureEnergy(
      () => {
        calls++;
        src.call();
      },
      { source: src, iterationsPerBatch: 7, batches: 4, idlePowerW: 5, warmupMs: 0 },
    );
    expect(m.iterationsPerBatch).to.equal(7);
    expect(m.batches).to.equal(4);
    expect(m.batchDurationsMs).to.have.length(4);
    expect(calls).to.equal(1 + 28); // one warm-up call, no calibration
    expect(m.quality).to.equal('below-resolution'); // 7 calls last far less than 50 ms
    expect(m.activeJ).to.equal(null);
  });
});

describe('measureEnergy interval coverage under noise', function () {
  this.timeout(120000);
  // 40 runs, at least 33 covered: with the interval's real coverage (~95%, measured over 150
  // runs) this fails once in ~1,000 suites (8 of 10 failed once in ~75), and an interval that
  // covers only 80% passes it less than half the time (8 of 10: two times in three).
  it('contains the true energy per call in at least 33 of 40 noisy runs (nominal 95%)', async () => {
    const perCallUj = 5;
    let covered = 0;
    const misses: string[] = [];
    for (let run = 0; run < 40; run++) {
      // random energy per call (uniform 0…10 µJ) and an idle power that jumps within ±2 W every 5 ms
      const src = new SimSource([{ domain: domain(), idleW: 4, perCallUj, jitter: true, noiseW: 2 }]);
      const m = await measureEnergy(() => src.call(), { source: src, batches: 6, minBatchMs: 20, warmupMs: 20 });
      const ci = m.activeCi95J ?? m.devices.cpu?.activeCi95J ?? null;
      if (m.quality === 'measured' && ci && ci.low <= perCallUj / 1e6 && ci.high >= perCallUj / 1e6) covered++;
      else misses.push(`${m.quality} ${JSON.stringify(ci)} ${m.message}`);
    }
    if (process.env.LET_TEST_VERBOSE) console.log(`covered ${covered}/40`, misses);
    expect(covered, misses.join('\n')).to.be.at.least(33);
  });
});
