/**
 * The ground-truth server (`gt-server`, the real CLI in a child process) against simulated plugs:
 * the Python package's requests replayed and checked field by field, the Python client ported
 * to Python (requests) driving it, our client against it, and our client against a stand-in of
 * the Python package's server.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { TASMOTA_STEP_KWH } from '../../lib/groundtruth/plugs.js';
import { GT_TIME_PATTERN, secondsBetween } from '../../lib/groundtruth/server-client.js';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { PlugPool, pulse, requestsArrived, sleep } from '../fixtures/plugs/index.js';
import { CLI_PATH, ensureBuilt } from '../helpers/cli.js';

const FIXTURES = new URL('../fixtures/plugs/', import.meta.url).pathname;

interface Served {
  port: number;
  child: ChildProcess;
}

/** Start a server process and wait for its "Serving on host:port" line (killed by `stopAll`). */
async function serve(command: string, args: string[], env: NodeJS.ProcessEnv, children: ChildProcess[]): Promise<Served> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Serving on" from ${args.join(' ')}: ${output}`)), 20000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Serving on [^\s]+:(\d+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${output}`)));
  });
  return { port, child };
}

/** GET with the Python client's 5 s timeout. */
async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}


/**
 * A Python 3 that has `requests` (the Python package's client needs it): `python3` on the PATH,
 * else the system's /usr/bin/python3 (Debian's python3-requests). Fails the test, naming the fix.
 */
function pythonWithRequests(): string {
  const tried: string[] = [];
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(candidate, ['-c', 'import requests'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
    tried.push(`${candidate}: ${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()}`);
  }
  expect.fail(`a python3 with requests is needed (apt-get install -y python3-requests); tried ${tried.join('; ')}`);
}

describe('ground-truth server (gt-server) and clients', function () {
  this.timeout(60000);
  const plugs = new PlugPool();
  const children: ChildProcess[] = [];
  let dir: string;
  let hw: FakeHardware;
  const tracker = (groundTruth: object, projectName = 'gt-server') =>
    new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir: dir, printSummary: false, projectName, groundTruth: groundTruth as never });

  before(() => ensureBuilt());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-gt-server-'));
    ({ hw } = intelServer(1, 2));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await plugs.closeAll();
    hw.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ourServer(config: Record<string, unknown>, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<number> {
    const file = join(dir, 'hosts.json');
    writeFileSync(file, JSON.stringify(config));
    return (await serve(process.execPath, [CLI_PATH, 'gt-server', '--config', file, '--port', '0', '--host', '127.0.0.1', ...args], env, children)).port;
  }

  it("answers the Python client's requests as the Python server does, field by field, without resetting the plug", async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 0, initialTotalKwh: 7.5 });
    const port = await ourServer({ ws28: plug.url.replace('http://', ''), dgx1: plug.url });

    const list = await get(port, '/list');
    expect(list.status).to.equal(200);
    expect(list.type).to.equal('application/json');
    expect(JSON.parse(list.body)).to.deep.equal(['ws28', 'dgx1']);

    const start = await get(port, '/ws28/start');
    expect(start.status).to.equal(200);
    expect(start.type).to.equal('application/json');
    const started = JSON.parse(start.body) as Record<string, unknown>;
    expect(started.energy_consumed).to.be.a('number');
    expect(started.start_time).to.be.a('string').and.match(GT_TIME_PATTERN);
    expect(started.timestamp).to.be.a('string').and.match(GT_TIME_PATTERN);
    expect(started.duration).to.equal(secondsBetween(started.start_time as string, started.timestamp as string));
    // Floats as Python writes them (json.dumps of floats), so a Python client gets float, not int.
    expect(start.body).to.match(/"energy_consumed": -?\d+\.\d+/).and.match(/"duration": -?\d+\.\d+/);

    const truth = await pulse(plug, 900, 2000);
    const stop = await get(port, '/ws28/stop');
    const stopped = JSON.parse(stop.body) as Record<string, unknown>;
    expect(stop.status).to.equal(200);
    expect(stopped.energy_consumed).to.be.a('number');
    expect(Math.abs((stopped.energy_consumed as number) - truth)).to.be.at.most(TASMOTA_STEP_KWH * 1.5);
    expect(stopped.start_time).to.equal(started.timestamp);
    expect(stopped.timestamp).to.match(GT_TIME_PATTERN);
    expect(stopped.duration).to.equal(secondsBetween(stopped.start_time as string, stopped.timestamp as string));
    expect(stopped.duration).to.be.within(2, 6);

    expect((await get(port, '/nohost/start')).body).to.equal('Unknown hostname');
    expect((await get(port, '/nohost/start')).status).to.equal(404);
    expect((await get(port, '/ws28/reboot')).status).to.equal(404);
    expect((await get(port, '/ws28/start/now')).status).to.equal(400);
    expect((await get(port, '/ws28')).status).to.equal(400);
    // Non-destructive: the plug was never reset, its total only grew.
    expect((await plug.requests()).some((request) => /EnergyTotal|EnergyToday|EnergyYesterday/.test(request))).to.equal(false);
    expect((await plug.state()).totalKwh).to.be.greaterThan(7.5);
  });

  it("drives it from Python with the package's client logic (requests, 5 s timeouts, strptime)", async () => {
    const python = pythonWithRequests();
    const plug = await plugs.start({ firmware: 'tasmota', watts: 360 });
    const port = await ourServer({ labhost: plug.url });
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(python, [join(FIXTURES, 'python_gt_client.py'), 'labhost', '2.5'], { env: { ...process.env, LET_GT_HOST: '127.0.0.1', LET_GT_PORT: String(port) } });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code, result.stderr).to.equal(0);
    const { start, stop } = JSON.parse(result.stdout) as Record<string, Record<string, unknown>>;
    expect(start!.content_type).to.equal('application/json');
    expect(start!.energy_consumed_type).to.equal('float');
    expect(stop!.energy_consumed_type).to.equal('float');
    expect(stop!.duration_type).to.equal('float');
    expect(stop!.start_time).to.equal(start!.timestamp);
    expect(stop!.tracking_mode).to.equal('groundtruth');
    // 360 W for the 2.5 s between the two readings (± one update period and the requests' time).
    expect(stop!.energy_consumed as number).to.be.within((360 * 1.5) / 3.6e6, (360 * 4) / 3.6e6);
  });

  it('serves our tracker, gives clients on one host separate windows, and many clients at once', async () => {
    const plug = await plugs.start({ firmware: 'shelly-gen2', watts: 0 });
    const port = await ourServer({ 'node-a': { shellyGen2: plug.url } });
    const server = `127.0.0.1:${port}`;
    await get(port, '/node-a/start', { 'x-let-gt-window': 'warm-up' }); // the server's first plug read starts its HTTP thread
    let before = (await plug.requests()).length;
    const outer = tracker({ server, hostname: 'node-a' }).start();
    await requestsArrived(plug, before, 1);
    const first = await pulse(plug, 500, 1200);
    before = (await plug.requests()).length;
    const inner = tracker({ server, hostname: 'node-a' }).start();
    await requestsArrived(plug, before, 1);
    const second = await pulse(plug, 800, 1200);
    const innerRecord = inner.stop();
    const outerRecord = outer.stop();
    expect(innerRecord.wall_energy_method).to.equal('measured:gt-server');
    expect(Math.abs(innerRecord.wall_energy! - second)).to.be.at.most(1e-5);
    expect(Math.abs(outerRecord.wall_energy! - (first + second))).to.be.at.most(1e-5);

    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => get(port, '/node-a/start', { 'x-let-gt-window': `w${i}` })));
    expect(answers.map((a) => a.status)).to.deep.equal(answers.map(() => 200));
    const plugRequests = (await plug.requests()).length;
    expect(plugRequests).to.be.lessThan(24 + 8); // concurrent readers share a reading in flight
  });

  it('a dead plug: 502 with a JSON reason before the client times out; our tracker stores the run without ground truth', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 10 });
    const port = await ourServer({ ws: plug.url }, ['--plug-timeout-ms', '800']);
    await plug.setBehaviour({ dead: true });
    const before = Date.now();
    const answer = await get(port, '/ws/start');
    expect(Date.now() - before).to.be.below(2000);
    expect(answer.status).to.equal(502);
    expect(JSON.parse(answer.body)).to.include({ reason: 'plug-timeout' });
    const record = await tracker({ server: `127.0.0.1:${port}`, hostname: 'ws' }).start().stopAsync();
    expect(record.wall_energy_method).to.equal('none:plug-timeout');
    expect(record.wall_energy).to.equal(null);
  });

  it('an optional bearer token; unknown hosts explained to our client', async () => {
    const plug = await plugs.start({ firmware: 'shelly-gen1', watts: 50 });
    const port = await ourServer({ ws: { shellyGen1: plug.url } }, [], { LET_GT_TOKEN: 's3cret' });
    const refused = await get(port, '/list');
    expect(refused.status).to.equal(401);
    expect(JSON.parse(refused.body)).to.include({ reason: 'unauthorized' });
    expect((await get(port, '/list', { authorization: 'Bearer s3cret' })).status).to.equal(200);
    expect((await tracker({ server: `127.0.0.1:${port}`, hostname: 'ws' }).start().stopAsync()).wall_energy_method).to.equal('none:unauthorized');
    expect((await tracker({ server: `127.0.0.1:${port}`, hostname: 'ws', token: 's3cret' }).start().stopAsync()).wall_energy_method).to.equal('measured:gt-server');
    expect((await tracker({ server: `127.0.0.1:${port}`, hostname: 'elsewhere', token: 's3cret' }).start().stopAsync()).wall_energy_method).to.equal('none:unknown-host');
  });

  it("--reset-on-start sends the Python server's reset sequence", async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 100 });
    const port = await ourServer({ ws: plug.url }, ['--reset-on-start']);
    const started = JSON.parse((await get(port, '/ws/start')).body) as Record<string, unknown>;
    expect(started.mode).to.equal('reset');
    expect((await plug.requests()).map((r) => decodeURIComponent(r))).to.deep.equal([
      '/cm?cmnd=EnergyRes 5',
      '/cm?cmnd=Status 8',
      '/cm?cmnd=EnergyYesterday 0',
      '/cm?cmnd=EnergyToday 0',
      '/cm?cmnd=EnergyTotal 0',
      '/cm?cmnd=EnergyRes 5',
      '/cm?cmnd=Status 8',
    ]);
    expect(started.energy_consumed).to.equal(12.345);
    expect((await plug.state()).totalKwh).to.be.below(0.001);
  });

  it("our client against the Python package's server protocol (a stand-in that resets the plug at start)", async () => {
    const python = pythonWithRequests();
    const plug = await plugs.start({ firmware: 'tasmota', watts: 0 });
    const file = join(dir, 'python-hosts.json');
    writeFileSync(file, JSON.stringify({ pyhost: plug.url.replace('http://', '') }));
    const { port } = await serve(python, [join(FIXTURES, 'python_gt_server.py'), file], {}, children);
    const run = tracker({ server: `127.0.0.1:${port}`, hostname: 'pyhost' }).start();
    await requestsArrived(plug, 0, 6); // the stand-in's start: six plug requests, the window begins at the last
    const truth = await pulse(plug, 700, 1500);
    const record = run.stop();
    expect(record.wall_energy_method).to.equal('measured:gt-server');
    expect(Math.abs(record.wall_energy! - truth)).to.be.at.most(TASMOTA_STEP_KWH * 1.5);
    expect((await plug.requests()).map((r) => decodeURIComponent(r))).to.include('/cm?cmnd=EnergyTotal 0');

    // Someone else's start in the middle of our run resets the plug: detected, not used.
    const second = tracker({ server: `127.0.0.1:${port}`, hostname: 'pyhost' }).start();
    await sleep(3500);
    await get(port, '/pyhost/start');
    await sleep(1000);
    expect((await second.stopAsync()).wall_energy_method).to.equal('none:counter-reset');
  });
});
