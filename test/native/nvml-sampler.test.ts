/**
 * NVML through the real addon: a Sampler on an empty hardware root (no RAPL) with the fake
 * libnvidia-ml.so.1, whose control file the test rewrites while the sampling thread runs.
 * Discovery, reasons, init/shutdown pairing, exact energy-counter accounting (intervals 1 ms to
 * the 1 s default, resets, injected errors) and power-only integration within 1%.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNativeBinding } from '../../lib/native/loader.js';
import type { NativeSampler, NativeSamplerOptions, Reading } from '../../lib/native/types.js';
import { FakeNvml, NVML, nowNs, type FakeGpu } from '../fixtures/fake-nvml.js';
import { mulberry32 } from '../helpers/random.js';

const H200 = { name: 'NVIDIA H200', uuid: 'GPU-8f3c0a1e-55aa-4b1c-9d2e-0123456789ab' };
const A100 = { name: 'NVIDIA A100-SXM4-80GB', uuid: 'GPU-8f3c77b0-1111-2222-3333-444455556666' };
const K80 = { name: 'Tesla K80', uuid: 'GPU-0d1e2f30-aaaa-bbbb-cccc-ddddeeeeffff' };

const MS = 1_000_000n;

const rng = mulberry32;

describe('native sampler: NVML (fake libnvidia-ml.so.1)', function () {
  this.timeout(60000);
  let root: string;
  let fake: FakeNvml;
  const open: NativeSampler[] = [];

  function sampler(gpus: FakeGpu[] | null, extra: NativeSamplerOptions = {}): NativeSampler {
    if (gpus !== null) fake.update((st) => void (st.gpus = gpus));
    const s = new (loadNativeBinding().Sampler)({ hardwareRoot: root, nvmlLibrary: fake.libraryPath, ...extra });
    open.push(s);
    return s;
  }

  function gpuDomain(s: NativeSampler, uuid: string): number {
    const i = s.domains.findIndex((d) => d.uuid === uuid);
    expect(i, `domain for ${uuid} in ${JSON.stringify(s.domains)}`).to.be.at.least(0);
    return i;
  }

  const deltaUj = (a: Reading, b: Reading, i: number) => b.energyUj[i]! - a.energyUj[i]!;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'let-nvml-root-'));
    fake = FakeNvml.create({ gpus: [] });
  });

  afterEach(() => {
    while (open.length > 0) open.pop()!.close();
    fake.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  describe('discovery', () => {
    it('lists every GPU with name, UUID, index and method (energy counter, else power)', () => {
      const s = sampler([
        { ...H200, energyMj: 10n },
        { ...A100, energyMj: 20n },
        { ...K80, energyRc: NVML.NOT_SUPPORTED, powerMw: 60000 },
      ]);
      const p = s.probe();
      expect(p.nvmlLoaded).to.equal(true);
      expect(p.nvmlDriverVersion).to.equal('555.42.06-fake');
      expect(p.unavailable).to.deep.equal([]);
      expect(s.domains).to.have.length(3);
      const [h, a, k] = [H200, A100, K80].map((g) => s.domains[gpuDomain(s, g.uuid)]!);
      expect(h).to.include({
        id: `nvml:${H200.uuid}`,
        device: 'gpu',
        kind: 'gpu',
        name: H200.name,
        index: 0,
        die: -1,
        parentId: null,
        method: 'nvml-energy',
        resolutionUj: 1000,
        wrapRangeUj: 0,
        source: 'nvml',
        uuid: H200.uuid,
      });
      expect(a).to.include({ index: 1, name: A100.name, method: 'nvml-energy' });
      expect(k).to.include({ index: 2, name: K80.name, method: 'nvml-power', id: `nvml:${K80.uuid}` });
    });

    it('selects GPUs by NVML index, UUID or UUID prefix', () => {
      const gpus = [
        { ...H200, energyMj: 1n },
        { ...A100, energyMj: 1n },
        { ...K80, energyMj: 1n },
      ];
      const pick = (ids: string[]) => sampler(gpus, { gpuIds: ids }).domains.map((d) => d.index);
      expect(pick(['1'])).to.deep.equal([1]);
      expect(pick([K80.uuid])).to.deep.equal([2]);
      expect(pick(['GPU-0d1e'])).to.deep.equal([2]);
      expect(pick(['2', 'GPU-8f3c0a'])).to.deep.equal([0, 2]);
    });

    it('a selector that matches nothing is reported with the GPUs NVML sees', () => {
      const s = sampler([{ ...H200, energyMj: 1n }], { gpuIds: ['3'] });
      expect(s.domains).to.deep.equal([]);
      const p = s.probe();
      expect(p.unavailable).to.have.length(1);
      expect(p.unavailable[0]!.method).to.equal('nvml');
      expect(p.unavailable[0]!.reason).to.contain('"3" matches no GPU').and.contain(H200.uuid);
      expect(p.unavailable[0]!.fix).to.contain('nvidia-smi -L');
    });

    it('a missing library: no GPU domains, nvmlLoaded false, and no sensor problem', () => {
      const s = sampler(null, { nvmlLibrary: join(root, 'no-driver', 'libnvidia-ml.so.1') });
      const p = s.probe();
      expect(p.nvmlLoaded).to.equal(false);
      expect(p.domains).to.deep.equal([]);
      expect(p.unavailable.filter((u) => u.method === 'nvml')).to.deep.equal([]);
      expect(fake.calls()).to.deep.equal([]);
    });

    it('DRIVER_NOT_LOADED: an actionable reason with name and number, and the fix', () => {
      fake.update((st) => {
        st.gpus = [{ ...H200, energyMj: 1n }];
        st.initRc = NVML.DRIVER_NOT_LOADED;
      });
      const s = sampler(null);
      const p = s.probe();
      expect(p.nvmlLoaded).to.equal(false);
      expect(s.domains).to.deep.equal([]);
      expect(p.unavailable).to.have.length(1);
      const u = p.unavailable[0]!;
      expect(u.method).to.equal('nvml');
      expect(u.reason).to.contain('NVML returned DRIVER_NOT_LOADED (9): the NVIDIA kernel driver is not loaded');
      expect(u.fix).to.equal('load it (sudo modprobe nvidia) or reinstall the driver');
      s.close();
      // The failed init is never paired with a shutdown.
      expect(fake.calls().map((c) => `${c.fn} ${c.rc}`)).to.deep.equal(['nvmlInit_v2 9']);
    });

    it('NO_PERMISSION at init, and on one GPU only, are reported with a fix', () => {
      fake.setInitResult(NVML.NO_PERMISSION);
      let p = sampler([{ ...H200, energyMj: 1n }]).probe();
      expect(p.unavailable[0]!.reason).to.contain('NO_PERMISSION (4)');
      expect(p.unavailable[0]!.fix).to.contain('/dev/nvidia');
      fake.setInitResult(NVML.SUCCESS);
      p = sampler([
        { ...H200, energyMj: 1n },
        { ...A100, handleRc: NVML.NO_PERMISSION },
      ]).probe();
      expect(p.domains.map((d) => d.uuid)).to.deep.equal([H200.uuid]);
      expect(p.unavailable).to.have.length(1);
      expect(p.unavailable[0]!.target).to.equal('GPU 1');
      expect(p.unavailable[0]!.reason).to.contain('NO_PERMISSION (4)');
    });

    it('a GPU with neither energy counter nor power is reported, not measured', () => {
      const p = sampler([
        { ...H200, energyMj: 1n },
        { ...K80, energyRc: NVML.NOT_SUPPORTED, powerRc: NVML.NOT_SUPPORTED },
      ]).probe();
      expect(p.domains.map((d) => d.uuid)).to.deep.equal([H200.uuid]);
      expect(p.unavailable).to.have.length(1);
      expect(p.unavailable[0]!.target).to.contain(K80.uuid);
      expect(p.unavailable[0]!.reason).to.contain('NOT_SUPPORTED (3)');
    });

    it('initialises NVML once per sampler and shuts it down exactly once when the sampler closes', async () => {
      const s = sampler([{ ...H200, energyMj: 1n }]);
      expect([fake.initCount(), fake.shutdownCount()]).to.deep.equal([1, 0]);
      for (let i = 0; i < 5; i++) {
        const t = s.acquire(1);
        s.read();
        await sleep(5);
        s.release(t);
        s.probe();
      }
      expect([fake.initCount(), fake.shutdownCount()]).to.deep.equal([1, 0]);
      const s2 = sampler(null);
      expect([fake.initCount(), fake.shutdownCount()]).to.deep.equal([2, 0]);
      s.close();
      expect([fake.initCount(), fake.shutdownCount()]).to.deep.equal([2, 1]);
      s.close();
      expect(() => s.read()).to.throw();
      expect([fake.initCount(), fake.shutdownCount()]).to.deep.equal([2, 1]);
      // The other sampler still reads its GPU after the first one shut its NVML reference down.
      fake.setEnergy(0, 5n);
      const before = s2.read();
      fake.setEnergy(0, 12n);
      expect(deltaUj(before, s2.read(), 0)).to.equal(7000);
      expect(s2.stats().readErrors).to.equal(0);
      s2.close();
      expect([fake.initCount(), fake.shutdownCount()]).to.deep.equal([2, 2]);
      expect(fake.calls().every((c) => c.rc === 0 && c.fn !== 'nvmlInit')).to.equal(true);
    });
  });

  describe('energy counter GPUs', () => {
    for (const intervalMs of [1, 10, 100, 1000]) {
      it(`a section equals the injected energy exactly at a ${intervalMs} ms interval`, async () => {
        const s = sampler([
          { ...H200, energyMj: 987_654_321_000n },
          { ...A100, energyMj: 0n },
        ]);
        const [h, a] = [gpuDomain(s, H200.uuid), gpuDomain(s, A100.uuid)];
        const token = s.acquire(intervalMs);
        expect(s.stats().intervalMs).to.equal(intervalMs);
        const r0 = s.read();
        const samples0 = s.stats().samples;
        const rand = rng(intervalMs);
        let e0 = 987_654_321_000n;
        let e1 = 0n;
        let inj0 = 0n;
        let inj1 = 0n;
        // Long enough for the thread to sample at least twice inside the section.
        const until = Date.now() + Math.max(300, 2.5 * intervalMs);
        while (Date.now() < until) {
          const d0 = BigInt(Math.floor(rand() * 1500)); // up to ~1.5 J per ~2 ms step: < 1 kW
          const d1 = BigInt(Math.floor(rand() * 40));
          e0 += d0;
          e1 += d1;
          inj0 += d0;
          inj1 += d1;
          fake.update((st) => {
            st.gpus[0]!.energyMj = e0;
            st.gpus[1]!.energyMj = e1;
          });
          await sleep(2);
        }
        const r1 = s.read();
        const st = s.stats();
        s.release(token);
        expect(st.samples - samples0, 'thread samples inside the section').to.be.at.least(3);
        expect(deltaUj(r0, r1, h)).to.equal(Number(inj0) * 1000);
        expect(deltaUj(r0, r1, a)).to.equal(Number(inj1) * 1000);
        expect(st.readErrors + st.anomalies + st.resets).to.equal(0);
        expect(r1.energyUj[h]! % 1000).to.equal(0);
      });
    }

    it('a counter following a power profile gives its exact integral (to 1 mJ)', async () => {
      const s = sampler([{ ...H200 }]);
      const t0 = nowNs() + 300n * MS; // well after r0, even on a loaded machine
      const profile = [
        { startNs: t0, mW: 123_457 },
        { startNs: t0 + 230n * MS, mW: 351_003 },
        { startNs: t0 + 410n * MS, mW: 77_777 },
        { startNs: t0 + 600n * MS, mW: 0 },
      ];
      fake.setProfile(0, profile);
      fake.useProfileEnergy(0, 5_000_000n, 0n);
      const token = s.acquire(10);
      const r0 = s.read(); // power still 0: the counter stands still around this read
      expect(BigInt(r0.timestampNs) < t0, 'r0 before the profile started').to.equal(true);
      await sleep(1050);
      const r1 = s.read();
      s.release(token);
      const truthMj = Math.floor(fake.truthUj(0, t0 - 1n, t0 + 1000n * MS) / 1000);
      expect(truthMj).to.equal(Math.floor((123_457 * 230 + 351_003 * 180 + 77_777 * 190) / 1000));
      expect(deltaUj(r0, r1, 0)).to.equal(truthMj * 1000);
    });

    it('a counter decrease is a reset: re-baselined, never negative or huge', async () => {
      const s = sampler([{ ...H200, energyMj: 4_000_000_000n }]);
      const token = s.acquire(1);
      const r0 = s.read();
      fake.setEnergy(0, 4_000_001_000n);
      s.read(); // the sampler has seen +1000 mJ
      fake.setEnergy(0, 50n); // driver reload: the counter restarts
      await sleep(20);
      s.read();
      fake.setEnergy(0, 750n);
      await sleep(20);
      const r1 = s.read();
      s.release(token);
      const d = deltaUj(r0, r1, 0);
      // 1000 before the reset + 700 after it, plus at most the 50 mJ the counter showed at the
      // first reading after the restart (energy since the restart).
      expect(d).to.be.within(1_700_000, 1_750_000);
      const st = s.stats();
      expect(st.resets).to.equal(1);
      expect(st.perDomain[0]!.resets).to.equal(1);
      expect(st.anomalies).to.equal(0);
    });

    it('a reset while the thread samples at 1 ms neither invents nor loses more than the reset gap', async () => {
      const s = sampler([{ ...H200, energyMj: 9_000_000n }]);
      const token = s.acquire(1);
      const r0 = s.read();
      let e = 9_000_000n;
      let injected = 0n;
      for (let i = 0; i < 60; i++) {
        const d = BigInt(100 + i);
        if (i === 30) {
          e = d; // reset, then d mJ since the restart
        } else {
          e += d;
        }
        injected += d;
        fake.setEnergy(0, e);
        await sleep(3);
      }
      const r1 = s.read();
      s.release(token);
      const d = deltaUj(r0, r1, 0);
      expect(d).to.be.at.most(Number(injected) * 1000);
      // At most the energy since the restart seen at the first post-reset sample is lost.
      expect(d).to.be.at.least(Number(injected - 130n) * 1000);
      expect(s.stats().resets).to.equal(1);
    });

    it('injected read errors are skipped: nothing lost, nothing invented (thread at 1 ms)', async () => {
      const s = sampler([
        { ...H200, energyMj: 1_000_000n },
        { ...A100, energyMj: 1_000_000n },
      ]);
      const [h, a] = [gpuDomain(s, H200.uuid), gpuDomain(s, A100.uuid)];
      const token = s.acquire(1);
      const r0 = s.read();
      let e = 1_000_000n;
      let injected = 0n;
      const codes = [NVML.UNKNOWN, NVML.GPU_IS_LOST, NVML.TIMEOUT, NVML.NO_PERMISSION];
      for (let i = 0; i < 40; i++) {
        if (i % 10 === 0) fake.injectError(0, 'energy', codes[i / 10]!, 5);
        e += 777n;
        injected += 777n;
        fake.setEnergy(0, e);
        await sleep(2);
      }
      await sleep(30); // let the thread use up the injected failures
      // A fresh read that fails too.
      fake.injectError(0, 'energy', NVML.UNKNOWN, 1);
      e += 1n;
      injected += 1n;
      fake.setEnergy(0, e);
      const mid = s.read();
      expect(deltaUj(r0, mid, h)).to.be.at.most(Number(injected) * 1000);
      await sleep(50);
      const r1 = s.read();
      const st = s.stats();
      s.release(token);
      expect(deltaUj(r0, r1, h)).to.equal(Number(injected) * 1000);
      expect(deltaUj(r0, r1, a)).to.equal(0);
      expect(st.perDomain[h]!.readErrors).to.equal(21);
      expect(st.perDomain[a]!.readErrors).to.equal(0);
      expect(st.anomalies + st.resets).to.equal(0);
    });

    it('a GPU lost mid-section counts read errors and does not disturb the other GPU', async () => {
      const s = sampler([
        { ...H200, energyMj: 100n },
        { ...A100, energyMj: 100n },
      ]);
      const [h, a] = [gpuDomain(s, H200.uuid), gpuDomain(s, A100.uuid)];
      const token = s.acquire(1);
      const r0 = s.read();
      fake.update((st) => {
        st.gpus[0]!.energyMj = 600n;
        st.gpus[1]!.energyMj = 400n;
      });
      s.read();
      fake.update((st) => void (st.gpus[1]!.energyRc = NVML.GPU_IS_LOST));
      fake.setEnergy(0, 900n);
      await sleep(30);
      const r1 = s.read();
      s.release(token);
      expect(deltaUj(r0, r1, h)).to.equal(800_000);
      expect(deltaUj(r0, r1, a)).to.equal(300_000);
      expect(s.stats().perDomain[a]!.readErrors).to.be.at.least(2);
    });
  });

  describe('power-only GPUs', () => {
    it('integrates a piecewise-constant power profile within 1% of the truth (10 ms interval)', async () => {
      const s = sampler([{ ...K80, energyRc: NVML.NOT_SUPPORTED }]);
      expect(s.domains[0]!.method).to.equal('nvml-power');
      const t = nowNs();
      const profile = [
        { startNs: t - 1000n * MS, mW: 100_000 },
        { startNs: t + 300n * MS, mW: 300_000 },
        { startNs: t + 900n * MS, mW: 50_000 },
        { startNs: t + 1500n * MS, mW: 250_000 },
        { startNs: t + 2100n * MS, mW: 150_000 },
      ];
      fake.setProfile(0, profile);
      const token = s.acquire(10);
      const r0 = s.read();
      await sleep(2700);
      const r1 = s.read();
      s.release(token);
      const truthUj = fake.truthUj(0, BigInt(r0.timestampNs), BigInt(r1.timestampNs));
      const measured = deltaUj(r0, r1, 0);
      expect(truthUj).to.be.greaterThan(400e6);
      expect(Math.abs(measured - truthUj) / truthUj, `measured ${measured} µJ, truth ${truthUj} µJ`).to.be.below(0.01);
      expect(s.stats().readErrors).to.equal(0);
    });

    it('a constant power over a short section is exact to the trapezoid (no thread)', async () => {
      const s = sampler([{ ...K80, energyRc: NVML.NOT_SUPPORTED, powerMw: 200_000 }]);
      const r0 = s.read();
      await sleep(50);
      const r1 = s.read();
      const truthUj = (200_000 * (r1.timestampNs - r0.timestampNs)) / 1e6;
      // Timestamps and power reads differ by microseconds: 200 W × 20 µs = 4000 µJ.
      expect(Math.abs(deltaUj(r0, r1, 0) - truthUj)).to.be.below(4000);
    });

    it('a failed power read is skipped; the integral resumes from the last good sample', async () => {
      const s = sampler([{ ...K80, energyRc: NVML.NOT_SUPPORTED, powerMw: 100_000 }]);
      const token = s.acquire(10);
      const r0 = s.read();
      fake.injectError(0, 'power', NVML.UNKNOWN, 10);
      await sleep(400);
      const r1 = s.read();
      s.release(token);
      const truthUj = (100_000 * (r1.timestampNs - r0.timestampNs)) / 1e6;
      expect(Math.abs(deltaUj(r0, r1, 0) - truthUj) / truthUj).to.be.below(0.01);
      expect(s.stats().readErrors).to.equal(10);
    });

    it('an impossible power reading (4 MW) is dropped as an anomaly; the integral bridges it', async () => {
      const s = sampler([{ ...K80, energyRc: NVML.NOT_SUPPORTED, powerMw: 100_000 }]);
      const r0 = s.read();
      await sleep(50);
      fake.setPower(0, 4_000_000_000); // 4 MW: far above the 5 kW plausibility bound
      s.read();
      fake.setPower(0, 100_000);
      await sleep(50);
      const r1 = s.read();
      const truthUj = (100_000 * (r1.timestampNs - r0.timestampNs)) / 1e6;
      // Integrated, the 4 MW sample alone would add about 2 MW × 50 ms = 100 kJ.
      expect(Math.abs(deltaUj(r0, r1, 0) - truthUj), `measured ${deltaUj(r0, r1, 0)} µJ, truth ${truthUj} µJ`).to.be.below(4000);
      expect(s.stats().anomalies).to.equal(1);
    });
  });
});
