import { expect } from 'chai';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { intelServer, type FakeHardware } from '../fixtures/fake-hardware.js';
import { binding, processFds, processThreads, sleep } from '../fixtures/native-helpers.js';
import { acquireSampler, closeIdleSamplers, pooledSamplerCount } from '../../lib/native/sampler-pool.js';
import { addonSamplerOptions, resolveSamplerOptions } from '../../lib/native/sampler-options.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/sampler-worker.mjs', import.meta.url));

interface Sampling {
  state: string;
  threads: number;
  samples: number;
  domains: number;
}

/** The complete options the raw addon takes (the worker loads it without the TypeScript loader). */
function addonOptions(root: string): object {
  return addonSamplerOptions(resolveSamplerOptions({ hardwareRoot: root, nvmlLibrary: '' }));
}

async function settleThreads(target: number): Promise<number> {
  for (let i = 0; i < 100 && processThreads() > target; i++) await sleep(10);
  return processThreads();
}

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
      const child = fork(SCRIPT, [JSON.stringify(addonOptions(hw.root)), mode], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += String(d)));
      let msg: Sampling | null = null;
      child.on('message', (m) => (msg = m as Sampling));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (c, s) => resolve([c, s])),
      );
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
    expect(pooledSamplerCount()).to.equal(1); // idle, thread stopped, closed after LET_SAMPLER_IDLE_MS
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
});
