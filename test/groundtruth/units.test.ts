/** Pure parts of the ground truth: window arithmetic, configuration, and the simulated firmware's answers. */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { windowEnergy, plugWindow, belowResolution } from '../../lib/groundtruth/window.js';
import { defaultServerAddress, groundTruthFromFlag, parseHostPort, resolveGroundTruth } from '../../lib/groundtruth/config.js';
import { float32Spacing, type PlugReading } from '../../lib/groundtruth/plugs.js';
import { PlugPool, sleep } from '../fixtures/plugs/index.js';

const KWH = 3.6e6;

describe('wall energy over a window', () => {
  const end = (atMs: number, powerW: number | null, halfRoundTripMs = 0) => ({ atMs, halfRoundTripMs, powerW });

  it('corrects the plug reading late at start (adds) and late at stop (removes) with the power at each end', () => {
    // Run 0..10 s; plug read at 0.5 s (100 W) and at 10.2 s (200 W): counted 1000 J.
    const wall = windowEnergy({ source: 'tasmota', countedKwh: 1000 / KWH, start: end(500, 100), stop: end(10200, 200), runStartMs: 0, runStopMs: 10000, resolutionKwh: 0, updatePeriodS: 1 });
    expect(wall.energyKwh! * KWH).to.be.closeTo(1000 + 50 - 40, 1e-9);
    // One second of the larger end power.
    expect(wall.uncertaintyKwh! * KWH).to.be.closeTo(200, 1e-9);
  });

  it('adds the resolution and half round trips to the uncertainty; uses the mean power where the plug gives none', () => {
    const wall = windowEnergy({ source: 'gt-server', countedKwh: 3600 / KWH, start: end(0, null, 50), stop: end(36000, null, 100), runStartMs: 0, runStopMs: 36000, resolutionKwh: 1e-5, updatePeriodS: 1 });
    // mean 100 W: 100 J per second of lag, 5 J + 10 J for the round trips, 36 J resolution.
    expect(wall.uncertaintyKwh! * KWH).to.be.closeTo(36 + 100 + 5 + 10, 1e-6);
    expect(wall.energyKwh! * KWH).to.be.closeTo(3600, 1e-9);
  });

  it('a total that went backwards is reported, not negative energy; float noise within the resolution is zero', () => {
    const args = { source: 'tasmota' as const, start: end(0, 0), stop: end(1000, 0), runStartMs: 0, runStopMs: 1000, resolutionKwh: 1e-5, updatePeriodS: 1 };
    expect(windowEnergy({ ...args, countedKwh: -0.002 })).to.include({ method: 'none:counter-went-backwards', energyKwh: null, uncertaintyKwh: null });
    expect(windowEnergy({ ...args, countedKwh: -5e-6 }).energyKwh).to.equal(0);
  });

  it('a changed TotalStartTime is a reset; below resolution means less than twice the uncertainty', () => {
    const reading = (totalKwh: number, counterEpoch: string): PlugReading => ({
      source: 'tasmota', totalKwh, powerW: 0, plugTime: null, counterEpoch, uptimeS: null, resolutionKwh: 1e-5, updatePeriodS: 1, sentAtMs: 0, receivedAtMs: 0,
    });
    expect(plugWindow(reading(5, '2026-01-01T00:00:00'), reading(0.001, '2026-11-29T10:00:00'), 0, 0).method).to.equal('none:counter-reset');
    expect(belowResolution(0.9, 0.5)).to.equal(true);
    expect(belowResolution(1.1, 0.5)).to.equal(false);
    expect(float32Spacing(100)).to.equal(2 ** -17);
  });
});

describe('ground-truth configuration', () => {
  it('parses host:port (IPv6 in brackets) and rejects the rest naming the input', () => {
    expect(parseHostPort('10.0.0.2:8000', 'x')).to.deep.equal({ host: '10.0.0.2', port: 8000 });
    expect(parseHostPort('[fe80::1]:8000', 'x')).to.deep.equal({ host: 'fe80::1', port: 8000 });
    expect(() => parseHostPort('fe80::1:8000', 'LET_GT')).to.throw(RangeError, /LET_GT must be host:port/);
    expect(() => parseHostPort('pi:99999', 'x')).to.throw(RangeError, /port must be 1–65535/);
  });

  it('finds the server as the Python package does: LET_GT_HOST + LET_GT_PORT, else ~/.let/GT_REMOTE_CONFIG', () => {
    const home = mkdtempSync(join(tmpdir(), 'let-gt-home-'));
    try {
      expect(defaultServerAddress({}, home)).to.equal(null);
      mkdirSync(join(home, '.let'));
      writeFileSync(join(home, '.let', 'GT_REMOTE_CONFIG'), '192.168.1.20:8000');
      expect(defaultServerAddress({}, home)).to.deep.equal({ host: '192.168.1.20', port: 8000, origin: join(home, '.let', 'GT_REMOTE_CONFIG') });
      expect(defaultServerAddress({ LET_GT_HOST: 'pi', LET_GT_PORT: '8080' }, home)).to.deep.equal({ host: 'pi', port: 8080, origin: 'LET_GT_HOST/LET_GT_PORT' });
      expect(defaultServerAddress({ LET_GT_HOST: '::1', LET_GT_PORT: '8080' }, home)).to.include({ host: '::1' });
      expect(() => defaultServerAddress({ LET_GT_HOST: 'pi' }, home)).to.throw(RangeError, /LET_GT_PORT is not/);
      expect(() => defaultServerAddress({ LET_GT_HOST: 'pi', LET_GT_PORT: 'eighty' }, home)).to.throw(RangeError, /host:port/);
      writeFileSync(join(home, '.let', 'GT_REMOTE_CONFIG'), 'garbage');
      expect(() => defaultServerAddress({}, home)).to.throw(RangeError, /GT_REMOTE_CONFIG must be host:port/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('takes credentials from the URL, hides them in descriptions, and parses --ground-truth', () => {
    const config = resolveGroundTruth({ tasmota: 'http://admin:s%40cret@10.0.0.5/' });
    expect(config).to.deep.include({ kind: 'plug', timeoutMs: 5000 });
    expect(config.kind === 'plug' && config.plug).to.deep.equal({ kind: 'tasmota', url: 'http://10.0.0.5', user: 'admin', password: 's@cret', energyRes: 5 });
    expect(groundTruthFromFlag('server')).to.deep.equal({ server: true });
    expect(groundTruthFromFlag('shelly-gen2=10.0.0.6')).to.deep.equal({ shellyGen2: '10.0.0.6' });
    expect(() => groundTruthFromFlag('tasmota')).to.throw(RangeError, /--ground-truth must be/);
    expect(() => resolveGroundTruth({ server: '10.0.0.2:8000', password: 'x' })).to.throw(TypeError, /applies to plugs/);
  });
});

describe('simulated firmware answers as the real firmware does', function () {
  this.timeout(20000);
  const plugs = new PlugPool();
  afterEach(() => plugs.closeAll());
  const text = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  it('Tasmota: local time without zone, EnergyRes decimals, 10⁻⁵ kWh steps once a second, 401 without credentials', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 3600, password: 'pw' });
    const refused = await text(`${plug.url}/cm?cmnd=Status%208`);
    expect(refused.status).to.equal(401);
    expect(refused.body).to.equal('{"WARNING":"Need user=<username>&password=<password>"}');
    const read = async () => JSON.parse((await text(`${plug.url}/cm?cmnd=Status%208&user=admin&password=pw`)).body) as { StatusSNS: { Time: string; ENERGY: { Total: number; TotalStartTime: string } } };
    const raw = (await text(`${plug.url}/cm?cmnd=Status%208&user=admin&password=pw`)).body;
    expect(raw).to.match(/"Total":12\.345,/); // EnergyRes 3: three decimals
    const first = await read();
    expect(first.StatusSNS.Time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(first.StatusSNS.ENERGY.TotalStartTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(JSON.parse((await text(`${plug.url}/cm?cmnd=EnergyRes%205&user=admin&password=pw`)).body)).to.deep.equal({ EnergyRes: 5 });
    const a = (await read()).StatusSNS.ENERGY.Total;
    await sleep(2100);
    const b = (await read()).StatusSNS.ENERGY.Total;
    // 3600 W = 1 Wh per second: 2 whole seconds integrated, in 10⁻⁵ kWh steps (float32 total).
    expect(Math.round((b - a) / 1e-5)).to.be.within(199, 201);
    const steps = (b - a) / 1e-5;
    expect(Math.abs(steps - Math.round(steps))).to.be.below(0.2);
  });

  it('Shelly Gen2: aenergy.total in Wh, apower in W; Gen1: total in whole watt-minutes, uptime; reboot zeroes Gen1', async () => {
    const gen2 = await plugs.start({ firmware: 'shelly-gen2', watts: 60, initialTotalKwh: 1 });
    const status = JSON.parse((await text(`${gen2.url}/rpc/Switch.GetStatus?id=0`)).body) as { apower: number; aenergy: { total: number } };
    expect(status.apower).to.equal(60);
    expect(status.aenergy.total).to.equal(1000);
    const gen1 = await plugs.start({ firmware: 'shelly-gen1', watts: 60, initialTotalKwh: 1 });
    const meter = JSON.parse((await text(`${gen1.url}/meter/0`)).body) as { total: number; power: number };
    expect(meter).to.include({ total: 60000, power: 60 });
    await sleep(1100);
    const after = JSON.parse((await text(`${gen1.url}/status`)).body) as { meters: { total: number }[]; uptime: number };
    expect(after.meters[0]!.total).to.equal(60001); // 60 W for one second = 1 watt-minute
    expect(after.uptime).to.equal(1);
    await gen1.reboot();
    expect(JSON.parse((await text(`${gen1.url}/status`)).body)).to.deep.include({ uptime: 0 });
  });
});
