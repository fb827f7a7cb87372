import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { loadResults } from '../../lib/store/index.js';
import { SHELLY_GEN1_STEP_KWH, SHELLY_GEN2_STEP_KWH, TASMOTA_STEP_KWH } from '../../lib/groundtruth/plugs.js';
import { belowResolution } from '../../lib/groundtruth/window.js';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { FIRMWARES, PlugPool, closedPort, plugOption, pulse, requestsArrived, sleep } from '../fixtures/plugs/index.js';
import { captureStdout } from '../helpers/process-state.js';

/** The resolution of a difference of two totals: one step of the counter (plus float32 rounding for Tasmota). */
const RESOLUTION_KWH = { tasmota: TASMOTA_STEP_KWH * 1.5, 'shelly-gen2': SHELLY_GEN2_STEP_KWH, 'shelly-gen1': SHELLY_GEN1_STEP_KWH } as const;

describe('EnergyTracker with wall-plug ground truth (simulated plugs)', function () {
  this.timeout(30000);
  let hw: FakeHardware;
  let outputDir: string;
  const plugs = new PlugPool();
  const base = () => ({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 50 });

  beforeEach(() => {
    ({ hw } = intelServer(1, 2));
    outputDir = mkdtempSync(join(tmpdir(), 'let-gt-tracker-'));
  });
  afterEach(async () => {
    await plugs.closeAll();
    hw.cleanup();
    rmSync(outputDir, { recursive: true, force: true });
  });

  for (const firmware of FIRMWARES) {
    it(`${firmware}: the stored wall energy equals the true energy of a known power profile to the plug's resolution`, async () => {
      const plug = await plugs.start({ firmware, watts: 0, initialTotalKwh: 41.7 });
      const tracker = new EnergyTracker({ ...base(), projectName: `gt-${firmware}`, groundTruth: plugOption(plug) }).start();
      await requestsArrived(plug, 0, firmware === 'tasmota' ? 2 : 1); // the start reading is in before the power changes
      const truth = await pulse(plug, 450, 2200);
      const record = tracker.stop();

      expect(record.wall_energy_method).to.equal(`measured:${firmware}`);
      expect(record.wall_energy).to.be.a('number');
      expect(Math.abs(record.wall_energy! - truth), `wall ${record.wall_energy} vs truth ${truth}`).to.be.at.most(RESOLUTION_KWH[firmware]);
      expect(record.wall_energy_uncertainty).to.be.at.least(Math.abs(record.wall_energy! - truth));
      expect(belowResolution(record.wall_energy!, record.wall_energy_uncertainty!)).to.equal(false);
      const [stored] = loadResults({ outputDir, projectName: `gt-${firmware}` });
      expect(stored!.wall_energy).to.equal(record.wall_energy);
      expect(stored!.wall_energy_method).to.equal(`measured:${firmware}`);
      expect(stored!.wall_energy_uncertainty).to.equal(record.wall_energy_uncertainty);
    });
  }

  it('reads the plug while a synchronous workload holds the thread (the start reading goes out at start())', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 300 });
    const tracker = new EnergyTracker({ ...base(), groundTruth: plugOption(plug) }).start();
    const startedAt = Date.now();
    while (Date.now() - startedAt < 2500) {
      // busy: the event loop never runs between start() and stop()
    }
    const record = tracker.stop();
    const truth = await plug.trueEnergyKwh(startedAt, startedAt + record.duration! * 1000);
    expect(record.wall_energy_method).to.equal('measured:tasmota');
    expect(Math.abs(record.wall_energy! - truth)).to.be.at.most(record.wall_energy_uncertainty!);
    // The plug was really asked with 5 decimals, then read.
    expect((await plug.requests()).slice(0, 2)).to.deep.equal(['/cm?cmnd=EnergyRes%205', '/cm?cmnd=Status%208']);
  });

  it('track() and `await using` record the wall energy without blocking the thread', async () => {
    const plug = await plugs.start({ firmware: 'shelly-gen2', watts: 0 });
    let truth = 0;
    await new EnergyTracker({ ...base(), projectName: 'gt-track', groundTruth: plugOption(plug) }).track(async () => {
      await requestsArrived(plug, 0, 1);
      truth = await pulse(plug, 600, 1500);
    });
    const [tracked] = loadResults({ outputDir, projectName: 'gt-track' });
    expect(Math.abs(tracked!.wall_energy! - truth)).to.be.at.most(SHELLY_GEN2_STEP_KWH);
    {
      const before = (await plug.requests()).length;
      await using tracker = new EnergyTracker({ ...base(), projectName: 'gt-using', groundTruth: plugOption(plug) }).start();
      await requestsArrived(plug, before, 1);
      truth = await pulse(plug, 600, 1200);
      expect(tracker.running).to.equal(true);
    }
    const [disposed] = loadResults({ outputDir, projectName: 'gt-using' });
    expect(disposed!.wall_energy_method).to.equal('measured:shelly-gen2');
    expect(Math.abs(disposed!.wall_energy! - truth)).to.be.at.most(SHELLY_GEN2_STEP_KWH);
  });

  it('labels a run below the plug\'s resolution (Tasmota left at EnergyRes 3: 1 Wh) instead of reporting it as exact', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 100, energyRes: 3 });
    const tracker = new EnergyTracker({ ...base(), printSummary: true, groundTruth: plugOption(plug, { energyRes: null }) }).start();
    await sleep(1500);
    const { value: record, output } = captureStdout(() => tracker.stop());
    expect(record.wall_energy_method).to.equal('measured:tasmota');
    expect(record.wall_energy_uncertainty).to.be.at.least(1e-3);
    expect(belowResolution(record.wall_energy!, record.wall_energy_uncertainty!)).to.equal(true);
    expect(output).to.include("below the plug's resolution");
    expect((await plug.state()).energyRes).to.equal(3);
  });

  it('a plug that stops answering: stop() returns within the timeout and the run is stored with "no ground truth: timeout"', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 50 });
    const tracker = new EnergyTracker({ ...base(), printSummary: true, projectName: 'gt-dead', groundTruth: plugOption(plug, { timeoutMs: 700 }) }).start();
    await sleep(400);
    await plug.setBehaviour({ dead: true });
    const before = Date.now();
    const { value: record, output } = captureStdout(() => tracker.stop());
    const took = Date.now() - before;
    expect(took).to.be.at.most(700 + 300);
    expect(record.wall_energy).to.equal(null);
    expect(record.wall_energy_uncertainty).to.equal(null);
    expect(record.wall_energy_method).to.equal('none:timeout');
    expect(output).to.include('Wall plug: no ground truth: timeout (at stop: tasmota plug');
    const [stored] = loadResults({ outputDir, projectName: 'gt-dead' });
    expect(stored!.wall_energy_method).to.equal('none:timeout');
    expect(stored!.energy_consumed).to.equal(record.energy_consumed);
  });

  it('a plug dead from the start, one that refuses connections, and one that wants a password: stored, with the reason', async () => {
    const dead = await plugs.start({ firmware: 'shelly-gen1', watts: 10 });
    await dead.setBehaviour({ dead: true });
    const locked = await plugs.start({ firmware: 'tasmota', watts: 10, password: 'secret' });
    const port = await closedPort();
    const cases = [
      { groundTruth: { shellyGen1: dead.url, timeoutMs: 500 }, method: 'none:timeout' },
      { groundTruth: { tasmota: `http://127.0.0.1:${port}`, timeoutMs: 2000 }, method: 'none:unreachable' },
      { groundTruth: { tasmota: locked.url }, method: 'none:unauthorized' },
    ];
    for (const { groundTruth, method } of cases) {
      const before = Date.now();
      const record = await new EnergyTracker({ ...base(), projectName: 'gt-fail', groundTruth }).start().stopAsync();
      expect(record.wall_energy_method, JSON.stringify(groundTruth)).to.equal(method);
      expect(Date.now() - before).to.be.at.most((groundTruth.timeoutMs ?? 5000) + 300);
    }
    expect(loadResults({ outputDir, projectName: 'gt-fail' }).map((r) => r.wall_energy_method)).to.deep.equal(cases.map((c) => c.method));
  });

  it('passes credentials: Tasmota user/password, Shelly Gen2 digest, Shelly Gen1 Basic', async () => {
    for (const firmware of FIRMWARES) {
      const plug = await plugs.start({ firmware, watts: 20, password: 'pa ss&word' });
      const record = await new EnergyTracker({ ...base(), groundTruth: plugOption(plug, { password: 'pa ss&word' }) }).start().stopAsync();
      expect(record.wall_energy_method, firmware).to.equal(`measured:${firmware}`);
    }
  });

  it('detects a counter that went backwards, a reset and a reboot instead of storing negative energy', async () => {
    const tasmota = await plugs.start({ firmware: 'tasmota', watts: 2000 });
    await sleep(2100); // energy the plug has not saved to flash yet
    let tracker = new EnergyTracker({ ...base(), groundTruth: plugOption(tasmota) }).start();
    await sleep(300);
    await tasmota.reboot(); // unsaved energy lost: the total falls back below the start reading
    let record = await tracker.stopAsync();
    expect(record.wall_energy_method).to.equal('none:counter-went-backwards');
    expect(record.wall_energy).to.equal(null);

    tracker = new EnergyTracker({ ...base(), groundTruth: plugOption(tasmota) }).start();
    await sleep(1200);
    await tasmota.resetCounter(); // someone's EnergyTotal 0
    await sleep(1100);
    record = await tracker.stopAsync();
    expect(record.wall_energy_method).to.equal('none:counter-reset');

    const gen1 = await plugs.start({ firmware: 'shelly-gen1', watts: 3000 });
    tracker = new EnergyTracker({ ...base(), groundTruth: plugOption(gen1) }).start();
    await sleep(2200);
    await gen1.reboot();
    await sleep(1100);
    record = await tracker.stopAsync();
    expect(record.wall_energy_method).to.equal('none:plug-rebooted');
  });

  it('a slow plug is still read, its round trip counted in the uncertainty', async () => {
    const plug = await plugs.start({ firmware: 'shelly-gen2', watts: 200 });
    await plug.setBehaviour({ delayMs: 250 });
    const tracker = new EnergyTracker({ ...base(), groundTruth: plugOption(plug) }).start();
    const startedAt = Date.now();
    await sleep(2000);
    const record = await tracker.stopAsync();
    const truth = await plug.trueEnergyKwh(startedAt, startedAt + record.duration! * 1000);
    expect(record.wall_energy_method).to.equal('measured:shelly-gen2');
    // 200 W × (1 s update period + two half round trips of ≥ 125 ms) at least.
    expect(record.wall_energy_uncertainty).to.be.at.least((200 * 1.25) / 3.6e6);
    expect(Math.abs(record.wall_energy! - truth)).to.be.at.most(record.wall_energy_uncertainty!);
  });

  it('rejects bad groundTruth options naming the field', () => {
    expect(() => new EnergyTracker({ groundTruth: {} as never })).to.throw(TypeError, /exactly one of tasmota, shellyGen2, shellyGen1/);
    expect(() => new EnergyTracker({ groundTruth: { tasmota: 'ftp://x' } })).to.throw(RangeError, /groundTruth.tasmota must be an http/);
    expect(() => new EnergyTracker({ groundTruth: { tasmota: '10.0.0.5', energyRes: 7 } })).to.throw(RangeError, /energyRes must be an integer 0–5/);
    expect(() => new EnergyTracker({ groundTruth: { server: 'nohost' } })).to.throw(RangeError, /host:port/);
    expect(() => new EnergyTracker({ groundTruth: { tasmota: '10.0.0.5', timeoutMs: 0 } })).to.throw(RangeError, /timeoutMs/);
    expect(() => new EnergyTracker({ groundTruth: { tasmota: '10.0.0.5', colour: 1 } as never })).to.throw(TypeError, /unknown option groundTruth.colour/);
  });
});
