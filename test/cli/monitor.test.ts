/**
 * `lamarr-energy-tracker monitor`: serves /metrics on loopback, stores the monitored time,
 * SIGTERM exits 0 within a second with the last run stored; periodic rows add up; errors.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intelServer, type FakeHardware } from '../fixtures/fake-hardware.js';
import { loadResults } from '../../lib/store/index.js';
import { startMonitor } from '../../lib/monitor/monitor.js';
import { closeIdleSamplers } from '../../lib/native/sampler-pool.js';
import { sleep, startMonitorChild, waitFor, type Child } from '../metrics/helpers.js';
import { runCli } from '../helpers/cli.js';

describe('lamarr-energy-tracker monitor', function () {
  this.timeout(60000);
  let hw: FakeHardware;
  let out: string;
  let child: (Child & { url: string; port: number }) | null = null;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'let-monitor-'));
  });
  afterEach(() => {
    child?.kill();
    child = null;
    closeIdleSamplers();
    hw?.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  const hardwareArgs = () => ['--hardware-root', hw.root, '--nvml-library', '', '--output-dir', out];

  async function stopWith(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
    const at = Date.now();
    child!.process.kill(signal);
    const exit = await child!.exited;
    expect(exit.signal, child!.output().stderr).to.equal(null);
    return { code: exit.code, ms: Date.now() - at };
  }

  it('serves /metrics on loopback; SIGTERM exits 0 within a second and stores the run', async () => {
    const machine = intelServer(1, 2);
    hw = machine.hw;
    child = await startMonitorChild(hardwareArgs());
    expect(child.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    machine.packages[0]!.add(7_500_000);
    machine.drams[0]!.add(500_000);
    const text = await (await fetch(child.url)).text();
    expect(text).to.include('let_energy_joules_total{component="cpu",device="socket0",domain="package-0",method="powercap",measurement="measured",scope="machine"} 7.5');
    expect((await fetch(child.url.replace('/metrics', '/'))).status).to.equal(404);
    expect((await fetch(child.url, { method: 'POST' })).status).to.equal(405);
    const head = await fetch(child.url, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-type')).to.match(/^text\/plain/);
    machine.packages[0]!.add(2_500_000);

    const { code, ms } = await stopWith('SIGTERM');
    expect(code, child.output().stderr).to.equal(0);
    expect(ms, 'exit within a second of SIGTERM').to.be.below(1000);
    const rows = loadResults({ outputDir: out });
    expect(rows).to.have.length(1);
    expect(rows[0]!.project_name).to.equal('monitor');
    expect(rows[0]!.tracking_mode).to.equal('machine');
    expect(rows[0]!.run_status).to.equal('completed');
    expect(rows[0]!.cpu_energy! * 3.6e6).to.be.closeTo(10, 1e-9);
    expect(rows[0]!.ram_energy! * 3.6e6).to.be.closeTo(0.5, 1e-9);
    expect(child.output().stdout).to.include(`run ${rows[0]!.run_id}`);
  });

  it('SIGINT stops it the same way; --no-save stores nothing', async () => {
    hw = intelServer(1, 1).hw;
    child = await startMonitorChild([...hardwareArgs(), '--no-save']);
    const { code, ms } = await stopWith('SIGINT');
    expect(code).to.equal(0);
    expect(ms).to.be.below(1000);
    expect(existsSync(join(out, 'emissions.csv'))).to.equal(false);
  });

  it('--store-every appends rows that add up to the energy of the whole session', async () => {
    const machine = intelServer(1, 1);
    hw = machine.hw;
    child = await startMonitorChild([...hardwareArgs(), '--store-every', '1', '--project-name', 'lab-node']);
    const started = Date.now();
    let injected = 0;
    // 1 J every 100 ms for 2.6 s: rows at 1 s and 2 s, the last at SIGTERM.
    while (Date.now() - started < 2600) {
      machine.packages[0]!.add(1_000_000);
      injected += 1;
      await sleep(100);
    }
    await waitFor('two periodic rows', () => (loadResults({ outputDir: out }).length >= 2 ? true : undefined), 5000);
    const { code } = await stopWith('SIGTERM');
    expect(code, child.output().stderr).to.equal(0);
    const rows = loadResults({ outputDir: out });
    expect(rows.length).to.be.within(3, 4);
    expect(new Set(rows.map((r) => r.run_id)).size).to.equal(rows.length);
    expect(rows.every((r) => r.project_name === 'lab-node')).to.equal(true);
    const total = rows.reduce((sum, r) => sum + r.cpu_energy! * 3.6e6, 0);
    // Consecutive rows overlap by the microseconds between two reads: at most one step counted twice.
    expect(total).to.be.at.least(injected - 1e-6).and.at.most(injected + 1 + 1e-6);
    const durations = rows.map((r) => r.duration!);
    expect(durations[0]).to.be.closeTo(1, 0.5);
  });

  it('a port in use is a clear error (exit 1) and stores nothing', async () => {
    hw = intelServer(1, 1).hw;
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = runCli(['monitor', '--port', String(port), ...hardwareArgs()]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.include(`cannot serve metrics on 127.0.0.1:${port}: the port is in use`);
      expect(existsSync(join(out, 'emissions.csv'))).to.equal(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    for (const [args, message] of [
      [['--port', '70000'], '--port must be ≤ 65535'],
      [['--interval', '0'], '--interval must be ≥ 0.001'],
      [['--store-every', 'soon'], '--store-every must be a number'],
      [['--country-iso-code', 'XX1'], 'countryIsoCode'],
    ] as const) {
      const result = runCli(['monitor', ...args, ...hardwareArgs()]);
      expect(result.status, args.join(' ')).to.not.equal(0);
      expect(result.stderr, args.join(' ')).to.include(message);
    }
  });

  it('startMonitor (library): serves, stops, returns the stored record', async () => {
    const machine = intelServer(1, 1);
    hw = machine.hw;
    const monitor = await startMonitor({ port: 0, hardwareRoot: hw.root, nvmlLibrary: '', outputDir: out, projectName: 'lib' });
    machine.packages[0]!.add(3_000_000);
    expect(await (await fetch(monitor.url)).text()).to.include('let_sampler_up{measurement="measured"} 1');
    const record = await monitor.stop();
    expect(await monitor.stop()).to.equal(record);
    expect(record!.cpu_energy! * 3.6e6).to.be.closeTo(3, 1e-9);
    expect(loadResults({ outputDir: out }).map((r) => r.run_id)).to.deep.equal([record!.run_id]);
    for (const [options, message] of [
      [{ port: 0, foo: 1 }, /unknown option foo/],
      [{ port: 65536 }, /port must be an integer from 0 to 65535/],
      [{ port: 0, storeEverySeconds: 0.5 }, /storeEverySeconds must be a number of seconds ≥ 1/],
      [{ port: 0, host: '' }, /host must be a non-empty address/],
    ] as const) {
      const error = await startMonitor({ ...options, hardwareRoot: hw.root, nvmlLibrary: '' } as never).then(() => null, (e: Error) => e);
      expect(error?.message, JSON.stringify(options)).to.match(message);
    }
    const refused = await fetch(monitor.url).then(() => null, (error: Error) => error);
    expect(refused, 'the server is closed').to.be.instanceOf(Error);
  });
});
