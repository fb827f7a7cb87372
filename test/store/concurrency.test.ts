import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendRecord, loadResults, parseCsv } from '../../lib/store/index.js';
import type { StoreWarning } from '../../lib/store/index.js';
import { SAMPLES_DIR, makeRecord, tempDir } from './helpers.js';

const WORKER = fileURLToPath(new URL('./fixtures/append-worker.ts', import.meta.url));

function startWorker(dir: string, id: string, count: number | 'forever'): { child: ChildProcess; done: string[]; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, dir, id, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LET_LOCK_STALE_MS: '2000', LET_LOCK_TIMEOUT_MS: '60000' },
  });
  const done: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.startsWith('ok ')) done.push(line.slice(3));
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`worker ${id} stderr:\n${stderr}\n`);
      resolve(code);
    }),
  );
  return { child, done, exit };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('store: concurrent writers', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('8 processes appending 200 runs each at once give 1,600 complete rows', async () => {
    const workers = Array.from({ length: 8 }, (_, i) => startWorker(dir, String(i), 200));
    const codes = await Promise.all(workers.map((w) => w.exit));
    expect(codes).to.deep.equal(new Array(8).fill(0));
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(text.endsWith('\n')).to.equal(true);
    expect(text.split('\n').length).to.equal(1 + 1600 + 1);
    const warnings: StoreWarning[] = [];
    const rows = loadResults({ outputDir: dir }, { onWarning: (w) => warnings.push(w) });
    expect(warnings).to.deep.equal([]);
    expect(rows).to.have.length(1600);
    expect(new Set(rows.map((r) => r.run_id)).size).to.equal(1600);
    for (let w = 0; w < 8; w++) {
      const mine = rows.filter((r) => r.project_name === `proj-${w}`);
      // Each worker's rows are all there, complete, in its own order.
      expect(mine.map((r) => r.run_id)).to.deep.equal(Array.from({ length: 200 }, (_, i) => `w${w}-${i}`));
      expect(mine.map((r) => r.duration)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
      expect(mine.every((r) => r.cpu_model.startsWith('CPU xxx') && r.run_status === 'completed')).to.equal(true);
    }
    expect(readdirSync(dir).filter((n) => !n.endsWith('.let-lock'))).to.deep.equal(['emissions.csv']);
  });

  it('concurrent writers on a CodeCarbon file (rewritten once to add our columns) keep every row', async () => {
    const file = join(dir, 'emissions.csv');
    copyFileSync(join(SAMPLES_DIR, 'Himanshu-joshi986_GreenOps-Refactor.csv'), file);
    const original = parseCsv(readFileSync(file, 'utf8')).records;
    const workers = Array.from({ length: 4 }, (_, i) => startWorker(dir, `c${i}`, 50));
    expect(await Promise.all(workers.map((w) => w.exit))).to.deep.equal([0, 0, 0, 0]);
    const after = parseCsv(readFileSync(file, 'utf8')).records;
    expect(after).to.have.length(original.length + 200);
    const header = after[0]!.fields;
    original.slice(1).forEach((r, i) => {
      original[0]!.fields.forEach((col, j) => expect(after[i + 1]!.fields[header.indexOf(col)], `line ${i + 2} ${col}`).to.equal(r.fields[j]));
    });
    const ours = loadResults({ outputDir: dir }).filter((r) => r.written_by === 'lamarr-energy-tracker');
    expect(new Set(ours.map((r) => r.run_id)).size).to.equal(200);
    expect(readdirSync(dir).filter((n) => !n.endsWith('.let-lock'))).to.deep.equal(['emissions.csv']);
  });

  it('a writer killed with SIGKILL mid-append loses nothing written before, and appends go on', async () => {
    const confirmed: string[] = [];
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const w = startWorker(dir, `k${round}`, 'forever');
      // Wait for the worker to be appending, then kill it at a random moment.
      const t0 = Date.now();
      while (w.done.length === 0 && Date.now() - t0 < 30_000) await sleep(10);
      expect(w.done.length, `round ${round}: the worker appended`).to.be.greaterThan(0);
      await sleep(50 + Math.floor(Math.random() * 400));
      w.child.kill('SIGKILL');
      await w.exit;
      confirmed.push(...w.done);

      const warnings: StoreWarning[] = [];
      const rows = loadResults({ outputDir: dir }, { onWarning: (x) => warnings.push(x), lockStaleMs: 2000 });
      const ids = new Set(rows.map((r) => r.run_id));
      const lost = confirmed.filter((id) => !ids.has(id));
      expect(lost, `round ${round}: rows confirmed written are still there`).to.deep.equal([]);
      // Every row in the file is complete (no glued or partial rows).
      expect(rows.every((r) => /^wk\d-\d+$/.test(r.run_id) && r.run_status === 'completed' && r.carbon_intensity === 380.95)).to.equal(true);
      expect(warnings.length).to.be.at.most(1);
    }
    // A further append works (waiting out a lock the killed writer may have left) and keeps everything.
    const before = loadResults({ outputDir: dir }, { onWarning: () => undefined });
    appendRecord(makeRecord({ run_id: 'after-kills' }), dir, { lockStaleMs: 2000, lockTimeoutMs: 30_000 });
    const after = loadResults({ outputDir: dir }, { onWarning: () => expect.fail('the append repaired any torn line') });
    expect(after.map((r) => r.run_id)).to.deep.equal([...before.map((r) => r.run_id), 'after-kills']);
    expect(confirmed.length).to.be.greaterThan(rounds);
  });
});
