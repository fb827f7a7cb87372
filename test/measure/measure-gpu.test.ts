/**
 * measureEnergy on GPUs through the native sampler and the fake libnvidia-ml.so.1: the batch
 * criteria come from the GPU domain's own resolution (1 mJ) and update period (100 ms), idle
 * power is measured on the GPU's counter, and a GPU with power samples only is estimate-only.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureEnergy } from '../../lib/measure/index.js';
import { FakeNvml, NVML, nowNs } from '../fixtures/fake-nvml.js';

const H200 = { name: 'NVIDIA H200', uuid: 'GPU-8f3c0a1e-55aa-4b1c-9d2e-0123456789ab' };

describe('measureEnergy on GPUs (native sampler, fake NVML)', function () {
  this.timeout(60000);
  let root: string;
  let fake: FakeNvml | null = null;

  before(async () => {
    // The addon is built before the tests (npm test): a missing build fails here, loudly.
    const loader = await import('../../lib/native/loader.js');
    loader.loadNativeBinding();
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'let-gpu-root-'));
  });
  afterEach(() => {
    fake?.dispose();
    fake = null;
    rmSync(root, { recursive: true, force: true });
  });

  const gpuAt = (watts: number) => ({ ...H200, energyBaseNs: nowNs(), profile: [{ startNs: 0n, mW: watts * 1000 }] });

  it("derives the batch criteria from the GPU counter's step and update period", async () => {
    fake = FakeNvml.create({ gpus: [gpuAt(60)] });
    const t0 = Date.now();
    const m = await measureEnergy(() => 0, {
      hardwareRoot: root,
      nvmlLibrary: fake.libraryPath,
      devices: ['gpu'],
      maxTimeMs: 2500,
      batches: 3,
    });
    const elapsed = Date.now() - t0;
    const d = m.domains[0]!;
    expect(d.domain.method).to.equal('nvml-energy');
    // the budget holds even though one idle window "should" last 5 s
    expect(elapsed).to.be.below(2500 * 1.3 + 500);
    expect(m.minBatchMs).to.equal(50 * d.domain.updatePeriodMs);
    expect(d.minBatchEnergyJ).to.be.closeTo((1000 * d.domain.resolutionUj) / 1e6, 1e-12);
    // 2.5 s cannot hold batches of 50 × 100 ms: said so, no number
    expect(m.quality).to.equal('below-resolution');
    expect(m.activeJ).to.equal(null);
    expect(m.message).to.match(/update period of 100 ms/);
  });

  it("measures the GPU's idle power and finds no active energy for CPU-only code", async () => {
    fake = FakeNvml.create({ gpus: [gpuAt(75)] });
    let x = 0;
    const m = await measureEnergy(
      () => {
        for (let i = 0; i < 50; i++) x += i;
      },
      { hardwareRoot: root, nvmlLibrary: fake.libraryPath, devices: ['gpu'], minBatchMs: 60, batches: 5 },
    );
    expect(x).to.be.greaterThan(0);
    expect(m.idlePowerW!).to.be.closeTo(75, 75 * 0.03);
    expect(m.devices.gpu!.meanPowerW!).to.be.closeTo(75, 75 * 0.03);
    // the function adds nothing on the GPU: not distinguishable from idle, so no number
    expect(m.quality, m.message).to.equal('below-resolution');
    expect(m.activeJ).to.equal(null);
    expect(m.upperBoundJ).to.be.a('number');
  });

  it('calls a GPU with power samples only estimate-only', async () => {
    fake = FakeNvml.create({ gpus: [{ ...H200, energyRc: NVML.NOT_SUPPORTED, powerMw: 60000 }] });
    let calls = 0;
    const m = await measureEnergy(() => calls++, { hardwareRoot: root, nvmlLibrary: fake.libraryPath, devices: ['gpu'] });
    expect(m.quality).to.equal('estimate-only');
    expect(m.message).to.match(/power samples/);
    expect(m.activeJ).to.equal(null);
    expect(calls).to.equal(0);
  });
});
