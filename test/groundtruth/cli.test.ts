/** The CLI's ground truth: `run --ground-truth`, `probe --ground-truth` and probe's defaults (the real binary). */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResults } from '../../lib/store/index.js';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { PlugPool } from '../fixtures/plugs/index.js';
import { CLI_PATH, ensureBuilt, runCli } from '../helpers/cli.js';

describe('CLI with wall-plug ground truth', function () {
  this.timeout(60000);
  const plugs = new PlugPool();
  let dir: string;
  let hw: FakeHardware;
  const children: ChildProcess[] = [];

  before(() => ensureBuilt());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-gt-cli-'));
    ({ hw } = intelServer(1, 2));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await plugs.closeAll();
    hw.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('`run --ground-truth tasmota=URL` stores the wall energy of the command and prints it beside the sensors', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 240 });
    const before = Date.now();
    const result = runCli([
      'run', '--output-dir', dir, '--project-name', 'gt-run', '--hardware-root', hw.root, '--nvml-library', '',
      '--ground-truth', `tasmota=${plug.url}`, '--', process.execPath, '-e', 'const t = Date.now(); while (Date.now() - t < 4000) {}',
    ]);
    expect(result.status, result.stderr).to.equal(0);
    const [record] = loadResults({ outputDir: dir, projectName: 'gt-run' });
    expect(record!.wall_energy_method).to.equal('measured:tasmota');
    // 240 W over the run (which lies inside [before, now]): between the run's own duration and the whole span.
    const span = await plug.trueEnergyKwh(before, Date.now());
    expect(record!.wall_energy! + record!.wall_energy_uncertainty!).to.be.at.least((240 * record!.duration!) / 3.6e6);
    expect(record!.wall_energy! - record!.wall_energy_uncertainty!).to.be.at.most(span);
    // The simulated RAPL counters do not move here: the sensors counted nothing. run's summary goes to stderr.
    expect(result.stderr).to.match(/Wall plug \(Tasmota plug\): \S+ (J|Wh) ± \S+ (J|Wh) at the plug, while the sensors counted nothing \(PUE not applied\)\./);
    expect(result.stderr).to.include('a wall-plug meter measured');
    const table = runCli(['results', '--output-dir', dir]);
    // The wall column comes just before the energy bar, which is always last.
    expect(table.stdout.split('\n')[0]).to.match(/ wall {2,}by component$/);
    expect(table.stdout.split('\n')[2]).to.match(/ \S+ (J|Wh) ± \S+ (J|Wh)( {2,}.*)?$/);
  });

  it('`run --ground-truth` rejects a malformed source before starting anything', () => {
    const result = runCli(['run', '--output-dir', dir, '--ground-truth', 'zigbee=1.2.3.4', '--', 'true']);
    expect(result.status).to.not.equal(0);
    expect(result.stderr).to.include('--ground-truth: unknown source "zigbee"');
  });

  it('`probe --ground-truth` shows the plug and whether it answers, without changing its settings', async () => {
    const plug = await plugs.start({ firmware: 'tasmota', watts: 35, energyRes: 3 });
    const text = runCli(['probe', '--hardware-root', hw.root, '--nvml-library', '', '--ground-truth', `tasmota=${plug.url}`]);
    expect(text.status, text.stderr).to.equal(0);
    expect(text.stdout).to.include(`Wall plug: tasmota plug ${plug.url} — answers`);
    expect(text.stdout).to.include('total 12.345 kWh, drawing 35 W');
    expect(text.stdout).to.include('the tracker sets EnergyRes 5 before reading');
    expect((await plug.requests()).map(decodeURIComponent)).to.deep.equal(['/cm?cmnd=EnergyRes', '/cm?cmnd=Status 8']);
    const json = runCli(['probe', '--json', '--hardware-root', hw.root, '--nvml-library', '', '--ground-truth', `shelly-gen1=${plug.url}`]);
    expect(JSON.parse(json.stdout).groundTruth).to.include({ configured: true, answers: false });
  });

  it('`probe` finds the server from ~/.let/GT_REMOTE_CONFIG (or LET_GT_HOST/LET_GT_PORT) and says whether this host is listed', async () => {
    const plug = await plugs.start({ firmware: 'shelly-gen2', watts: 5 });
    const config = join(dir, 'hosts.json');
    writeFileSync(config, JSON.stringify({ 'lab-1': { shellyGen2: plug.url } }));
    const child = spawn(process.execPath, [CLI_PATH, 'gt-server', '--config', config, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const match = /Serving on [^\s]+:(\d+)/.exec(chunk.toString());
        if (match !== null) resolve(Number(match[1]));
      });
      child.once('exit', () => reject(new Error('gt-server exited')));
    });
    const home = join(dir, 'home');
    mkdirSync(join(home, '.let'), { recursive: true });
    writeFileSync(join(home, '.let', 'GT_REMOTE_CONFIG'), `127.0.0.1:${port}`);
    const env = { HOME: home, LET_GT_HOST: undefined, LET_GT_PORT: undefined };
    const found = runCli(['probe', '--hardware-root', hw.root, '--nvml-library', ''], { env });
    expect(found.stdout).to.include(`Wall plug: ground-truth server 127.0.0.1:${port} (from ${join(home, '.let', 'GT_REMOTE_CONFIG')})`);
    expect(found.stdout).to.include('answers');
    expect(found.stdout).to.include('hosts: lab-1');
    expect(found.stdout).to.include('is not in the server\'s list');
    const byEnv = runCli(['probe', '--hardware-root', hw.root, '--nvml-library', ''], { env: { HOME: home, LET_GT_HOST: '127.0.0.1', LET_GT_PORT: '1' } });
    expect(byEnv.stdout).to.include('(from LET_GT_HOST/LET_GT_PORT)');
    expect(byEnv.stdout).to.include('does NOT answer');
    const none = runCli(['probe', '--hardware-root', hw.root, '--nvml-library', ''], { env: { HOME: join(dir, 'empty'), LET_GT_HOST: undefined, LET_GT_PORT: undefined } });
    expect(none.stdout).to.include('Wall plug: none configured');
  });
});
