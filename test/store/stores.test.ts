/**
 * Many hosts, one statement: three hosts' stores in mixed layouts (ours, CodeCarbon 2.5 and a
 * real CodeCarbon 3.2.3 file holding rows of the Python package), with run_ids that overlap,
 * read together (several --output-dir, or one directory of per-host stores), deduplicated by
 * run_id, summarised in one statement, and merged into one CodeCarbon-compatible store
 * without losing a field.
 */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CODECARBON_COLUMNS,
  appendRecord,
  loadResults,
  loadResultsFromStores,
  mergeStores,
  parseCsv,
  recordOf,
  resolveStoreDirs,
  type EmissionsRecord,
  type LoadedRecord,
} from '../../lib/store/index.js';
import { paperStatement, statementFromRecords, formatStatement } from '../../lib/statement/index.js';
import { SAMPLES_DIR, makeRecord, tempDir } from './helpers.js';
import { runCli } from '../helpers/cli.js';

/** CodeCarbon 2.5.0's 31 columns (3.x's without experiment_id, water, wue and utilisation). */
const CC25_COLUMNS = CODECARBON_COLUMNS.filter(
  (c) => !['experiment_id', 'water_consumed', 'wue', 'cpu_utilization_percent', 'gpu_utilization_percent', 'ram_utilization_percent', 'ram_used_gb'].includes(c),
);

function csvLine(columns: readonly string[], record: EmissionsRecord): string {
  const values = record as unknown as Record<string, unknown>;
  return columns.map((c) => (values[c] === null || values[c] === undefined ? '' : String(values[c]))).join(',');
}

/** Sorted (run_id, file) pairs: what a multi-store read returned, independent of store order. */
function runsAndFiles(rows: LoadedRecord[]): string[] {
  return rows.map((r) => `${r.run_id} ${r.source_file}`).sort();
}

describe('store: many hosts, one statement', () => {
  let lab: string;
  let cleanup: () => void;
  let hostA: string;
  let hostB: string;
  let hostC: string;
  let ours: EmissionsRecord[];
  let eronRows: number;

  beforeEach(() => {
    ({ dir: lab, cleanup } = tempDir('let-lab-'));
    hostA = join(lab, 'host-a');
    hostB = join(lab, 'host-b');
    hostC = join(lab, 'host-c');
    for (const dir of [hostA, hostB, hostC]) mkdirSync(dir);
    // host-a: our own store.
    ours = ['r1', 'r2', 'r3'].map((run_id, i) =>
      makeRecord({ run_id, hostname: 'host-a', energy_consumed: 0.001 * (i + 1), emissions: 0.0004 * (i + 1), cpu_model: 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz' }),
    );
    for (const record of ours) appendRecord(record, hostA);
    // host-b: CodeCarbon 2.5.0, two periodic flushes of one run, and a copy of r2 in CodeCarbon's layout.
    const cc = (run_id: string, duration: number) =>
      makeRecord({ run_id, project_name: 'codecarbon', duration, cpu_model: 'Intel(R) Xeon(R) Gold 6248', gpu_count: 1, gpu_model: '1 x NVIDIA A100', energy_consumed: 0.002 * duration });
    writeFileSync(
      join(hostB, 'emissions.csv'),
      [CC25_COLUMNS.join(','), csvLine(CC25_COLUMNS, cc('cc-flush', 1)), csvLine(CC25_COLUMNS, cc('cc-flush', 2)), csvLine(CC25_COLUMNS, ours[1]!)].join('\n') + '\n',
    );
    // host-c: a real CodeCarbon 3.2.3 file, then rows of the Python package (experiment_id
    // triples) in its column order: a run of its own, one row of host-b's flushed run, a copy of r3.
    const eron = join(SAMPLES_DIR, 'EronQorri_green-ml-bench.csv');
    copyFileSync(eron, join(hostC, 'emissions.csv'));
    const eronHeader = parseCsv(readFileSync(eron, 'utf8')).records[0]!.fields;
    eronRows = loadResults({ outputDir: hostC }).length;
    const python = (run_id: string) => makeRecord({ run_id, project_name: 'codecarbon', experiment_id: 'resnet___bob___host-c', cpu_model: 'AMD EPYC 7763 64-Core Processor' });
    const lines = ['py-1', 'cc-flush', 'r3'].map((id) => csvLine(eronHeader, python(id)));
    writeFileSync(join(hostC, 'emissions.csv'), readFileSync(join(hostC, 'emissions.csv'), 'utf8') + lines.join('\n') + '\n');
  });
  afterEach(() => cleanup());

  it('a directory of per-host stores reads every host, each run once, flushes kept', () => {
    expect(resolveStoreDirs(lab)).to.deep.equal([hostA, hostB, hostC]);
    const rows = loadResultsFromStores({ outputDir: lab });
    const ids = rows.map((r) => r.run_id);
    // Ours are the richest copies of r2 and r3; host-b keeps both flush rows of cc-flush.
    expect(ids.filter((id) => id === 'r2' || id === 'r3').length).to.equal(2);
    expect(rows.filter((r) => r.run_id === 'r2' || r.run_id === 'r3').every((r) => r.written_by === 'lamarr-energy-tracker')).to.equal(true);
    expect(rows.filter((r) => r.run_id === 'cc-flush').map((r) => [r.source_file, r.duration])).to.deep.equal([
      [join(hostB, 'emissions.csv'), 1],
      [join(hostB, 'emissions.csv'), 2],
    ]);
    expect(rows.filter((r) => r.run_id === 'py-1').map((r) => [r.written_by, r.project_name, r.user, r.hostname])).to.deep.equal([
      ['lamarr-energy-tracker-python', 'resnet', 'bob', 'host-c'],
    ]);
    expect(rows).to.have.length(3 + 2 + eronRows + 1);
    expect(new Set(rows.filter((r) => r.run_id !== 'cc-flush').map((r) => r.run_id)).size).to.equal(rows.length - 2);
  });

  it('several stores give the same runs in any order and any spelling (directory, file, host directory)', () => {
    const expected = runsAndFiles(loadResultsFromStores({ outputDir: lab }));
    expect(runsAndFiles(loadResultsFromStores({ outputDir: [hostA, hostB, hostC] }))).to.deep.equal(expected);
    expect(runsAndFiles(loadResultsFromStores({ outputDir: [hostC, join(hostB, 'emissions.csv'), hostA] }))).to.deep.equal(expected);
    expect(runsAndFiles(loadResultsFromStores({ outputDir: [lab, hostA] }))).to.deep.equal(expected);
    // Filters select among the deduplicated runs: host-c's copies of runs kept elsewhere do not
    // reappear when the filter excludes the richer copy.
    expect(loadResultsFromStores({ outputDir: lab, hostname: 'host-c' }).map((r) => r.run_id)).to.deep.equal(['py-1']);
    expect(loadResultsFromStores({ outputDir: lab, hostname: 'host-a' }).map((r) => r.run_id)).to.deep.equal(['r1', 'r2', 'r3']);
    expect(loadResultsFromStores({ outputDir: lab, projectName: 'demo' }).map((r) => r.run_id)).to.deep.equal(['r1', 'r2', 'r3']);
    // One store is read exactly as loadResults reads it.
    expect(loadResultsFromStores({ outputDir: hostB })).to.deep.equal(loadResults({ outputDir: hostB }));
  });

  it('names the bad location among several stores', () => {
    expect(() => loadResultsFromStores({ outputDir: [hostA, join(lab, 'nope')] })).to.throw(RangeError, /nope: no such file or directory/);
    writeFileSync(join(lab, 'notes.txt'), 'x');
    expect(() => loadResultsFromStores({ outputDir: [hostA, join(lab, 'notes.txt')] })).to.throw(RangeError, /notes\.txt: a file that is not emissions\.csv/);
    const empty = join(lab, 'empty');
    mkdirSync(empty);
    expect(() => loadResultsFromStores({ outputDir: [hostA, empty] })).to.throw(RangeError, /empty: holds no emissions\.csv/);
    // A single missing store is empty, as before.
    expect(loadResultsFromStores({ outputDir: join(lab, 'nope') })).to.deep.equal([]);
  });

  it('one statement over the lab lists each hardware configuration and counts each run once', () => {
    const rows = loadResultsFromStores({ outputDir: lab });
    const statement = statementFromRecords(rows);
    expect(paperStatement({ outputDir: lab })).to.equal(formatStatement(statement));
    const json = JSON.parse(paperStatement({ outputDir: [hostA, hostB, hostC], format: 'json' })) as {
      configurations: Array<{ hardware: string; runs: number }>;
    };
    const hardware = json.configurations.map((c) => c.hardware);
    expect(hardware.some((h) => h.includes('i7-10610U'))).to.equal(true);
    expect(hardware.some((h) => h.includes('A100'))).to.equal(true);
    expect(hardware.some((h) => h.includes('Apple M1'))).to.equal(true);
    expect(hardware.some((h) => h.includes('EPYC 7763'))).to.equal(true);
    expect(json.configurations.reduce((sum, c) => sum + c.runs, 0)).to.equal(rows.length);
    // The duplicates changed nothing: the same statement as over the deduplicated rows by hand.
    const byHand = [
      ...loadResults({ outputDir: hostA }),
      ...loadResults({ outputDir: hostB }).filter((r) => r.run_id === 'cc-flush'),
      ...loadResults({ outputDir: hostC }).filter((r) => r.run_id !== 'cc-flush' && r.run_id !== 'r3'),
    ];
    expect(formatStatement(statementFromRecords(byHand))).to.equal(formatStatement(statement));
  });

  it('the CLI: statement and results take several --output-dir or a lab directory', () => {
    const several = ['--output-dir', hostA, '--output-dir', hostB, '--output-dir', hostC];
    const one = runCli(['statement', '--output-dir', lab, '--format', 'json']);
    expect(one.status, one.stderr).to.equal(0);
    expect(runCli(['statement', ...several, '--format', 'json']).stdout).to.equal(one.stdout);
    const results = runCli(['results', ...several, '--format', 'json']);
    expect(results.status, results.stderr).to.equal(0);
    expect((JSON.parse(results.stdout) as unknown[]).length).to.equal(loadResultsFromStores({ outputDir: lab }).length);
    const bad = runCli(['results', '--output-dir', hostA, '--output-dir', join(lab, 'nope')]);
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.include('nope: no such file or directory');
  });

  it('merge writes one CodeCarbon-compatible store with every run once and every field of ours', () => {
    const { dir: target, cleanup: removeTarget } = tempDir('let-merged-');
    const rows = loadResultsFromStores({ outputDir: lab });
    try {
      const result = mergeStores(lab, target);
      expect(result).to.deep.include({ written: rows.length, duplicates: 3, target: join(target, 'emissions.csv') });
      expect(result.sources).to.deep.equal([hostA, hostB, hostC]);
      const merged = loadResults({ outputDir: target });
      // Round trip: the same records (ours with methods, status, version; CodeCarbon's and the
      // Python package's as they read), the same writers.
      expect(merged.map(recordOf)).to.deep.equal(rows.map(recordOf));
      expect(merged.map((r) => r.written_by)).to.deep.equal(rows.map((r) => r.written_by));
      // CodeCarbon reads it: its 38 columns first, in its order.
      const header = parseCsv(readFileSync(join(target, 'emissions.csv'), 'utf8')).records[0]!.fields;
      expect(header.slice(0, CODECARBON_COLUMNS.length)).to.deep.equal([...CODECARBON_COLUMNS]);
      // A target that holds rows is refused unless --append, which adds only runs it lacks.
      expect(() => mergeStores(lab, target)).to.throw(RangeError, /already holds \d+ row/);
      expect(mergeStores([hostA, hostB], target, { append: true }).written).to.equal(0);
      expect(() => mergeStores([hostA, hostB], hostB)).to.throw(RangeError, /also one of the sources/);
      // The merged store and the lab give one statement.
      expect(paperStatement({ outputDir: target })).to.equal(paperStatement({ outputDir: lab }));
      expect(paperStatement({ outputDir: [target, lab] })).to.equal(paperStatement({ outputDir: lab }));
    } finally {
      removeTarget();
    }
  });

  it('the merge command', () => {
    const { dir: target, cleanup: removeTarget } = tempDir('let-merged-');
    try {
      const result = runCli(['merge', hostA, hostB, hostC, '--into', target]);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^Merged \d+ row\(s\) of \d+ run\(s\) from 3 store\(s\) into .*emissions\.csv \(3 duplicate row\(s\) skipped\)\.\n$/);
      const again = runCli(['merge', lab, '--into', target]);
      expect(again.status).to.equal(1);
      expect(again.stderr).to.include('already holds');
      expect(runCli(['merge', lab, '--into', target, '--append']).stdout).to.include('Merged 0 row(s)');
      expect(runCli(['merge', lab]).stderr).to.include("required option '--into <dir>'");
    } finally {
      removeTarget();
    }
  });
});
