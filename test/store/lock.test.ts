import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadNativeBinding } from '../../lib/native/loader.js';
import { StoreError, appendRecord, loadResults } from '../../lib/store/index.js';
import { FALLBACK_LOCK_SUFFIX, LOCK_FILE_SUFFIX, lockEnvironment, withLock } from '../../lib/store/lock.js';
import type { LockMethod } from '../../lib/store/lock.js';
import { hostKey } from '../../lib/store/lock-holder.js';
import { resolveTrackerOptions } from '../../lib/tracker/options.js';
import { makeRecord, tempDir } from './helpers.js';

const WORKER = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));
const THREAD = new URL('./fixtures/lock-thread.mjs', import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long the holder stays stopped while writers wait (the issue asks for 30 s). */
const PAUSE_MS = 30_000;
/** Race trials of 4 processes on a crashed holder's lock: kernel lock, lock-file fallback. */
const RACE_TRIALS = 1000;
const FALLBACK_RACE_TRIALS = 1000;
const METHODS: Array<Exclude<LockMethod, 'auto'>> = ['fcntl', 'file'];

/** A child process with its stdout split into lines. */
interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line (from `from` on) matching, rejects after `timeoutMs`. */
  line(match: (l: string) => boolean, timeoutMs: number, from?: number): Promise<string>;
}

const live = new Set<ChildProcess>();

function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  live.add(proc);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  const line = (match: (l: string) => boolean, timeoutMs: number, from = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line from ${args.join(' ')} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      const check = (): void => {
        const found = lines.slice(from).find(match);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) without the line; stderr: ${stderr}`));
        } else waiters.push(check);
      };
      check();
    });
  return { proc, lines, stderr: () => stderr, exit, line };
}

const worker = (...args: string[]): Child => start(process.execPath, ['--import', 'tsx', WORKER, ...args]);
/** Racers for the lock-file fallback wait 2 ms between judging a holder dead and breaking its lock, so that breakers meet. */
const racer = (dir: string, method: string, log: string): Child =>
  start(process.execPath, ['--import', 'tsx', WORKER, 'race', dir, method, log], { ...process.env, LET_TEST_LOCK_BREAK_DELAY_MS: method === 'file' ? '2' : '' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lockErrorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    return err as StoreError;
  }
  return expect.fail('expected a StoreError');
}

/** A holder text left by a process that is gone (pid of an exited child). */
function deadHolderText(method: 'fcntl' | 'file'): string {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(pid).to.be.greaterThan(0);
  const info = { pid, host: hostname(), hostKey: hostKey(), start: '1', since: new Date().toISOString(), method, nonce: Math.random().toString(16).slice(2), thread: 0 };
  return `${JSON.stringify(info)}\n`;
}

describe('store: lock', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('let-lock-'));
    file = join(dir, 'emissions.csv');
  });
  afterEach(() => {
    for (const p of live) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
    cleanup();
  });

  it(`a holder stopped (SIGSTOP) for ${PAUSE_MS / 1000} s keeps the lock from 4 waiting writers, who all get in after SIGCONT and lose nothing`, async function () {
    this.timeout(PAUSE_MS + 90_000);
    const scenario = async (method: 'fcntl' | 'file'): Promise<void> => {
      const sub = join(dir, method);
      mkdirSync(sub);
      const csv = join(sub, 'emissions.csv');
      appendRecord(makeRecord({ run_id: 'seed' }), sub, { lockMethod: method });
      const holder = worker('hold', sub, method, '1000');
      await holder.line((l) => l === 'held', 30_000);
      holder.proc.kill('SIGSTOP');
      const before = readFileSync(csv);
      const writers = Array.from({ length: 4 }, (_, i) => worker('append', sub, method, `w${i}`, String(PAUSE_MS + 60_000)));
      await Promise.all(writers.map((w) => w.line((l) => l === 'waiting', 30_000)));
      await sleep(PAUSE_MS - 500);
      // None got in, none returned, the file is as the holder left it.
      expect(writers.flatMap((w) => w.lines.filter((l) => l.startsWith('ok '))), `${method}: writers done while the holder was stopped`).to.deep.equal([]);
      expect(writers.map((w) => w.proc.exitCode), `${method}: writers still waiting`).to.deep.equal([null, null, null, null]);
      expect(readFileSync(csv).equals(before), `${method}: file untouched while stopped`).to.equal(true);
      holder.proc.kill('SIGCONT');
      expect(await holder.exit).to.deep.equal({ code: 0, signal: null });
      expect(await Promise.all(writers.map((w) => w.exit)), method).to.deep.equal(new Array(4).fill({ code: 0, signal: null }));
      const ids = loadResults({ outputDir: sub }).map((r) => r.run_id).sort();
      expect(ids, `${method}: every run reported stored is stored`).to.deep.equal(['seed', 'w0', 'w1', 'w2', 'w3']);
    };
    await Promise.all(METHODS.map(scenario));
  });

  for (const method of METHODS) {
    it(`${method}: a holder killed with SIGKILL lets the next writer in at once`, async () => {
      appendRecord(makeRecord({ run_id: 'seed' }), dir, { lockMethod: method });
      const holder = worker('hold', dir, method);
      await holder.line((l) => l === 'held', 30_000);
      holder.proc.kill('SIGKILL');
      expect((await holder.exit).signal).to.equal('SIGKILL');
      const t0 = performance.now();
      appendRecord(makeRecord({ run_id: 'next' }), dir, { lockMethod: method, lockTimeoutMs: 10_000, lockStaleMs: 60_000 });
      const ms = performance.now() - t0;
      expect(ms, 'ms to get the lock of a dead holder').to.be.below(250);
      expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['seed', 'next']);
    });
  }

  const raceTrials = { fcntl: RACE_TRIALS, file: FALLBACK_RACE_TRIALS };
  for (const method of METHODS) {
    it(`${method}: ${raceTrials[method]} trials of 4 processes racing on a crashed holder's lock: never two holders, never two headers`, async function () {
      this.timeout(600_000);
      const log = join(dir, 'holders.log');
      const lockPath = `${file}${method === 'fcntl' ? LOCK_FILE_SUFFIX : FALLBACK_LOCK_SUFFIX}`;
      const racers = Array.from({ length: 4 }, () => racer(dir, method, log));
      for (let t = 0; t < raceTrials[method]; t++) {
        rmSync(file, { force: true });
        // What a holder killed while holding leaves: its text (and, for the fallback, the lock file).
        writeFileSync(lockPath, deadHolderTextCached(method));
        const from = racers.map((r) => r.lines.length);
        for (const r of racers) r.proc.stdin!.write(`go ${t}\n`);
        await Promise.all(racers.map((r, i) => r.line((l) => l === `done ${t}`, 60_000, from[i])));
        const lines = readFileSync(file, 'utf8').split('\n');
        expect(lines.filter((l) => l.startsWith('timestamp,')), `trial ${t}: header lines`).to.have.length(1);
        expect(lines.filter((l) => l !== '').length, `trial ${t}: lines`).to.equal(5);
      }
      for (const r of racers) r.proc.stdin!.end();
      expect(await Promise.all(racers.map((r) => r.exit))).to.deep.equal(new Array(4).fill({ code: 0, signal: null }));
      let holder: string | null = null;
      let enters = 0;
      for (const entry of readFileSync(log, 'utf8').split('\n').filter((l) => l !== '')) {
        const [what, pid, trial] = entry.split(' ');
        if (what === 'enter') {
          expect(holder, `trial ${trial}: pid ${pid} entered while ${holder} held the lock`).to.equal(null);
          holder = pid as string;
          enters++;
        } else {
          expect(holder, `trial ${trial}: exit of pid ${pid}`).to.equal(pid);
          holder = null;
        }
      }
      expect(enters).to.equal(4 * raceTrials[method]);
      expect(readdirSync(dir).filter((n) => n.includes('.break-') || n.includes('.tmp-'))).to.deep.equal([]);
    });
  }

  it('SIGINT ends a CPU-bound workload that imported the package and used the store (signal SIGINT, exit 130 in a shell)', async () => {
    const dist = join(ROOT, 'dist', 'index.js');
    // dist/index.js is one bundle (scripts/build-dist.cjs) that holds the store's lock code.
    expect(existsSync(dist) && readFileSync(dist, 'utf8').includes(LOCK_FILE_SUFFIX), 'dist/ is built from this source (npm run build:ts)').to.equal(true);
    appendRecord(makeRecord(), dir);
    const script = [
      `import { deleteResults } from ${JSON.stringify(pathToFileURL(dist).href)};`,
      // Takes the store's lock (loading the addon) and deletes nothing.
      `deleteResults({ outputDir: process.argv[1], projectName: 'no-such-project' });`,
      `process.stdout.write('ready ' + process.listenerCount('SIGINT') + ' ' + process.listenerCount('SIGTERM') + '\\n');`,
      `let x = 0; for (;;) x = (x + 1) % 1e9;`,
    ].join('\n');
    rmSync(`${file}${LOCK_FILE_SUFFIX}`);
    const child = start(process.execPath, ['--input-type=module', '-e', script, dir]);
    expect(await child.line((l) => l.startsWith('ready'), 30_000)).to.equal('ready 0 0');
    expect(existsSync(`${file}${LOCK_FILE_SUFFIX}`), 'the child took the store lock').to.equal(true);
    child.proc.kill('SIGINT');
    const ended = await Promise.race([child.exit, sleep(10_000).then(() => 'still running')]);
    expect(ended).to.deep.equal({ code: null, signal: 'SIGINT' });
    // The same from a shell, which reports 130 (128 + SIGINT).
    const withPid = script.replace(`process.stdout.write('ready '`, `process.stdout.write('ready ' + process.pid + ' '`);
    const shell = start('sh', ['-c', '"$0" --input-type=module -e "$1" "$2"; echo "status $?"', process.execPath, withPid, dir]);
    const ready = await shell.line((l) => l.startsWith('ready'), 30_000);
    const [, pid, onInt, onTerm] = ready.split(' ');
    expect([onInt, onTerm]).to.deep.equal(['0', '0']);
    process.kill(Number(pid), 'SIGINT');
    expect(await shell.line((l) => l.startsWith('status'), 10_000)).to.equal('status 130');
  });

  it('SIGINT ends a writer waiting for the lock at once', async () => {
    appendRecord(makeRecord({ run_id: 'seed' }), dir);
    const holder = worker('hold', dir, 'fcntl');
    await holder.line((l) => l === 'held', 30_000);
    const waiter = worker('append', dir, 'fcntl', 'w', '60000');
    await waiter.line((l) => l === 'waiting', 30_000);
    await sleep(200);
    const t0 = performance.now();
    waiter.proc.kill('SIGINT');
    expect(await waiter.exit).to.deep.equal({ code: null, signal: 'SIGINT' });
    expect(performance.now() - t0).to.be.below(1000);
    expect(waiter.lines.filter((l) => l.startsWith('ok'))).to.deep.equal([]);
  });

  it('fcntl: worker.terminate() while a worker holds the lock releases it', async () => {
    const w = new Worker(THREAD, { workerData: { file, method: 'fcntl' } });
    try {
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      const busy = lockErrorOf(() => withLock(file, () => 0, { lockTimeoutMs: 50 }));
      expect(busy.code).to.equal('LET_LOCK_TIMEOUT');
      expect(busy.message).to.include(`pid ${process.pid} (worker thread ${w.threadId})`);
    } finally {
      await w.terminate();
    }
    const t0 = performance.now();
    expect(withLock(file, () => 'free', { lockTimeoutMs: 0 })).to.equal('free');
    expect(performance.now() - t0).to.be.below(100);
    expect(loadNativeBinding().heldLocks!(), 'locks this thread still holds').to.equal(0);
  });

  for (const method of METHODS) {
    describe(`${method}: a lock path that is not a regular file is refused`, () => {
      const lockPathOf = (): string => `${file}${method === 'fcntl' ? LOCK_FILE_SUFFIX : FALLBACK_LOCK_SUFFIX}`;
      const refused = (what: RegExp): void => {
        const t0 = performance.now();
        const err = lockErrorOf(() => appendRecord(makeRecord(), dir, { lockMethod: method, lockTimeoutMs: 2000 }));
        expect(err.code).to.equal('LET_LOCK_FAILED');
        expect(err.message).to.include(lockPathOf()).and.match(what).and.include('must be a regular file');
        expect(performance.now() - t0, 'refused at once').to.be.below(1000);
        expect(existsSync(file)).to.equal(false);
      };
      it('a directory', () => {
        mkdirSync(lockPathOf());
        refused(/is a directory/);
      });
      it('a FIFO (refused without blocking on it)', () => {
        const r = spawnSync('mkfifo', [lockPathOf()]);
        expect(r.status, `mkfifo: ${r.error?.message ?? r.stderr}`).to.equal(0);
        refused(/is a FIFO/);
      });
      it('a symbolic link (its target is not touched)', () => {
        const target = join(dir, 'outside.txt');
        writeFileSync(target, 'keep me\n');
        symlinkSync(target, lockPathOf());
        refused(/is a symbolic link/);
        expect(readFileSync(target, 'utf8')).to.equal('keep me\n');
      });
    });
  }

  for (const [holderMethod, waiterMethod] of [['fcntl', 'file'], ['file', 'fcntl']] as const) {
    it(`a ${waiterMethod} waiter does not get in while a live ${holderMethod} holder on this host has the store`, async () => {
      appendRecord(makeRecord({ run_id: 'seed' }), dir);
      const holder = worker('hold', dir, holderMethod);
      await holder.line((l) => l === 'held', 30_000);
      const err = lockErrorOf(() => withLock(file, () => 0, { lockMethod: waiterMethod, lockTimeoutMs: 300 }));
      expect(err.code).to.equal('LET_LOCK_TIMEOUT');
      expect(err.message).to.include(`held by pid ${holder.proc.pid} on host ${hostname()}`);
      holder.proc.kill('SIGKILL');
      await holder.exit;
      expect(withLock(file, () => 'free', { lockMethod: waiterMethod, lockTimeoutMs: 0 })).to.equal('free');
    });
  }

  it('file: a lock of another host is broken only after it stayed unchanged for lockStaleMs, whatever its timestamps', async () => {
    const lockPath = `${file}${FALLBACK_LOCK_SUFFIX}`;
    const foreign = JSON.parse(deadHolderText('file')) as Record<string, unknown>;
    foreign.hostKey = 'elsewhere/boot/ns';
    foreign.host = 'elsewhere';
    writeFileSync(lockPath, JSON.stringify(foreign));
    // A live holder elsewhere refreshes it (here: a process rewriting it every 50 ms).
    const toucher = start(process.execPath, ['-e', `const fs=require('fs');setInterval(()=>fs.utimesSync(process.argv[1],new Date(),new Date()),50);console.log('touching')`, lockPath]);
    await toucher.line((l) => l === 'touching', 10_000);
    const busy = lockErrorOf(() => withLock(file, () => 0, { lockMethod: 'file', lockStaleMs: 300, lockTimeoutMs: 1200 }));
    expect(busy.code).to.equal('LET_LOCK_TIMEOUT');
    expect(busy.message).to.include('on host elsewhere');
    toucher.proc.kill('SIGKILL');
    await toucher.exit;
    // Its clock an hour ahead of ours (skew between NFS clients) changes nothing.
    const ahead = new Date(Date.now() + 3_600_000);
    utimesSync(lockPath, ahead, ahead);
    const t0 = performance.now();
    expect(withLock(file, () => 'taken', { lockMethod: 'file', lockStaleMs: 300, lockTimeoutMs: 5000 })).to.equal('taken');
    expect(performance.now() - t0).to.be.within(290, 2000);
    expect(existsSync(lockPath)).to.equal(false);
  });

  for (const method of METHODS) {
    it(`${method}: refresh() throws when the lock file was removed by hand while held, and a new holder got in`, () => {
      const lockPath = `${file}${method === 'fcntl' ? LOCK_FILE_SUFFIX : FALLBACK_LOCK_SUFFIX}`;
      const err = lockErrorOf(() =>
        withLock(
          file,
          (lock) => {
            expect(lock.lockPath).to.equal(lockPath);
            expect(lock.method).to.equal(method);
            lock.refresh();
            rmSync(lockPath);
            // Another writer now gets the lock at once…
            expect(withLock(file, () => 'second', { lockMethod: method, lockTimeoutMs: 0 })).to.equal('second');
            // …and the first one learns it lost the lock before it writes.
            lock.refresh();
          },
          { lockMethod: method },
        ),
      );
      expect(err.code).to.equal('LET_LOCK_FAILED');
      expect(err.message).to.include(`the lock file ${lockPath} was removed or replaced while this writer held it`);
    });
  }

  it('LET_LOCK_* variables are validated when read, naming the variable and value', () => {
    for (const [name, value] of [
      ['LET_LOCK_TIMEOUT_MS', 'abc'],
      ['LET_LOCK_TIMEOUT_MS', '-1'],
      ['LET_LOCK_TIMEOUT_MS', '1e3'],
      ['LET_LOCK_STALE_MS', ' 5'],
      ['LET_LOCK_STALE_MS', '99999999999'],
      ['LET_LOCK_METHOD', 'flock'],
    ] as const) {
      expect(() => lockEnvironment({ [name]: value }), `${name}=${value}`).to.throw(RangeError, name).and.match(new RegExp(JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    expect(lockEnvironment({ LET_LOCK_TIMEOUT_MS: '250', LET_LOCK_STALE_MS: '0', LET_LOCK_METHOD: 'file' })).to.deep.equal({ timeoutMs: 250, staleMs: 0, method: 'file' });
    const saved = process.env.LET_LOCK_TIMEOUT_MS;
    process.env.LET_LOCK_TIMEOUT_MS = 'abc';
    try {
      expect(() => appendRecord(makeRecord(), dir)).to.throw(RangeError, 'LET_LOCK_TIMEOUT_MS');
      expect(existsSync(file)).to.equal(false);
      // A tracker that saves fails when created, before a run is measured.
      expect(() => resolveTrackerOptions({ outputDir: dir })).to.throw(RangeError, 'LET_LOCK_TIMEOUT_MS');
      expect(resolveTrackerOptions({ outputDir: dir, save: false }).save).to.equal(false);
    } finally {
      if (saved === undefined) delete process.env.LET_LOCK_TIMEOUT_MS;
      else process.env.LET_LOCK_TIMEOUT_MS = saved;
    }
  });
});

const deadTexts = new Map<string, string>();

/** A dead holder's text, its nonce new for each use (each crash is another holding). */
function deadHolderTextCached(method: 'fcntl' | 'file'): string {
  let text = deadTexts.get(method);
  if (text === undefined) {
    text = deadHolderText(method);
    deadTexts.set(method, text);
  }
  const info = JSON.parse(text) as Record<string, unknown>;
  info.nonce = Math.random().toString(16).slice(2);
  return `${JSON.stringify(info)}\n`;
}
