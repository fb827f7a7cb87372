import { expect } from 'chai';
import { fork } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { intelServer, type FakeHardware } from '../fixtures/fake-hardware.js';
import { binding, processFds, processThreads, sleep } from '../fixtures/native-helpers.js';
import { acquireSampler, closeIdleSamplers, pooledSamplerCount } from '../../lib/native/sampler-pool.js';
import { addonSamplerOptions, resolveSamplerOptions } from '../../lib/native/sampler-options.js';
import { withIdleMs } from '../helpers/process-state.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/sampler-worker.mjs', import.meta.url));

interface Sampling {
  state: string;
  threads: number;
  parked: number;
  samples: number;
  domains: number;
}

/**
 * Run the sampler worker script in a forked child in `mode` and wait for it to end (killed after
 * 20 s: a hang fails instead of stalling): its exit code, signal, stderr and last message.
 */
async function forkSamplerChild(root: string, mode: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; msg: Sampling | null }> {
  const child = fork(SCRIPT, [JSON.stringify(addonOptions(root)), mode], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  let msg: Sampling | null = null;
  child.on('message', (m) => (msg = m as Sampling));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, sig) => resolve([c, sig])));
  clearTimeout(timer);
  return { code, signal, stderr, msg };
}

/** Thread ids of this process. */
const taskIds = (): Set<string> => new Set(readdirSync('/proc/self/task'));

/** Voluntary context switches of one thread of this process (each wake-up from a wait is one). */
function voluntarySwitches(tid: string): number {
  const match = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'));
  if (match === null) throw new Error(`no voluntary_ctxt_switches for thread ${tid}`);
  return Number(match[1]);
}

/** The complete options the raw addon takes (the worker loads it without the TypeScript loader). */
function addonOptions(root: string): object {
  return addonSamplerOptions(resolveSamplerOptions({ hardwareRoot: root, nvmlLibrary: '' }));
}

async function settleThreads(target: number): Promise<number> {
  for (let i = 0; i < 100 && processThreads() > target; i++) await sleep(10);
  return processThreads();
}

describe('native addon: isMainThread', () => {
  it('is true on the main thread and false in a worker (where signals never reach process listeners)', async () => {
    expect(binding().isMainThread?.()).to.equal(true);
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const worker = new Worker(
      `require('node:worker_threads').parentPort.postMessage(require('node-gyp-build')(${JSON.stringify(root)}).isMainThread())`,
      { eval: true },
    );
    try {
      const answer = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(answer).to.equal(false);
    } finally {
      await worker.terminate();
    }
  });
});

describe('native sampler: lifecycle', function () {
  this.timeout(30000);
  let hw: FakeHardware;
  beforeEach(() => {
    closeIdleSamplers(); // idle samplers left by earlier tests would count in openFiles()
    hw = intelServer(2, 2).hw;
  });
  afterEach(() => hw.cleanup());

  it('a worker thread terminated while sampling: no hang, no crash, its threads are gone', async () => {
    const base = processThreads();
    const w = new Worker(SCRIPT, { workerData: { options: addonOptions(hw.root), mode: 'wait' } });
    const msg = await new Promise<Sampling>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(msg.state).to.equal('sampling');
    expect(msg.threads).to.equal(1);
    expect(msg.samples).to.be.greaterThan(3);
    expect(msg.domains).to.equal(6);
    const code = await w.terminate();
    expect(code).to.equal(1);
    expect(await settleThreads(base)).to.be.at.most(base);
  });

  it('a worker that calls process.exit() while sampling exits cleanly', async () => {
    const base = processThreads();
    const w = new Worker(SCRIPT, { workerData: { options: addonOptions(hw.root), mode: 'exit' } });
    let sampling = false;
    w.on('message', (m: Sampling) => (sampling = m.state === 'sampling'));
    const code = await new Promise<number>((resolve, reject) => {
      w.once('exit', resolve);
      w.once('error', reject);
    });
    expect(sampling).to.equal(true);
    expect(code).to.equal(0);
    expect(await settleThreads(base)).to.be.at.most(base);
  });

  it('many workers sampling at once, terminated together', async () => {
    const base = processThreads();
    const workers = Array.from({ length: 6 }, () => new Worker(SCRIPT, { workerData: { options: addonOptions(hw.root), mode: 'wait' } }));
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    await Promise.all(workers.map((w) => w.terminate()));
    expect(await settleThreads(base)).to.be.at.most(base);
  });

  for (const mode of ['exit', 'end'] as const) {
    it(`a forked child that ${mode === 'exit' ? 'calls process.exit()' : 'lets its event loop end'} while sampling: code 0, no signal`, async () => {
      const { code, signal, stderr, msg } = await forkSamplerChild(hw.root, mode);
      expect(stderr).to.equal('');
      expect(msg).to.not.equal(null);
      expect(msg!.threads).to.equal(1);
      expect(signal).to.equal(null);
      expect(code).to.equal(0);
    });
  }

  it('many acquire/release cycles leak no threads and no file descriptors', async () => {
    const b = binding();
    const fds = processFds();
    const threads = processThreads();
    for (let i = 0; i < 200; i++) {
      const a = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 1 });
      const c = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 5 });
      expect(c.sampler).to.equal(a.sampler);
      if (i % 50 === 0) {
        expect(b.liveThreads()).to.equal(1);
        expect(b.openFiles()).to.equal(6 + 2); // 6 zones + proc/stat + proc/self/stat
        await sleep(3);
      }
      a.read();
      a.release();
      a.release(); // idempotent
      expect(a.sampler.stats().threadRunning).to.equal(true); // c still holds it
      c.release();
      expect(a.sampler.stats().threadRunning).to.equal(false);
      expect(() => a.read()).to.throw(/released/);
      if (i % 2 === 0) closeIdleSamplers(); // half the cycles reuse the idle sampler, half open a new one
    }
    expect(pooledSamplerCount()).to.equal(1); // idle, thread not sampling (parked), closed after LET_SAMPLER_IDLE_MS
    expect(b.liveThreads()).to.equal(0);
    closeIdleSamplers();
    expect(pooledSamplerCount()).to.equal(0);
    expect(b.liveThreads()).to.equal(0);
    expect(b.openFiles()).to.equal(0);
    expect(processFds()).to.equal(fds);
    expect(await settleThreads(threads)).to.be.at.most(threads);
  });

  it('direct sampler start/stop cycles: the thread is joined on every last release', () => {
    const b = binding();
    const s = new b.Sampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
    const threads = processThreads();
    const alone = s.acquire(60000);
    const slowest = s.stats().intervalMs;
    s.release(alone);
    expect(slowest).to.be.above(1);
    for (let i = 0; i < 300; i++) {
      const t1 = s.acquire(1);
      const t2 = s.acquire(60000);
      expect(s.stats().intervalMs).to.equal(1);
      s.release(t1);
      // The remaining holder's 60 s, capped at a quarter of the shortest wrap time: no longer 1 ms.
      expect(s.stats().intervalMs).to.be.at.most(60000);
      expect(s.stats().intervalMs).to.equal(slowest);
      s.release(t2);
      s.release(t2); // unknown token: ignored
      expect(s.stats().threadRunning).to.equal(false);
    }
    expect(processThreads()).to.equal(threads);
    s.close();
    expect(b.openFiles()).to.equal(0);
  });
  it('a pooled sampler parks its thread between runs (no sample, no wake-up) and the next run reuses it', async function () {
    this.retries(2); // the thread's wake-ups are counted by the kernel; a loaded machine may delay its first park
    await withIdleMs('60000', async () => {
      const b = binding();
      const before = taskIds();
      const first = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 1 });
      const started = [...taskIds()].filter((tid) => !before.has(tid));
      expect(started, 'one new OS thread').to.have.length(1);
      const tid = started[0]!;
      await sleep(20);
      first.release();
      const { sampler } = first;
      expect(sampler.stats().threadRunning).to.equal(false);
      expect(sampler.stats().threadParked).to.equal(true);
      expect([b.liveThreads(), b.parkedThreads()]).to.deep.equal([0, 1]);
      await sleep(20); // it parks at its next tick (1 ms)
      const samples = sampler.stats().samples;
      const switches = voluntarySwitches(tid);
      await sleep(200); // 200 ticks if it still ticked
      expect(sampler.stats().samples, 'no sample while parked').to.equal(samples);
      expect(voluntarySwitches(tid), 'no wake-up while parked').to.equal(switches);
      const second = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 1 });
      expect(second.sampler).to.equal(sampler);
      expect(sampler.stats().threadRunning).to.equal(true);
      expect(sampler.stats().threadParked).to.equal(false);
      expect(sampler.stats().threadStarts, 'the parked thread was reused').to.equal(1);
      expect([...taskIds()].filter((t) => !before.has(t)), 'no other thread started').to.deep.equal([tid]);
      for (let i = 0; i < 100 && sampler.stats().samples < samples + 5; i++) await sleep(5);
      expect(sampler.stats().samples, 'it samples again').to.be.at.least(samples + 5);
      second.release();
      closeIdleSamplers();
      expect([b.liveThreads(), b.parkedThreads()]).to.deep.equal([0, 0]);
      expect(sampler.stats().threadParked).to.equal(false);
      for (let i = 0; i < 100 && existsSync(`/proc/self/task/${tid}`); i++) await sleep(10);
      expect(existsSync(`/proc/self/task/${tid}`), 'joined when the sampler closed').to.equal(false);
    });
  });

  it('the parked thread is joined when the idle window closes (LET_SAMPLER_IDLE_MS)', async () => {
    await withIdleMs('50', async () => {
      const b = binding();
      const threads = processThreads();
      const lease = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 5 });
      lease.release();
      expect(lease.sampler.stats().threadRunning).to.equal(false);
      expect(b.parkedThreads()).to.equal(1);
      expect(processThreads()).to.equal(threads + 1);
      for (let i = 0; i < 300 && pooledSamplerCount() > 0; i++) await sleep(10);
      expect(pooledSamplerCount()).to.equal(0);
      expect([b.liveThreads(), b.parkedThreads()]).to.deep.equal([0, 0]);
      expect(lease.sampler.stats().threadParked).to.equal(false);
      expect(await settleThreads(threads)).to.equal(threads);
    });
  });

  for (const then of ['terminate', 'exit'] as const) {
    it(`a worker ${then === 'terminate' ? 'terminated' : 'that calls process.exit()'} while its thread is parked: the parked thread is joined`, async () => {
      const base = processThreads();
      const mode = then === 'terminate' ? 'park-wait' : 'park-exit';
      const w = new Worker(SCRIPT, { workerData: { options: addonOptions(hw.root), mode } });
      const msg = await new Promise<Sampling>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(msg).to.include({ state: 'parked', threads: 0, parked: 1 });
      const code = then === 'terminate' ? await w.terminate() : await new Promise<number>((resolve) => w.once('exit', resolve));
      expect(code).to.equal(then === 'terminate' ? 1 : 0);
      expect(await settleThreads(base)).to.be.at.most(base);
    });
  }

  for (const mode of ['park-exit', 'park-end'] as const) {
    it(`a forked child that ${mode === 'park-exit' ? 'calls process.exit()' : 'lets its event loop end'} with its thread parked: code 0, no signal`, async () => {
      const { code, signal, stderr, msg } = await forkSamplerChild(hw.root, mode);
      expect(stderr).to.equal('');
      expect(msg).to.deep.include({ state: 'parked', threads: 0, parked: 1 });
      expect(signal).to.equal(null);
      expect(code).to.equal(0);
    });
  }
});
