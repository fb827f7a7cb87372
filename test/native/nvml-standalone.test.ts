/**
 * native/linux/nvml.cpp tested on its own (no addon): the standalone driver nvml_check links it
 * and runs it against the fake libnvidia-ml.so.1 described by a control file.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FakeNvml, NVML, NvmlCheck, buildIncompleteNvml, nowNs } from '../fixtures/fake-nvml.js';

const H200 = { name: 'NVIDIA H200', uuid: 'GPU-8f3c0a1e-55aa-4b1c-9d2e-0123456789ab' };
const V100 = { name: 'Tesla V100-SXM2-16GB', uuid: 'GPU-8f3c77b0-1111-2222-3333-444455556666' };
const K80 = { name: 'Tesla K80', uuid: 'GPU-0d1e2f30-aaaa-bbbb-cccc-ddddeeeeffff' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('NVML (nvml.cpp against the fake, no addon)', function () {
  this.timeout(120000);
  let fake: FakeNvml;
  let check: NvmlCheck;

  const open = async (path = fake.libraryPath) => check.send(`open ${path}`);

  beforeEach(() => {
    fake = FakeNvml.create({
      gpus: [
        { ...H200, energyMj: 1_000_000n },
        { ...V100, energyMj: 5n, limitMw: 300000 },
        { ...K80, energyRc: NVML.NOT_SUPPORTED, powerMw: 149000 },
      ],
    });
    check = new NvmlCheck();
  });

  afterEach(async () => {
    expect(await check.quit()).to.equal(0);
    fake.dispose();
  });

  describe('Open', () => {
    it('initialises with nvmlInit_v2 exactly once and shuts down exactly once on close', async () => {
      const r = await open();
      expect(r).to.include({ ok: true, absent: false, driver: '555.42.06-fake' });
      expect(fake.calls().map((c) => `${c.fn} ${c.rc}`)).to.deep.equal(['nvmlInit_v2 0']);
      await check.send('devices');
      await check.send('energy 0');
      expect(fake.calls()).to.have.length(1);
      expect(await check.send('close')).to.deep.equal({ closed: true });
      expect(fake.calls().map((c) => `${c.fn} ${c.rc}`)).to.deep.equal(['nvmlInit_v2 0', 'nvmlShutdown 0']);
      // A second library instance is a second init/shutdown pair, never an unbalanced call.
      await open();
      await check.send('close');
      expect(fake.initCount()).to.equal(2);
      expect(fake.shutdownCount()).to.equal(2);
      expect(fake.calls().filter((c) => c.rc !== 0)).to.deep.equal([]);
    });

    it('reports a missing library as absent (a machine without NVIDIA drivers)', async () => {
      const r = await open(join(tmpdir(), 'no-such-dir-let', 'libnvidia-ml.so.1'));
      expect(r.ok).to.equal(false);
      expect(r.absent).to.equal(true);
      expect(r.problem.reason).to.match(/not found/);
      expect(fake.calls()).to.deep.equal([]);
    });

    it('reports a file that is not a loadable library as a problem, not as absent', async () => {
      const r = await open(fake.statePath);
      expect(r).to.include({ ok: false, absent: false });
      expect(r.problem.reason).to.contain('cannot load NVML library');
      expect(r.problem.fix).to.not.equal('');
    });

    it('reports missing entry points by name', async () => {
      const r = await open(buildIncompleteNvml());
      expect(r).to.include({ ok: false, absent: false });
      expect(r.problem.reason).to.contain('nvmlShutdown').and.contain('nvmlDeviceGetCount_v2');
      expect(r.problem.fix).to.contain('upgrade the NVIDIA driver');
    });

    it('DRIVER_NOT_LOADED: reason with name and number, a fix, and no shutdown after the failed init', async () => {
      fake.setInitResult(NVML.DRIVER_NOT_LOADED);
      const r = await open();
      expect(r).to.include({ ok: false, absent: false });
      expect(r.problem.target).to.equal('nvml');
      expect(r.problem.reason).to.contain('NVML returned DRIVER_NOT_LOADED (9): the NVIDIA kernel driver is not loaded');
      expect(r.problem.fix).to.equal('load it (sudo modprobe nvidia) or reinstall the driver');
      expect(fake.calls().map((c) => `${c.fn} ${c.rc}`)).to.deep.equal(['nvmlInit_v2 9']);
    });

    it('NO_PERMISSION and LIB_RM_VERSION_MISMATCH: actionable reasons', async () => {
      fake.setInitResult(NVML.NO_PERMISSION);
      let r = await open();
      expect(r.problem.reason).to.contain('NO_PERMISSION (4)');
      expect(r.problem.fix).to.contain('/dev/nvidia');
      fake.setInitResult(NVML.LIB_RM_VERSION_MISMATCH);
      r = await open();
      expect(r.problem.reason).to.contain('LIB_RM_VERSION_MISMATCH (18)');
      expect(r.problem.fix).to.contain('reboot');
      fake.setInitResult(12345);
      r = await open();
      expect(r.problem.reason).to.contain('(12345)');
      expect(fake.shutdownCount()).to.equal(0);
    });

    it('an injected init failure affects only that call', async () => {
      fake.injectGlobalError('init', NVML.UNKNOWN, 1);
      expect((await open()).ok).to.equal(false);
      expect((await open()).ok).to.equal(true);
      await check.send('close');
      expect(fake.calls().map((c) => `${c.fn} ${c.rc}`)).to.deep.equal([
        'nvmlInit_v2 999',
        'nvmlInit_v2 0',
        'nvmlShutdown 0',
      ]);
    });
  });

  describe('Devices', () => {
    it('lists every GPU with name, UUID, energy counter or power only, and power limit', async () => {
      await open();
      const r = await check.send('devices');
      expect(r.problems).to.deep.equal([]);
      expect(r.devices).to.deep.equal([
        { index: 0, ...H200, energy: true, power: true, limitMw: 700000, handle: true },
        { index: 1, ...V100, energy: true, power: true, limitMw: 300000, handle: true },
        { index: 2, ...K80, energy: false, power: true, limitMw: 700000, handle: true },
      ]);
    });

    it('selects by index, UUID, UUID prefix (with or without GPU-, any case), once each, in NVML order', async () => {
      await open();
      const pick = async (sel: string) => (await check.send(`devices ${sel}`)).devices.map((d: { index: number }) => d.index);
      expect(await pick('2')).to.deep.equal([2]);
      expect(await pick(K80.uuid)).to.deep.equal([2]);
      expect(await pick('GPU-0d1e')).to.deep.equal([2]);
      expect(await pick('0D1E2F')).to.deep.equal([2]);
      expect(await pick(`2 ${V100.uuid} 1 gpu-0d1e`)).to.deep.equal([1, 2]);
    });

    it('a selector matching nothing, or several GPUs, is a problem naming the GPUs seen', async () => {
      await open();
      const r = await check.send('devices 7 GPU-8f3c 0');
      expect(r.devices.map((d: { index: number }) => d.index)).to.deep.equal([0]);
      expect(r.problems).to.have.length(2);
      expect(r.problems[0].reason).to.contain('"7" matches no GPU').and.contain(H200.uuid);
      expect(r.problems[0].fix).to.contain('nvidia-smi -L');
      expect(r.problems[1].reason).to.contain('"GPU-8f3c" is ambiguous');
      const none = await check.send('devices GPU-ffff');
      expect(none.devices).to.deep.equal([]);
      expect(none.problems[0].reason).to.contain('"GPU-ffff" matches no GPU');
    });

    it('a GPU with neither counter nor power, or whose handle fails, is a problem with its target', async () => {
      fake.update((s) => {
        s.gpus[1]!.energyRc = NVML.NOT_SUPPORTED;
        s.gpus[1]!.powerRc = NVML.NOT_SUPPORTED;
        s.gpus[2]!.handleRc = NVML.NO_PERMISSION;
      });
      await open();
      const r = await check.send('devices');
      expect(r.devices.map((d: { index: number }) => d.index)).to.deep.equal([0]);
      expect(r.problems).to.have.length(2);
      expect(r.problems[0].target).to.equal(`GPU 1 ${V100.uuid}`);
      expect(r.problems[0].reason).to.contain('NOT_SUPPORTED (3)').and.contain(V100.name);
      expect(r.problems[1].target).to.equal('GPU 2');
      expect(r.problems[1].reason).to.contain('NO_PERMISSION (4)');
      expect(r.problems[1].fix).to.contain('/dev/nvidia');
      // Unselected GPUs are not reported.
      expect((await check.send('devices 0')).problems).to.deep.equal([]);
    });

    it('a failing device count is a problem for nvml', async () => {
      fake.update((s) => {
        s.countRc = NVML.GPU_IS_LOST;
      });
      await open();
      const r = await check.send('devices');
      expect(r.devices).to.deep.equal([]);
      expect(r.problems[0]).to.include({ target: 'nvml' });
      expect(r.problems[0].reason).to.contain('GPU_IS_LOST (15)');
    });

    it('zero GPUs: no devices, no problems', async () => {
      fake.update((s) => {
        s.gpus = [];
      });
      await open();
      expect(await check.send('devices')).to.deep.equal({ devices: [], problems: [] });
    });
  });

  describe('Reads', () => {
    it('reads the energy counter and power as the driver sets them', async () => {
      await open();
      await check.send('devices');
      expect(await check.send('energy 0')).to.deep.equal({ rc: 0, mj: 1000000 });
      fake.setEnergy(0, 2n ** 40n + 7n);
      expect(await check.send('energy 0')).to.deep.equal({ rc: 0, mj: 2 ** 40 + 7 });
      expect(await check.send('power 2')).to.deep.equal({ rc: 0, mw: 149000 });
      expect((await check.send('energy 2')).rc).to.equal(NVML.NOT_SUPPORTED);
    });

    it('the profile-driven counter equals the exact integral of the power profile', async () => {
      // The profile starts well after the first read, even on a loaded machine.
      const t0 = nowNs() + 400_000_000n;
      const profile = [
        { startNs: t0, mW: 123456 },
        { startNs: t0 + 30_000_000n, mW: 300001 },
        { startNs: t0 + 47_000_000n, mW: 0 },
      ];
      fake.setProfile(0, profile);
      fake.useProfileEnergy(0, 1000n, 0n);
      await open();
      await check.send('devices');
      expect((await check.send('energy 0')).mj).to.equal(1000);
      expect(nowNs() < t0, 'first read before the profile started').to.equal(true);
      await sleep(500);
      const truthMj = Math.floor(fake.truthUj(0, 0n, t0 + 1_000_000_000n) / 1000);
      expect(truthMj).to.equal(Math.floor((123456 * 30 + 300001 * 17) / 1000));
      expect((await check.send('energy 0')).mj).to.equal(1000 + truthMj);
      fake.resetCounter(0);
      expect((await check.send('energy 0')).mj).to.equal(0);
    });

    it('power follows a piecewise-constant profile on CLOCK_MONOTONIC', async () => {
      const t0 = nowNs();
      fake.setProfile(2, [
        { startNs: t0 - 1_000_000_000n, mW: 50000 },
        { startNs: t0 + 400_000_000n, mW: 250000 },
      ]);
      await open();
      await check.send('devices');
      expect((await check.send('power 2')).mw).to.equal(50000);
      expect(nowNs() < t0 + 400_000_000n, 'first read before the step').to.equal(true);
      await sleep(450);
      expect((await check.send('power 2')).mw).to.equal(250000);
    });

    it('an injected error is returned for exactly the calls it was injected for', async () => {
      await open();
      await check.send('devices');
      fake.injectError(0, 'energy', NVML.UNKNOWN, 2);
      expect((await check.send('energy 0')).rc).to.equal(NVML.UNKNOWN);
      expect((await check.send('energy 0')).rc).to.equal(NVML.UNKNOWN);
      expect(await check.send('energy 0')).to.deep.equal({ rc: 0, mj: 1000000 });
      fake.injectError(2, 'power', NVML.GPU_IS_LOST, 1);
      expect((await check.send('power 2')).rc).to.equal(NVML.GPU_IS_LOST);
      expect((await check.send('power 2')).rc).to.equal(0);
    });

    it('a GPU that disappears after discovery reads as GPU_IS_LOST, not as a crash', async () => {
      await open();
      await check.send('devices');
      fake.update((s) => {
        s.gpus = s.gpus.slice(0, 1);
      });
      expect((await check.send('energy 1')).rc).to.equal(NVML.GPU_IS_LOST);
      expect((await check.send('energy 0')).rc).to.equal(0);
    });

    it('reads concurrently from several threads without errors', async () => {
      await open();
      await check.send('devices');
      const r = await check.send('hammer 4 200');
      expect(r.reads).to.be.greaterThan(100);
      expect(r.errors).to.equal(0);
    });

    it('Describe gives the NVML_ERROR_ name, the number and nvmlErrorString', async () => {
      await open();
      expect((await check.send('describe 9')).text).to.equal('NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded');
      expect((await check.send('describe 15')).text).to.equal('NVML_ERROR_GPU_IS_LOST (15): GPU is lost');
      expect((await check.send('describe 0')).text).to.match(/^NVML_SUCCESS \(0\)/);
    });
  });
});
