import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CODECARBON_COLUMNS,
  TRACKER_COLUMNS,
  appendRecord,
  formatHeader,
  formatRecordRow,
  loadResults,
  parseCsv,
} from '../../lib/store/index.js';
import type { EmissionsRecord } from '../../lib/store/index.js';
import { makeRecord, stripSource, tempDir } from './helpers.js';

const WORKER = fileURLToPath(new URL('./fixtures/migrate-worker.ts', import.meta.url));
/** The 0.1.0 layout: CodeCarbon's 38 columns, then our 8. */
const OLD_COLUMNS = [...CODECARBON_COLUMNS, 'hostname', 'user', 'tracker_version', 'cpu_energy_method', 'gpu_energy_method', 'ram_energy_method', 'carbon_intensity', 'run_status'];

/** A 0.1.0 file of `n` runs (ours, with varied values) and a few CodeCarbon rows (no fields of ours). */
function oldFile(n: number): { text: string; records: EmissionsRecord[] } {
  const records = Array.from({ length: n }, (_, i) =>
    makeRecord({
      run_id: `old-${i}`,
      project_name: i % 7 === 0 ? `=formula ${i}` : `proj-${i % 5}`,
      user: `u${i % 3}`,
      hostname: `h${i % 4}`,
      duration: i * 1.25,
      cpu_model: i % 11 === 0 ? 'CPU "x", y' : 'Intel',
      cpu_energy_method: i % 2 ? 'measured:powercap' : 'estimated:tdp-load-model',
      carbon_intensity: i % 9 === 0 ? null : 300 + i / 3,
      run_status: i % 13 === 0 ? 'interrupted' : 'completed',
      tracker_version: '0.1.0',
    }),
  );
  return { text: formatHeader(OLD_COLUMNS) + records.map((r) => formatRecordRow(r, OLD_COLUMNS)).join(''), records };
}

describe('store: migrating a 0.1.0 file (46 columns), also when killed halfway', function () {
  this.timeout(120_000);
  const { text, records } = oldFile(600);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    writeFileSync(join(dir, 'emissions.csv'), text);
  });
  afterEach(() => cleanup());

  /** Every old run, with every value; the new run when it was stored. */
  function expectNoLoss(withNew: boolean | 'maybe'): void {
    const rows = loadResults({ outputDir: dir }, { onWarning: () => undefined });
    expect(rows.slice(0, records.length).map(stripSource)).to.deep.equal(records);
    const extra = rows.slice(records.length).map((r) => r.run_id);
    if (withNew === 'maybe') expect(extra.length).to.be.at.most(1);
    else expect(extra).to.deep.equal(withNew ? ['new-run'] : []);
  }

  /** After a crash: the next write finishes the migration; nothing duplicated in the sidecar. */
  function finishAndCheck(): void {
    // (A killed writer's lock is waited out quickly: the holder is dead.)
    appendRecord(makeRecord({ run_id: 'next-run' }), dir, { lockStaleMs: 2000 });
    const csv = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(parseCsv(csv).records[0]!.fields).to.deep.equal([...CODECARBON_COLUMNS]);
    const ids = readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { run_id: string }).run_id);
    const old = ids.filter((id) => id.startsWith('old-'));
    expect(new Set(old).size, 'each old run moved once').to.equal(old.length);
    expect(old).to.have.length(records.length);
    const rows = loadResults({ outputDir: dir }, { onWarning: () => undefined });
    expect(rows.slice(0, records.length).map(stripSource)).to.deep.equal(records);
    expect(rows.at(-1)!.run_id).to.equal('next-run');
    // Every text field of the 0.1.0 layout came back (numbers may be null: carbon_intensity).
    const oldText = OLD_COLUMNS.slice(CODECARBON_COLUMNS.length).filter((c) => c !== 'carbon_intensity') as (typeof TRACKER_COLUMNS)[number][];
    expect(rows.filter((r) => r.written_by === 'lamarr-energy-tracker' && oldText.some((c) => r[c] === ''))).to.deep.equal([]);
  }

  it('reads the 0.1.0 file as it is, then migrates it at the next write: 38 columns, our fields in the sidecar', () => {
    expectNoLoss(false);
    appendRecord(makeRecord({ run_id: 'new-run', project_name: 'after-migration' }), dir);
    expectNoLoss(true);
    finishAndCheck();
  });

  for (const crashAt of ['sidecar-write', 'before-rename', 'after-rename'] as const) {
    it(`killed at ${crashAt}: no loss, and the next write finishes the migration`, () => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', WORKER, dir, crashAt], { encoding: 'utf8', timeout: 60_000 });
      expect(child.signal, child.stderr).to.equal('SIGKILL');
      expect(child.stdout).to.equal('');
      expectNoLoss(crashAt === 'after-rename');
      if (crashAt === 'before-rename') expect(readFileSync(join(dir, 'emissions.csv'), 'utf8')).to.equal(text);
      finishAndCheck();
    });
  }

  it('SIGKILLed at random moments of a migration (8 trials): no loss', async () => {
    const pristine = join(dir, 'pristine.csv');
    copyFileSync(join(dir, 'emissions.csv'), pristine);
    /** One child migration: killed `killAfterMs` after it was told to start (never: Infinity); ms from start to `ok`. */
    async function trial(killAfterMs: number): Promise<{ out: string; ms: number }> {
      copyFileSync(pristine, join(dir, 'emissions.csv'));
      if (existsSync(join(dir, 'emissions.let.jsonl'))) writeFileSync(join(dir, 'emissions.let.jsonl'), '');
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, dir, 'wait'], { stdio: ['pipe', 'pipe', 'pipe'] });
      // Listened for at once: the child may finish (and exit) before the kill below.
      const exited = new Promise((r) => child.once('exit', r));
      try {
        let out = '';
        let okAt = 0;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('worker did not get ready')), 60_000);
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('ok') && okAt === 0) okAt = performance.now();
            if (out.includes('ready')) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        const t0 = performance.now();
        child.stdin.write('go\n');
        if (Number.isFinite(killAfterMs)) {
          await new Promise((r) => setTimeout(r, killAfterMs));
          child.kill('SIGKILL');
        }
        await exited;
        return { out, ms: okAt > 0 ? okAt - t0 : NaN };
      } finally {
        child.kill('SIGKILL');
      }
    }
    // How long the child's migration takes from "go" to "ok", to spread the kills over it.
    const calibration = await trial(Infinity);
    expect(calibration.out).to.include('ok');
    const unit = calibration.ms;
    finishAndCheck();
    const outcomes = { confirmed: 0, storedUnconfirmed: 0, notStored: 0 };
    for (let k = 0; k < 8; k++) {
      const { out } = await trial(Math.random() * unit * 1.2);
      expectNoLoss(out.includes('ok') ? true : 'maybe');
      const stored = loadResults({ outputDir: dir }, { onWarning: () => undefined }).some((r) => r.run_id === 'new-run');
      if (out.includes('ok')) outcomes.confirmed++;
      else if (stored) outcomes.storedUnconfirmed++;
      else outcomes.notStored++;
      finishAndCheck();
    }
    process.stdout.write(`      migration of ${records.length} runs in the child: ${unit.toFixed(0)} ms from go to ok; kills: ${JSON.stringify(outcomes)}\n`);
  });
});
