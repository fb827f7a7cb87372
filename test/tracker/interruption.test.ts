import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResults, appendRecord } from '../../lib/store/index.js';
import { inflightDirectory, recoverKilledRuns, writeCheckpoint, type InflightCheckpoint } from '../../lib/store/inflight.js';
import { intelServer, type FakeHardware, type PowercapCounter } from '../fixtures/fake-hardware.js';
import { withIdleMs } from '../helpers/process-state.js';

const CHILD = join(import.meta.dirname, '..', 'fixtures', 'tracker-child.ts');
const KWH_UJ = 3.6e12;
const microjoules = (kwh: number | null) => Math.round((kwh ?? 0) * KWH_UJ);

interface Child {
  process: ChildProcess;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function startChild(args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, stdout: () => out + (err === '' ? '' : `\n[stderr] ${err}`), exited };
}

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ready = (child: Child) => until('the child to be ready', () => child.stdout().includes('ready'));

function inflightFiles(outputDir: string): string[] {
  const dir = inflightDirectory(outputDir);
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.json')) : [];
}

function readCheckpoint(outputDir: string): InflightCheckpoint | null {
  const [name] = inflightFiles(outputDir);
  if (name === undefined) return null;
  try {
    return JSON.parse(readFileSync(join(inflightDirectory(outputDir), name), 'utf8')) as InflightCheckpoint;
  } catch {
    return null;
  }
}

describe('interrupted and killed runs are kept', function () {
  this.timeout(120_000);
  let hw: FakeHardware;
  let packages: PowercapCounter[];
  let outputDir: string;

  beforeEach(() => {
    ({ hw, packages } = intelServer(1, 2));
    outputDir = mkdtempSync(join(tmpdir(), 'let-interrupt-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    hw.cleanup();
    rmSync(outputDir, { recursive: true, force: true });
  });

  for (const mode of ['track', 'startstop'] as const) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      it(`${signal} during ${mode === 'track' ? 'track()' : 'start()…stop()'}: the row is stored as interrupted and the process dies of ${signal}`, async () => {
        const child = startChild([mode, outputDir, hw.root]);
        await ready(child);
        packages[0]!.addJoules(3.25);
        child.process.kill(signal);
        const { code, signal: died } = await child.exited;
        expect({ code, died }, child.stdout()).to.deep.equal({ code: null, died: signal });
        const rows = loadResults({ outputDir });
        expect(rows.map((row) => [row.project_name, row.run_status])).to.deep.equal([[mode, 'interrupted']]);
        expect(microjoules(rows[0]!.cpu_energy)).to.equal(3.25e6);
        expect(inflightFiles(outputDir), 'the in-flight file is removed').to.deep.equal([]);
      });
    }
  }

  it("a user's own handler keeps working: the row is stored, then their handler decides (exit 7)", async () => {
    const child = startChild(['startstop', outputDir, hw.root, '', 'user']);
    await ready(child);
    child.process.kill('SIGINT');
    const { code, signal } = await child.exited;
    expect({ code, signal }, child.stdout()).to.deep.equal({ code: 7, signal: null });
    expect(child.stdout()).to.contain('user-handler');
    expect(loadResults({ outputDir }).map((row) => row.run_status)).to.deep.equal(['interrupted']);
  });

  it('SIGKILL with a 1 s checkpoint: the next loadResults stores it once as killed, with the energy of its last checkpoint', async () => {
    const child = startChild(['startstop', outputDir, hw.root, '1000']);
    await ready(child);
    packages[0]!.addJoules(10);
    packages[0]!.addJoules(0.5);
    await until('a checkpoint with the energy', () => microjoules(readCheckpoint(outputDir)?.record.cpu_energy ?? 0) === 10.5e6);
    const checkpoint = readCheckpoint(outputDir)!;
    expect(checkpoint.pid).to.equal(child.process.pid);
    expect(loadResults({ outputDir }), 'a live run is never recovered').to.deep.equal([]);
    expect(inflightFiles(outputDir)).to.have.length(1);
    child.process.kill('SIGKILL');
    await child.exited;
    const rows = loadResults({ outputDir });
    expect(rows.map((row) => [row.run_id, row.run_status])).to.deep.equal([[checkpoint.record.run_id, 'killed']]);
    expect(microjoules(rows[0]!.cpu_energy)).to.equal(10.5e6);
    expect(rows[0]!.duration).to.be.greaterThan(0.9);
    expect(inflightFiles(outputDir)).to.deep.equal([]);
    expect(loadResults({ outputDir }), 'once').to.have.length(1);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during a CPU-bound synchronous workload still ends the process within about a second (native watchdog); the run is kept as killed from its checkpoint`, async () => {
      const child = startChild(['sync', outputDir, hw.root]);
      await ready(child);
      packages[0]!.addJoules(4);
      writeFileSync(join(outputDir, 'go'), '');
      await until('the checkpoint', () => child.stdout().includes('checkpointed'));
      const sent = Date.now();
      child.process.kill(signal);
      const { code, signal: died } = await child.exited;
      const tookMs = Date.now() - sent;
      expect({ code, died }, child.stdout()).to.deep.equal({ code: null, died: signal });
      expect(tookMs, 'the signal did not wait for the 30 s workload').to.be.below(5000);
      const rows = loadResults({ outputDir });
      expect(rows.map((row) => row.run_status)).to.deep.equal(['killed']);
      expect(microjoules(rows[0]!.cpu_energy)).to.equal(4e6);
    });
  }

  for (const when of ['user', 'userlate', 'idlelate'] as const) {
  const added = { user: 'added before start()', userlate: 'added after start()', idlelate: "added in the idle window after a run, the next run started in the same tick" }[when];
  it(`the watchdog leaves a signal alone when the user has a handler for it (${added})`, async () => {
    const child = startChild(['sync', outputDir, hw.root, '', when]);
    await ready(child);
    writeFileSync(join(outputDir, 'go'), '');
    await until('the checkpoint', () => child.stdout().includes('checkpointed'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.process.kill('SIGINT');
    const dead = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve('alive'), 3000))]);
    expect(dead, 'the process was not killed by the watchdog').to.equal('alive');
    child.process.kill('SIGKILL');
    await child.exited;
  });
  }

  it('4 processes recovering at the same moment store each killed run exactly once', async () => {
    const killed: Child[] = [startChild(['startstop', outputDir, hw.root, '200']), startChild(['startstop', outputDir, hw.root, '200'])];
    await Promise.all(killed.map(ready));
    packages[0]!.addJoules(2);
    await until('two checkpoints', () => inflightFiles(outputDir).length === 2, 30_000);
    await until('checkpoints with the energy', () =>
      inflightFiles(outputDir).every((name) => {
        try {
          const c = JSON.parse(readFileSync(join(inflightDirectory(outputDir), name), 'utf8')) as InflightCheckpoint;
          return microjoules(c.record.cpu_energy) === 2e6;
        } catch {
          return false;
        }
      }),
    );
    for (const child of killed) child.process.kill('SIGKILL');
    await Promise.all(killed.map((child) => child.exited));
    const recoverers = [1, 2, 3, 4].map(() => startChild(['recover', outputDir, hw.root]));
    await Promise.all(recoverers.map(ready));
    writeFileSync(join(outputDir, 'go'), '');
    const ends = await Promise.all(recoverers.map((child) => child.exited));
    expect(ends.map((end) => end.code), recoverers.map((child) => child.stdout()).join('\n')).to.deep.equal([0, 0, 0, 0]);
    for (const child of recoverers) expect(child.stdout().trim().split('\n').pop()).to.equal('2');
    const rows = loadResults({ outputDir });
    expect(rows.map((row) => row.run_status)).to.deep.equal(['killed', 'killed']);
    expect(new Set(rows.map((row) => row.run_id)).size).to.equal(2);
    expect(rows.map((row) => microjoules(row.cpu_energy))).to.deep.equal([2e6, 2e6]);
  });

  it('a crash between the append and the unlink: the next recovery only removes the file (no second row)', () => {
    const record = { ...sampleRecord(), run_status: 'killed' as const };
    appendRecord(record, outputDir);
    mkdirSync(inflightDirectory(outputDir), { recursive: true });
    writeCheckpoint({ format: 1, record, pid: 2 ** 22 + 17, processStartTime: '1', bootId: null, hostname: hostname(), checkpointIntervalMs: 1000, writtenAtMs: Date.now() }, outputDir);
    expect(recoverKilledRuns(outputDir)).to.deep.equal([]);
    expect(inflightFiles(outputDir)).to.deep.equal([]);
    expect(loadResults({ outputDir })).to.have.length(1);
  });
});


function sampleRecord() {
  return {
    timestamp: '2026-01-01T00:00:00', project_name: 'p', run_id: '00000000-0000-4000-8000-000000000001', experiment_id: 'p___u___h',
    duration: 1, emissions: 0, emissions_rate: 0, cpu_power: 0, gpu_power: 0, ram_power: 0, cpu_energy: 0, gpu_energy: 0,
    ram_energy: 0, energy_consumed: 0, water_consumed: 0, country_name: 'Germany', country_iso_code: 'DEU', region: '',
    cloud_provider: '', cloud_region: '', os: 'Linux', python_version: '', codecarbon_version: '', cpu_count: 1, cpu_model: 'x',
    gpu_count: 0, gpu_model: '', longitude: null, latitude: null, ram_total_size: 1, tracking_mode: 'machine',
    cpu_utilization_percent: 0, gpu_utilization_percent: null, ram_utilization_percent: 0, ram_used_gb: 0, on_cloud: 'N', pue: 1,
    wue: 0, hostname: 'h', user: 'u', tracker_version: '0', cpu_energy_method: 'measured:powercap' as const,
    gpu_energy_method: 'none:no-gpu' as const, ram_energy_method: 'estimated:dimm-model' as const, carbon_intensity: 380,
    wall_energy: null, wall_energy_method: '' as const, wall_energy_uncertainty: null,
  };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listenerCounts = () => SIGNALS.map((s) => process.listenerCount(s));

describe('signal handlers exist only while a tracker runs (and its idle window)', () => {
  it('adds one handler per signal on start and removes it when the idle window after the last stop closes (nested trackers share them)', async () => {
    const { EnergyTracker } = await import('../../lib/tracker/energy-tracker.js');
    const { hw } = intelServer(1, 1);
    try {
      await withIdleMs('50', async () => {
        const before = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
        const options = { hardwareRoot: hw.root, nvmlLibrary: '', save: false, printSummary: false };
        const outer = new EnergyTracker(options).start();
        const inner = new EnergyTracker(options).start();
        expect(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s))).to.deep.equal(before.map((n) => n + 1));
        inner.stop();
        expect(process.listenerCount('SIGINT')).to.equal(before[0]! + 1);
        outer.stop();
        expect(listenerCounts(), 'kept for the idle window').to.deep.equal(before.map((n) => n + 1));
        await until('the idle window to close', () => process.listenerCount('SIGINT') === before[0], 5000);
        expect(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s))).to.deep.equal(before);
        const quiet = new EnergyTracker({ ...options, handleSignals: false }).start();
        expect(process.listenerCount('SIGINT')).to.equal(before[0]);
        quiet.stop();
      });
    } finally {
      hw.cleanup();
    }
  });

  it('with LET_SAMPLER_IDLE_MS=0 the handlers are removed at the last stop; a run in the idle window takes them back', async () => {
    const { EnergyTracker } = await import('../../lib/tracker/energy-tracker.js');
    const { hw } = intelServer(1, 1);
    try {
      const options = { hardwareRoot: hw.root, nvmlLibrary: '', save: false, printSummary: false };
      const before = listenerCounts();
      await withIdleMs('0', async () => {
        new EnergyTracker(options).start().stop();
        expect(listenerCounts()).to.deep.equal(before);
      });
      await withIdleMs('60000', async () => {
        new EnergyTracker(options).start().stop();
        expect(listenerCounts()).to.deep.equal(before.map((n) => n + 1));
        const again = new EnergyTracker(options).start();
        expect(listenerCounts(), 'the same handlers, not a second set').to.deep.equal(before.map((n) => n + 1));
        again.stop();
        // A listener of someone else's added in the idle window ends it: ours go on the next tick.
        const mine = (): void => undefined;
        process.on('SIGHUP', mine);
        await new Promise((resolve) => setImmediate(resolve));
        expect(listenerCounts()).to.deep.equal([before[0], before[1], before[2]! + 1]);
        process.off('SIGHUP', mine);
        expect(listenerCounts()).to.deep.equal(before);
      });
    } finally {
      hw.cleanup();
    }
  });
});

describe('signals during the idle window, with no run active, act as with no handler', function () {
  this.timeout(120_000);
  let hw: FakeHardware;
  let outputDir: string;
  const env = { ...process.env, LET_SAMPLER_IDLE_MS: '60000' };
  beforeEach(() => {
    ({ hw } = intelServer(1, 2));
    outputDir = mkdtempSync(join(tmpdir(), 'let-idle-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    hw.cleanup();
    rmSync(outputDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} with an idle event loop: the process dies of ${signal}; the stopped run stays as it was`, async () => {
      const child = startChild(['idle', outputDir, hw.root], env);
      await ready(child);
      expect(child.stdout(), 'our handler is still installed').to.contain('ready 1');
      child.process.kill(signal);
      const { code, signal: died } = await child.exited;
      expect({ code, died }, child.stdout()).to.deep.equal({ code: null, died: signal });
      expect(loadResults({ outputDir }).map((row) => row.run_status)).to.deep.equal(['completed']);
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during a CPU-bound synchronous workload: the process dies of it at once, not after the watchdog's grace period`, async function () {
      this.retries(2); // timed against the 1 s grace period: a loaded machine may delay the child
      const child = startChild(['idlesync', outputDir, hw.root], env);
      await ready(child);
      await new Promise((resolve) => setTimeout(resolve, 100)); // inside the busy loop
      const sent = Date.now();
      child.process.kill(signal);
      const { code, signal: died } = await child.exited;
      const tookMs = Date.now() - sent;
      expect({ code, died }, child.stdout()).to.deep.equal({ code: null, died: signal });
      expect(tookMs, 'the default action, as with no handler (the watchdog would wait 1000 ms)').to.be.below(900);
    });
  }

  it("a user's SIGINT handler added during the idle window decides (exit 7); ours is gone", async () => {
    const child = startChild(['idleuser', outputDir, hw.root], env);
    await ready(child);
    expect(child.stdout(), "the user's listener and ours, until the next tick").to.contain('ready 2');
    await until('the next turn of its loop', () => child.stdout().includes('listeners'));
    expect(child.stdout(), "then only the user's").to.contain('listeners 1');
    child.process.kill('SIGINT');
    const { code, signal } = await child.exited;
    expect({ code, signal }, child.stdout()).to.deep.equal({ code: 7, signal: null });
    expect(child.stdout()).to.contain('user-handler');
  });

  it('a process with no active tracker ends by itself during the idle window (nothing keeps it alive)', async () => {
    const child = startChild(['idleend', outputDir, hw.root], env);
    const ended = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    expect(ended, child.stdout()).to.deep.equal({ code: 0, signal: null });
    expect(child.stdout()).to.contain('ready 1');
  });
});
