import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  CODECARBON_COLUMNS,
  TRACKER_COLUMNS,
  StoreError,
  appendRecord,
  defaultOutputDir,
  deleteResults,
  emissionsFile,
  loadResults,
  splitExperimentId,
  streamResults,
} from '../../lib/store/index.js';
import { LOCK_FILE_SUFFIX, withLock } from '../../lib/store/lock.js';
import { makeRecord, stripSource, tempDir } from './helpers.js';

describe('store: paths', () => {
  it('defaults to ~/.let/emissions.csv and honours LET_OUTPUT_DIR', () => {
    const saved = process.env.LET_OUTPUT_DIR;
    try {
      delete process.env.LET_OUTPUT_DIR;
      expect(defaultOutputDir()).to.equal(join(homedir(), '.let'));
      expect(emissionsFile()).to.equal(join(homedir(), '.let', 'emissions.csv'));
      process.env.LET_OUTPUT_DIR = '/tmp/let-env-dir';
      expect(emissionsFile()).to.equal('/tmp/let-env-dir/emissions.csv');
      expect(emissionsFile('/x/y')).to.equal('/x/y/emissions.csv');
      expect(emissionsFile('~/z')).to.equal(join(homedir(), 'z', 'emissions.csv'));
    } finally {
      if (saved === undefined) delete process.env.LET_OUTPUT_DIR;
      else process.env.LET_OUTPUT_DIR = saved;
    }
  });
});

describe('store: append and load', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('creates the directory and the file with our header, and reads the record back equal', () => {
    const out = join(dir, 'nested', 'out');
    const rec = makeRecord();
    appendRecord(rec, out);
    const text = readFileSync(join(out, 'emissions.csv'), 'utf8');
    const lines = text.split('\n');
    // Layout (0.2): CodeCarbon's 38 columns in the CSV, our fields in the sidecar.
    expect(lines[0]).to.equal(CODECARBON_COLUMNS.join(','));
    const side = readFileSync(join(out, 'emissions.let.jsonl'), 'utf8').split('\n');
    expect(side).to.have.length(2);
    expect(JSON.parse(side[0]!)).to.deep.equal(Object.fromEntries([['run_id', rec.run_id], ...TRACKER_COLUMNS.map((c) => [c, rec[c]])]));
    expect(lines).to.have.length(3);
    expect(lines[2]).to.equal('');
    const [back] = loadResults({ outputDir: out });
    expect(stripSource(back!)).to.deep.equal(rec);
    expect(back!.written_by).to.equal('lamarr-energy-tracker');
    expect(back!.source_line).to.equal(2);
    expect(back!.source_file).to.equal(join(out, 'emissions.csv'));
  });

  it('keeps numbers as numbers: negative longitude unquoted and unguarded, null as empty', () => {
    appendRecord(makeRecord({ longitude: -122.4194, latitude: -33.9, gpu_power: null }), dir);
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(text).to.include(',-122.4194,-33.9,');
    expect(text).not.to.include("'-122");
    const [back] = loadResults({ outputDir: dir });
    expect(back!.longitude).to.equal(-122.4194);
    expect(back!.gpu_power).to.equal(null);
  });

  it('guards formula-like text so a spreadsheet cannot execute it, and reads it back exactly', () => {
    const names = [
      '=HYPERLINK("http://x")',
      '+1',
      '-2',
      '@SUM(A1)',
      '\tTAB',
      '\r=CR',
      "'quoted",
      "''double",
      "'=already",
      ' padded ',
      'a,b "c"',
      'line\nbreak',
      'plain',
      '',
    ];
    names.forEach((n, i) => appendRecord(makeRecord({ project_name: n, run_id: `r${i}`, cpu_model: n }), dir));
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    // Stored guarded, inside quotes.
    expect(text).to.include(`,"'=HYPERLINK(""http://x"")",`);
    expect(text).to.include(`,"'+1",`);
    expect(text).to.include(`,"'-2",`);
    expect(text).to.include(`,"'@SUM(A1)",`);
    // No field starts with a formula character.
    for (const bad of [',=', ',+', ',-2', ',@', ',"=', ',"+', ',"-', ',"@']) expect(text).not.to.include(bad);
    const back = loadResults({ outputDir: dir });
    expect(back.map((r) => r.project_name)).to.deep.equal(names);
    expect(back.map((r) => r.cpu_model)).to.deep.equal(names);
    expect(back.map((r) => r.run_id)).to.deep.equal(names.map((_, i) => `r${i}`));
  });

  it('rejects fields of the wrong type, naming the column, and writes nothing', () => {
    const bad = { ...makeRecord(), duration: '12' } as unknown as Parameters<typeof appendRecord>[0];
    expect(() => appendRecord(bad, dir)).to.throw(TypeError, /record\.duration must be a number/);
    expect(existsSync(join(dir, 'emissions.csv'))).to.equal(false);
  });

  it('reads a missing file as no results', () => {
    expect(loadResults({ outputDir: join(dir, 'none') })).to.deep.equal([]);
  });
});

describe('store: queries', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    appendRecord(makeRecord({ run_id: 'a1', project_name: 'alpha', user: 'ann', hostname: 'h1', timestamp: '2026-01-01T10:00:00' }), dir);
    appendRecord(makeRecord({ run_id: 'a2', project_name: 'alpha', user: 'bob', hostname: 'h1', timestamp: '2026-01-02T10:00:00' }), dir);
    appendRecord(makeRecord({ run_id: 'b1', project_name: 'beta', user: 'ann', hostname: 'h2', timestamp: '2026-01-03T10:00:00' }), dir);
    appendRecord(makeRecord({ run_id: 'c1', project_name: 'a___b', user: 'ann', hostname: 'h2', timestamp: '2026-01-04T10:00:00' }), dir);
  });
  afterEach(() => cleanup());

  const ids = (rows: { run_id: string }[]): string[] => rows.map((r) => r.run_id);

  it('filters by project, user and host (after trimming)', () => {
    expect(ids(loadResults({ outputDir: dir, projectName: 'alpha' }))).to.deep.equal(['a1', 'a2']);
    expect(ids(loadResults({ outputDir: dir, projectName: ' alpha ', user: 'bob' }))).to.deep.equal(['a2']);
    expect(ids(loadResults({ outputDir: dir, hostname: 'h2' }))).to.deep.equal(['b1', 'c1']);
    expect(ids(loadResults({ outputDir: dir, user: 'ann', hostname: 'h2', projectName: 'a___b' }))).to.deep.equal(['c1']);
    expect(ids(loadResults({ outputDir: dir, projectName: 'nope' }))).to.deep.equal([]);
  });

  it('filters by time: since inclusive, until exclusive, local time', () => {
    const since = new Date(2026, 0, 2, 10, 0, 0);
    const until = new Date(2026, 0, 4, 10, 0, 0);
    expect(ids(loadResults({ outputDir: dir, since }))).to.deep.equal(['a2', 'b1', 'c1']);
    expect(ids(loadResults({ outputDir: dir, until }))).to.deep.equal(['a1', 'a2', 'b1']);
    expect(ids(loadResults({ outputDir: dir, since, until }))).to.deep.equal(['a2', 'b1']);
  });

  it('rejects bad filters with a clear error', () => {
    expect(() => loadResults({ outputDir: dir, since: new Date('nope') })).to.throw(RangeError, /since/);
    expect(() => loadResults({ outputDir: dir, user: 3 as unknown as string })).to.throw(TypeError, /user/);
  });

  it('deletes only matching rows and returns how many; no match changes nothing', () => {
    const file = join(dir, 'emissions.csv');
    const before = readFileSync(file);
    expect(deleteResults({ outputDir: dir, projectName: 'nope' })).to.equal(0);
    expect(readFileSync(file).equals(before)).to.equal(true);
    expect(deleteResults({ outputDir: dir, user: 'ann', since: new Date(2026, 0, 2) })).to.equal(2);
    expect(ids(loadResults({ outputDir: dir }))).to.deep.equal(['a1', 'a2']);
    expect(deleteResults({ outputDir: dir, projectName: 'alpha', user: 'bob' })).to.equal(1);
    expect(ids(loadResults({ outputDir: dir }))).to.deep.equal(['a1']);
    // The rewrite keeps the header and the kept row byte for byte.
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).to.equal(before.toString('utf8').split('\n')[0]);
    expect(lines[1]).to.equal(before.toString('utf8').split('\n')[1]);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).to.deep.equal([]);
  });

  it('with no filter deletes the file and returns its row count; a missing file gives 0', () => {
    expect(deleteResults({ outputDir: dir })).to.equal(4);
    expect(existsSync(join(dir, 'emissions.csv'))).to.equal(false);
    expect(deleteResults({ outputDir: dir })).to.equal(0);
    expect(loadResults({ outputDir: dir })).to.deep.equal([]);
  });
});

describe('store: experiment_id triple', () => {
  it('splits from the end, so a project may contain ___', () => {
    expect(splitExperimentId('proj___user___host')).to.deep.equal({ project: 'proj', user: 'user', hostname: 'host' });
    expect(splitExperimentId('a___b___c___user___host')).to.deep.equal({ project: 'a___b___c', user: 'user', hostname: 'host' });
    expect(splitExperimentId('proj_____user___host')).to.deep.equal({ project: 'proj__', user: 'user', hostname: 'host' });
    expect(splitExperimentId('only___two')).to.equal(null);
    expect(splitExperimentId('5b0fa12a-3dd7-45bb-9766-cc326314d9f1')).to.equal(null);
  });
});

describe('store: lock', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('times out with an error naming the file and the holder when another writer holds the lock', () => {
    appendRecord(makeRecord({ run_id: 'first' }), dir);
    const file = join(dir, 'emissions.csv');
    const before = readFileSync(file);
    const t0 = Date.now();
    let err: unknown;
    // A second open file description excludes even within one thread: this holder blocks the append.
    withLock(file, () => {
      try {
        appendRecord(makeRecord({ run_id: 'second' }), dir, { lockTimeoutMs: 300 });
      } catch (e) {
        err = e;
      }
    });
    expect(err).to.be.instanceOf(StoreError);
    expect((err as StoreError).code).to.equal('LET_LOCK_TIMEOUT');
    expect((err as Error).message).to.include(file).and.include('timed out').and.include(`held by pid ${process.pid} on host `);
    expect(Date.now() - t0).to.be.within(250, 3000);
    expect(readFileSync(file).equals(before)).to.equal(true);
  });

  it('ignores the lock directory 0.1.0 used (emissions.csv.lock)', () => {
    const file = join(dir, 'emissions.csv');
    mkdirSync(`${file}.lock`);
    appendRecord(makeRecord({ run_id: 'after-old-lock' }), dir, { lockTimeoutMs: 0 });
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['after-old-lock']);
  });

  it('leaves only the empty, unheld lock file behind after each operation', () => {
    appendRecord(makeRecord(), dir);
    deleteResults({ outputDir: dir, projectName: 'demo' });
    expect(readdirSync(dir).sort()).to.deep.equal(['emissions.csv', `emissions.csv${LOCK_FILE_SUFFIX}`, 'emissions.let.jsonl']);
    expect(readFileSync(join(dir, `emissions.csv${LOCK_FILE_SUFFIX}`), 'utf8')).to.equal('');
    expect(withLock(join(dir, 'emissions.csv'), () => 'free', { lockTimeoutMs: 0 })).to.equal('free');
  });
});

describe('store: options are checked', () => {
  it('loadResults, streamResults and deleteResults reject a mistyped filter or option, naming it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      appendRecord(makeRecord({ project_name: 'kept' }), dir);
      expect(() => loadResults({ outputDir: dir, projectname: 'kept' } as never)).to.throw(TypeError, /loadResults filters: unknown option projectname/);
      expect(() => loadResults({ outputDir: dir }, { lockTimeout: 5 } as never)).to.throw(TypeError, /loadResults: unknown option lockTimeout/);
      expect(() => deleteResults({ outputDir: dir, host: 'x' } as never)).to.throw(TypeError, /deleteResults filters: unknown option host/);
      let streamError: unknown = null;
    try {
        for await (const _ of streamResults({ outputDir: dir }, { chunk: 1 } as never)) void _;
      } catch (error) {
        streamError = error;
      }
      expect(streamError).to.be.instanceOf(TypeError);
      expect((streamError as Error).message).to.match(/streamResults: unknown option chunk/);
      // nothing was deleted by the refused call; the right spelling works
      expect(loadResults({ outputDir: dir, projectName: 'kept' })).to.have.length(1);
    } finally {
      cleanup();
    }
  });
});
