import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendRecords, loadResults } from '../../lib/store/index.js';
import type { StoreWarning } from '../../lib/store/index.js';
import { makeRecord, tempDir } from './helpers.js';

const APPEND = fileURLToPath(new URL('./fixtures/append-worker.ts', import.meta.url));
const DELETE = fileURLToPath(new URL('./fixtures/delete-worker.ts', import.meta.url));
/** Rows in the big file the concurrent delete works on. */
const BIG = 300_000;
const WRITERS = 8;
const RUNS = 200;
const ENV = { ...process.env, LET_LOCK_STALE_MS: '2000', LET_LOCK_TIMEOUT_MS: '120000' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGKILLs spread over the run (each costs a writer restart). */
const KILLS = 48;

interface Slot {
  confirmed: string[];
  /** Runs confirmed by the current child. */
  current: number;
  generation: number;
  child: ChildProcess | null;
  kills: number;
}

/** Run one writer generation: appends `count` runs `w<id>-<i>`, collecting the run_ids it printed. */
function runWriter(dir: string, slot: Slot, index: number, count: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', APPEND, dir, `${index}g${slot.generation}`, String(count)], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  slot.child = child;
  slot.current = 0;
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('ok ')) continue;
      slot.confirmed.push(line.slice(3));
      slot.current++;
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) =>
    child.on('exit', (code, signal) => {
      slot.child = null;
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`writer ${index} exited ${code}: ${stderr}`));
      else resolve();
    }),
  );
}

describe('store: 8 writers × 200 runs with random SIGKILLs, and a concurrent delete on a 300k-row file', function () {
  this.timeout(420_000);
  let dir: string;
  let cleanup: () => void;
  const children: ChildProcess[] = [];
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
    cleanup();
  });

  it('loses 0 completed runs', async () => {
    const t0 = Date.now();
    const bulk = Array.from({ length: BIG }, (_, i) => makeRecord({ run_id: `big-${i}`, project_name: i % 2 ? 'bulk-b' : 'bulk-a', duration: i }));
    appendRecords(bulk, dir);
    const built = Date.now() - t0;
    const size = statSync(join(dir, 'emissions.csv')).size;

    const slots: Slot[] = Array.from({ length: WRITERS }, () => ({ confirmed: [], current: 0, generation: 0, child: null, kills: 0 }));
    let done = false;
    const writers = slots.map(async (slot, index) => {
      while (slot.confirmed.length < RUNS) {
        await runWriter(dir, slot, index, RUNS - slot.confirmed.length);
        if (slot.child) children.push(slot.child);
        slot.generation++;
      }
    });
    // The delete starts once the writers are appending, and takes the lock for its whole rewrite.
    while (slots.every((s) => s.confirmed.length === 0)) await sleep(20);
    let deleteOutput = '';
    const deleter = spawn(process.execPath, ['--import', 'tsx', DELETE, dir, 'bulk-b'], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
    children.push(deleter);
    deleter.stdout!.setEncoding('utf8').on('data', (d: string) => (deleteOutput += d));
    const deleted = new Promise<number | null>((resolve) => deleter.on('exit', (code) => resolve(code)));
    // Random SIGKILLs of the writers while they run.
    const killer = (async () => {
      for (let k = 0; k < KILLS && !done; ) {
        await sleep(50 + Math.random() * 250);
        const live = slots.filter((s) => s.child && s.current > 0 && s.confirmed.length < RUNS);
        const victim = live[Math.floor(Math.random() * live.length)];
        if (victim?.child) {
          victim.child.kill('SIGKILL');
          victim.kills++;
          k++;
        }
      }
    })();
    await Promise.all(writers);
    done = true;
    await killer;
    expect(await deleted, `delete: ${deleteOutput}`).to.equal(0);
    expect(deleteOutput).to.match(new RegExp(`^deleted ${BIG / 2} in \\d+ ms`));

    const warnings: StoreWarning[] = [];
    const rows = loadResults({ outputDir: dir }, { onWarning: (w) => warnings.push(w), lockStaleMs: 2000 });
    const ids = new Set(rows.map((r) => r.run_id));
    const confirmed = slots.flatMap((s) => s.confirmed);
    const lost = confirmed.filter((id) => !ids.has(id));
    const kills = slots.reduce((n, s) => n + s.kills, 0);
    process.stdout.write(
      `      ${BIG} rows (${(size / 2 ** 20).toFixed(0)} MiB) built in ${built} ms; ${deleteOutput.trim()}; ` +
        `${confirmed.length} confirmed appends, ${kills} SIGKILLs, ${rows.length - BIG / 2} writer rows stored, lost ${lost.length}\n`,
    );
    expect(lost).to.deep.equal([]);
    expect(confirmed).to.have.length(WRITERS * RUNS);
    expect(kills).to.be.greaterThan(WRITERS);
    expect(rows.filter((r) => r.project_name === 'bulk-a')).to.have.length(BIG / 2);
    expect(rows.filter((r) => r.project_name === 'bulk-b')).to.deep.equal([]);
    // Every writer row is whole, with its sidecar fields.
    const writerRows = rows.filter((r) => r.project_name.startsWith('proj-'));
    expect(writerRows.every((r) => r.run_status === 'completed' && r.carbon_intensity === 380.95 && r.cpu_model.startsWith('CPU xxx'))).to.equal(true);
    expect(warnings.filter((w) => w.code !== 'LET_TORN_LINE')).to.deep.equal([]);
  });
});
