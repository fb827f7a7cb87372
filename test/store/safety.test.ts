import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs, { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CODECARBON_COLUMNS,
  StoreError,
  appendRecord,
  appendRecords,
  deleteResults,
  formatHeader,
  formatRecordRow,
  loadResults,
  repairStore,
} from '../../lib/store/index.js';
import type { StoreWarning } from '../../lib/store/index.js';
import { makeRecord, storeFiles, tempDir } from './helpers.js';
import { currentProcessIdentity, inflightDirectory, writeCheckpoint } from '../../lib/store/inflight.js';
import { TIMELINE_FORMAT, TIMELINE_VERSION, timelinesDirectory, writeTimeline } from '../../lib/timeline/index.js';

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error('expected a StoreError');
}

/** A CodeCarbon file narrowed to some of its columns (so an append must rewrite it). */
function narrowFile(file: string, extraRow = ''): string {
  const cols = CODECARBON_COLUMNS.filter((c) => !['region', 'cloud_provider', 'cloud_region'].includes(c));
  const row = formatRecordRow(makeRecord({ run_id: 'cc-1', tracker_version: '', experiment_id: 'x' }), cols);
  const text = formatHeader(cols) + row + extraRow;
  writeFileSync(file, text);
  return text;
}

describe('store: only regular files, nothing changed by a failing operation', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('refuses a FIFO at once, in every operation, without blocking', () => {
    const fifo = join(dir, 'emissions.csv');
    const made = spawnSync('mkfifo', [fifo]);
    expect(made.status, 'mkfifo is needed for this test').to.equal(0);
    // In a child, so that a regression blocks the child (killed by the timeout), not the suite.
    const script = `
      import { appendRecord, loadResults, deleteResults, repairStore, streamResults } from ${JSON.stringify(fileURLToPath(new URL('../../lib/store/index.ts', import.meta.url)))};
      import { makeRecord } from ${JSON.stringify(fileURLToPath(new URL('./helpers.ts', import.meta.url)))};
      const dir = ${JSON.stringify(dir)};
      const out = [];
      for (const [name, fn] of [['load', () => loadResults({ outputDir: dir })], ['append', () => appendRecord(makeRecord(), dir)],
        ['delete', () => deleteResults({ outputDir: dir, user: 'x' })], ['repair', () => repairStore(dir)]]) {
        try { fn(); out.push(name + ':ok'); } catch (e) { out.push(name + ':' + e.code); }
      }
      try { for await (const r of streamResults({ outputDir: dir })) void r; out.push('stream:ok'); } catch (e) { out.push('stream:' + e.code); }
      console.log(out.join(' '));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.signal, `the store blocked on a FIFO: ${child.stderr}`).to.equal(null);
    expect(child.stdout.trim()).to.equal('load:LET_NOT_A_FILE append:LET_NOT_A_FILE delete:LET_NOT_A_FILE repair:LET_NOT_A_FILE stream:LET_NOT_A_FILE');
    expect(statSync(fifo).isFIFO()).to.equal(true);
  });

  it('refuses a directory named emissions.csv with a clear error', () => {
    mkdirSync(join(dir, 'emissions.csv'));
    expect(storeError(() => loadResults({ outputDir: dir })).message).to.match(/is a directory; the store reads and writes only regular files/);
    expect(storeError(() => appendRecord(makeRecord(), dir)).code).to.equal('LET_NOT_A_FILE');
  });

  it('never writes through a symbolic link: a torn file outside the store keeps every byte', () => {
    const outside = tempDir('let-outside-');
    try {
      const target = join(outside.dir, 'notes.txt');
      writeFileSync(target, 'not,a,header\nsomething important without a line end');
      const before = sha(target);
      symlinkSync(target, join(dir, 'emissions.csv'));
      const err = storeError(() => appendRecord(makeRecord(), dir));
      expect(err.code).to.equal('LET_SYMLINK');
      expect(err.message).to.include('symbolic link');
      expect(storeError(() => deleteResults({ outputDir: dir, user: 'x' })).code).to.be.oneOf(['LET_SYMLINK', 'LET_CSV_NO_HEADER']);
      expect(sha(target)).to.equal(before);
      expect(readdirSync(outside.dir)).to.deep.equal(['notes.txt']);
      expect(storeFiles(dir)).to.deep.equal(['emissions.csv']);
    } finally {
      outside.cleanup();
    }
  });

  it('reads through a symbolic link to a store file, but does not append through it', () => {
    const real = tempDir('let-real-');
    try {
      appendRecord(makeRecord({ run_id: 'r1' }), real.dir);
      symlinkSync(join(real.dir, 'emissions.csv'), join(dir, 'emissions.csv'));
      expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['r1']);
      const before = sha(join(real.dir, 'emissions.csv'));
      expect(storeError(() => appendRecord(makeRecord({ run_id: 'r2' }), dir)).code).to.equal('LET_SYMLINK');
      expect(sha(join(real.dir, 'emissions.csv'))).to.equal(before);
    } finally {
      real.cleanup();
    }
  });

  it('a rewrite keeps owner, group and mode of the file it replaces (as root: a file owned by another user)', () => {
    const file = join(dir, 'emissions.csv');
    narrowFile(file);
    const root = process.getuid?.() === 0;
    const uid = root ? 4321 : statSync(file).uid;
    const gid = root ? 4322 : statSync(file).gid;
    if (root) chownSync(file, uid, gid);
    chmodSync(file, 0o640);
    appendRecord(makeRecord({ run_id: 'widened' }), dir); // widen: an atomic rewrite
    let st = statSync(file);
    expect([st.uid, st.gid, st.mode & 0o7777]).to.deep.equal([uid, gid, 0o640]);
    expect(deleteResults({ outputDir: dir, projectName: 'demo', user: 'alice' })).to.equal(1); // a selective delete rewrites too
    st = statSync(file);
    expect([st.uid, st.gid, st.mode & 0o7777]).to.deep.equal([uid, gid, 0o640]);
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['cc-1']);
  });

  it('files and directories a run creates belong to the owner of the directory above (as root: sudo -E in a user\'s home)', () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const root = process.getuid?.() === 0;
    if (root) chownSync(home, 4321, 4322);
    const owner = [statSync(home).uid, statSync(home).gid];
    const store = join(home, '.let', 'nested');
    appendRecord(makeRecord({ run_id: 'r1' }), store);
    // A checkpoint, a timeline and repair's archive create folders of their own in the store.
    writeCheckpoint({ format: 1, record: makeRecord({ run_id: 'r2' }), ...currentProcessIdentity(), checkpointIntervalMs: 60000, writtenAtMs: Date.now() }, store);
    const t = [0, 1];
    writeTimeline('r1', { format: TIMELINE_FORMAT, version: TIMELINE_VERSION, start_time: new Date().toISOString(), duration_s: 1, pue: 1, sampling_interval_ms: 1000, t_s: t, components: [{ component: 'cpu', method: 'rapl', estimated: false, energy_j: [0, 1] }] }, { outputDir: store });
    writeFileSync(join(store, 'emissions.csv.bak'), readFileSync(join(store, 'emissions.csv')));
    const archive = repairStore(store).archiveDir;
    expect(archive, 'repair archived the backup').to.be.a('string');
    for (const p of [join(home, '.let'), store, join(store, 'emissions.csv'), join(store, 'emissions.let.jsonl'), inflightDirectory(store), timelinesDirectory({ outputDir: store }), join(store, 'archive'), archive!]) {
      expect([statSync(p).uid, statSync(p).gid], p).to.deep.equal(owner);
    }
  });

  it('an unterminated last line under a bad header: refused, the file keeps every byte, nothing moved aside', () => {
    const file = join(dir, 'emissions.csv');
    writeFileSync(file, 'name,value\nalpha,1\nbeta,2 without a line end');
    const before = sha(file);
    for (const op of [() => appendRecord(makeRecord(), dir), () => deleteResults({ outputDir: dir, user: 'x' }), () => repairStore(dir)]) {
      expect(storeError(op).code).to.equal('LET_CSV_NO_HEADER');
      expect(sha(file)).to.equal(before);
    }
    expect(storeFiles(dir)).to.deep.equal(['emissions.csv']);
  });

  it('a file that must be rewritten and is malformed keeps its torn tail too (nothing changed)', () => {
    const file = join(dir, 'emissions.csv');
    narrowFile(file, 'too,few\n2026-01-01T00:00:00,torn');
    const before = sha(file);
    expect(storeError(() => appendRecord(makeRecord(), dir)).code).to.equal('LET_CSV_FIELD_COUNT');
    expect(sha(file)).to.equal(before);
    expect(storeFiles(dir)).to.deep.equal(['emissions.csv']);
  });

  it('a file without a header says so (not "column appears twice")', () => {
    const file = join(dir, 'emissions.csv');
    writeFileSync(file, '0,0,0\n1,1,1\n');
    const before = sha(file);
    const err = storeError(() => loadResults({ outputDir: dir }));
    expect(err.code).to.equal('LET_CSV_NO_HEADER');
    expect(err.message).to.include(':1: no header');
    expect(storeError(() => appendRecord(makeRecord(), dir)).code).to.equal('LET_CSV_NO_HEADER');
    expect(sha(file)).to.equal(before);
  });

  it('reads CR-only line ends; refuses to append to them clearly, without moving the file aside', async () => {
    const file = join(dir, 'emissions.csv');
    const cols = ['timestamp', 'project_name', 'run_id', 'duration'];
    writeFileSync(file, [cols.join(','), '2026-01-01T00:00:00,p,r1,1.5', '2026-01-02T00:00:00,p,r2,2.5', ''].join('\r'));
    const before = sha(file);
    expect(loadResults({ outputDir: dir }).map((r) => [r.run_id, r.duration])).to.deep.equal([['r1', 1.5], ['r2', 2.5]]);
    const { streamResults } = await import('../../lib/store/index.js');
    const streamed: string[] = [];
    for await (const r of streamResults({ outputDir: dir }, { chunkSize: 7 })) streamed.push(r.run_id);
    expect(streamed).to.deep.equal(['r1', 'r2']);
    const err = storeError(() => appendRecord(makeRecord(), dir));
    expect(err.code).to.equal('LET_CSV_CR_ONLY');
    expect(err.message).to.include(file);
    expect(sha(file)).to.equal(before);
    expect(storeFiles(dir)).to.deep.equal(['emissions.csv']);
  });

  it('non-UTF-8 bytes in existing rows survive a rewrite byte for byte', () => {
    const file = join(dir, 'emissions.csv');
    const text = narrowFile(file);
    // A Latin-1 é and a stray 0xFF inside the CPU model (text that is not UTF-8).
    const at = text.indexOf('Intel(R)');
    const raw = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0x49, 0xe9, 0xff]), Buffer.from(text.slice(at))]);
    writeFileSync(file, raw);
    appendRecord(makeRecord({ run_id: 'ours' }), dir);
    const after = readFileSync(file);
    const firstRow = raw.subarray(raw.indexOf(0x0a) + 1, raw.length - 1);
    expect(loadResults({ outputDir: dir })[0]!.cpu_model).to.match(/^I\ufffd\ufffdIntel/);
    expect(after.indexOf(firstRow), 'the row keeps its bytes').to.be.greaterThan(0);
    expect(deleteResults({ outputDir: dir, user: 'alice', projectName: 'demo' })).to.equal(1);
    expect(readFileSync(file).indexOf(firstRow)).to.be.greaterThan(0);
  });

  for (const [label, model] of [
    ['a file over 1 MiB', 'Intel'],
    ['a quoted multi-line field longer than the 1 MiB window just before it', `multi\nline ${'x'.repeat(100)}\n`.repeat(12_000)],
  ] as const) {
    it(`a torn tail after ${label}: only the fragment is moved aside`, () => {
      const big = Array.from({ length: 6000 }, (_, i) => makeRecord({ run_id: `r${i}`, cpu_model: 'CPU "a", b\nc' }));
      appendRecords([...big, makeRecord({ run_id: 'long', cpu_model: model })], dir);
      const file = join(dir, 'emissions.csv');
      const complete = readFileSync(file);
      expect(complete.length).to.be.greaterThan(1 << 20);
      const fragment = formatRecordRow(makeRecord({ run_id: 'torn', cpu_model: 'quoted\nbreak' }), CODECARBON_COLUMNS).slice(0, -40);
      writeFileSync(file, Buffer.concat([complete, Buffer.from(fragment)]));
      appendRecord(makeRecord({ run_id: 'after' }), dir);
      expect(readFileSync(file).subarray(0, complete.length).equals(complete)).to.equal(true);
      const aside = readdirSync(dir).filter((n) => n.startsWith('emissions.csv.torn-'));
      expect(aside.map((n) => readFileSync(join(dir, n), 'utf8'))).to.deep.equal([fragment]);
      const rows = loadResults({ outputDir: dir });
      expect(rows.map((r) => r.run_id).slice(-2)).to.deep.equal(['long', 'after']);
      expect(rows.at(-2)!.cpu_model).to.equal(model);
    });
  }

  it('a malformed backup is reported and skipped by queries, and stops repair and delete without changing a file', async () => {
    appendRecord(makeRecord({ run_id: 'main-1' }), dir);
    const bak = join(dir, 'emissions.csv.bak');
    writeFileSync(bak, `${formatHeader(CODECARBON_COLUMNS)}${formatRecordRow(makeRecord({ run_id: 'b1' }), CODECARBON_COLUMNS)}too,few,fields\n`);
    const good = join(dir, 'emissions.csv_0.bak');
    writeFileSync(good, formatHeader(CODECARBON_COLUMNS) + formatRecordRow(makeRecord({ run_id: 'b2' }), CODECARBON_COLUMNS));
    const hashes = [join(dir, 'emissions.csv'), bak, good].map(sha);
    const warnings: StoreWarning[] = [];
    expect(loadResults({ outputDir: dir }, { onWarning: (w) => warnings.push(w) }).map((r) => r.run_id)).to.deep.equal(['main-1', 'b2']);
    expect(warnings.map((w) => w.code)).to.deep.equal(['LET_BACKUP_SKIPPED', 'LET_BACKUPS_READ']);
    expect(warnings[0]!.message).to.include(`${bak}:3: expected 38 fields`);
    const { streamResults } = await import('../../lib/store/index.js');
    const streamed: string[] = [];
    for await (const r of streamResults({ outputDir: dir }, { onWarning: () => undefined })) streamed.push(r.run_id);
    expect(streamed).to.deep.equal(['main-1', 'b2']);
    expect(storeError(() => repairStore(dir, { onWarning: () => undefined })).code).to.equal('LET_CSV_FIELD_COUNT');
    expect(storeError(() => deleteResults({ outputDir: dir, user: 'alice' })).code).to.equal('LET_CSV_FIELD_COUNT');
    expect([join(dir, 'emissions.csv'), bak, good].map(sha)).to.deep.equal(hashes);
  });

  it('warns when the results directory can be written by others (as ssh does)', () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const warnings: StoreWarning[] = [];
    appendRecord(makeRecord(), shared, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).to.deep.equal(['LET_DIR_WRITABLE']);
    expect(warnings[0]!.message).to.include('chmod go-w');
  });

  describe('disk full (ENOSPC injected into writeSync after part of the data)', () => {
    const realWrite = fs.writeSync;
    /** Let `allow` more writes through, then fail every write after its first half. */
    function failWrites(allow: number): void {
      let calls = 0;
      (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, off = 0, len = buf.length - off, pos?: number | null) => {
        if (calls++ < allow) return realWrite(fd, buf, off, len, pos);
        if (len > 1) realWrite(fd, buf, off, Math.floor(len / 2), pos);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
      };
      syncBuiltinESMExports();
    }
    afterEach(() => {
      (fs as { writeSync: unknown }).writeSync = realWrite;
      syncBuiltinESMExports();
    });

    for (const [label, allow] of [['the sidecar line', 0], ['the CSV row', 1]] as const) {
      it(`a plain append failing in ${label}: both files cut back, every byte as before`, () => {
        appendRecord(makeRecord({ run_id: 'r1' }), dir);
        const csv = join(dir, 'emissions.csv');
        const side = join(dir, 'emissions.let.jsonl');
        const before = [sha(csv), sha(side)];
        failWrites(allow);
        expect(() => appendRecord(makeRecord({ run_id: 'r2', cpu_model: 'x'.repeat(5000) }), dir)).to.throw(/ENOSPC/);
        expect([sha(csv), sha(side)]).to.deep.equal(before);
        expect(storeFiles(dir)).to.deep.equal(['emissions.csv', 'emissions.let.jsonl']);
      });
    }

    it('a rewrite failing: the temp file removed, the file and the sidecar as before', () => {
      const csv = join(dir, 'emissions.csv');
      narrowFile(csv);
      appendRecord(makeRecord({ run_id: 'keep' }), join(dir, 'other')); // (another store: creates nothing here)
      const before = sha(csv);
      failWrites(1); // the sidecar line goes through, the temp file fails
      expect(() => appendRecord(makeRecord({ run_id: 'r2' }), dir)).to.throw(/ENOSPC/);
      expect(sha(csv)).to.equal(before);
      expect(readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8')).to.equal('');
      expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).to.deep.equal([]);
    });
  });
});

describe('store: sidecar and bulk appends', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('appendRecords writes many runs in one call; deleteResults removes their sidecar entries', () => {
    const records = Array.from({ length: 50 }, (_, i) => makeRecord({ run_id: `b${i}`, user: i % 2 ? 'odd' : 'even' }));
    appendRecords(records, dir);
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(records.map((r) => r.run_id));
    expect(deleteResults({ outputDir: dir, user: 'odd' })).to.equal(25);
    const side = readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { run_id: string }).run_id);
    expect(side).to.deep.equal(records.filter((_, i) => i % 2 === 0).map((r) => r.run_id));
    expect(loadResults({ outputDir: dir }).every((r) => r.user === 'even' && r.run_status === 'completed')).to.equal(true);
    expect(() => appendRecords([makeRecord({ run_id: '' })], dir)).to.throw(TypeError, /run_id/);
  });

  it('runs stored twice under one run_id keep their own fields, also after one of them is deleted', () => {
    appendRecord(makeRecord({ run_id: 'same', user: 'ann', carbon_intensity: 100, run_status: 'completed' }), dir);
    appendRecord(makeRecord({ run_id: 'other', user: 'zoe' }), dir);
    appendRecord(makeRecord({ run_id: 'same', user: 'bob', carbon_intensity: 200, run_status: 'interrupted' }), dir);
    const fields = () => loadResults({ outputDir: dir }).map((r) => [r.run_id, r.user, r.carbon_intensity, r.run_status]);
    expect(fields()).to.deep.equal([['same', 'ann', 100, 'completed'], ['other', 'zoe', 380.95, 'completed'], ['same', 'bob', 200, 'interrupted']]);
    expect(deleteResults({ outputDir: dir, user: 'ann' })).to.equal(1);
    expect(fields()).to.deep.equal([['other', 'zoe', 380.95, 'completed'], ['same', 'bob', 200, 'interrupted']]);
    expect(readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8').trim().split('\n')).to.have.length(2);
  });

  it('joins every sidecar field generically: a field missing from an entry reads as the empty value; orphan and torn entries are ignored', () => {
    appendRecord(makeRecord({ run_id: 'r1' }), dir);
    const side = join(dir, 'emissions.let.jsonl');
    // An entry written before a field existed, an orphan (failed append), and a torn last line.
    writeFileSync(side, '{"run_id":"r1","hostname":"h-old","tracker_version":"0.0.9"}\n{"run_id":"ghost","hostname":"x"}\n{"run_id":"r1","hos');
    const [r1] = loadResults({ outputDir: dir });
    expect([r1!.hostname, r1!.tracker_version, r1!.run_status, r1!.carbon_intensity]).to.deep.equal(['h-old', '0.0.9', '', null]);
    appendRecord(makeRecord({ run_id: 'r2' }), dir); // cuts the torn line off
    expect(readFileSync(side, 'utf8').split('\n').filter((l) => l.includes('"hos"') || l.endsWith('"hos'))).to.deep.equal([]);
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['r1', 'r2']);
    expect(existsSync(side)).to.equal(true);
  });
});
