import { expect } from 'chai';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CODECARBON_COLUMNS,
  TRACKER_COLUMNS,
  appendRecord,
  formatHeader,
  formatRecordRow,
  loadResults,
  parseCsv,
  repairStore,
  streamResults,
} from '../../lib/store/index.js';
import type { LoadedRecord, StoreWarning } from '../../lib/store/index.js';
import { paperStatement } from '../../lib/statement/paper.js';
import { statementFromRecords } from '../../lib/statement/statement.js';
import { PyInt, codecarbonAppend, codecarbonRow, pyRepr, readCsvRows } from './codecarbon-writer.js';
import { makeRecord, stripSource, tempDir } from './helpers.js';

const headerOf = (file: string): string[] => parseCsv(readFileSync(file, 'utf8')).records[0]!.fields;
const backupsIn = (dir: string): string[] => readdirSync(dir).filter((n) => /^emissions\.csv(_\d+)?\.bak$/.test(n)).sort();

/** Our record with values that survive pandas' rewrite (no formula-like text: pandas writes it unguarded). */
function ours(i: number, extra: Partial<Parameters<typeof makeRecord>[0]> = {}) {
  return makeRecord({
    run_id: `ours-${i}`,
    project_name: `paper-${i % 3}`,
    user: `user${i % 2}`,
    hostname: `node${i}`,
    duration: 10 + i / 7,
    cpu_energy: 0.0021 + i * 1e-7,
    energy_consumed: 0.0025 + i * 1e-7,
    cpu_energy_method: i % 2 ? 'measured:powercap' : 'estimated:tdp-load-model',
    carbon_intensity: 380.95 + i,
    run_status: i % 4 === 3 ? 'interrupted' : 'completed',
    ...extra,
  });
}

function quiet(dir: string): { rows: LoadedRecord[]; warnings: StoreWarning[] } {
  const warnings: StoreWarning[] = [];
  return { rows: loadResults({ outputDir: dir }, { onWarning: (w) => warnings.push(w) }), warnings };
}

describe('store: CodeCarbon 3.2.3 writing to our file (its writer rule, ported)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('the port writes floats as Python repr and reads a header-only file as valid', () => {
    expect([1e-5, 12, 0.1 + 0.2, 1e16, -0.5].map(pyRepr)).to.deep.equal(['1e-05', '12.0', '0.30000000000000004', '1e+16', '-0.5']);
    codecarbonAppend(dir, codecarbonRow({ run_id: 'a' }));
    codecarbonAppend(dir, codecarbonRow({ run_id: 'b' }));
    const rows = readCsvRows(readFileSync(join(dir, 'emissions.csv'), 'utf8'));
    // The second append dropped the columns empty in every row (offline: region, cloud, coordinates).
    expect(rows[0]).to.have.length(33);
    expect(rows[0]).not.to.include('region');
    expect(rows[2]![rows[0]!.indexOf('cpu_count')]).to.equal('12');
    // A third append finds another column set and moves its own file aside, as CodeCarbon does.
    expect(codecarbonAppend(dir, codecarbonRow({ run_id: 'c' }))).to.equal(join(dir, 'emissions.csv.bak'));
    expect(codecarbonAppend(dir, codecarbonRow({ run_id: 'd' }))).to.equal(null);
    expect(codecarbonAppend(dir, codecarbonRow({ run_id: 'e' }))).to.equal(join(dir, 'emissions.csv_0.bak'));
  });

  it('appends to our file without renaming it; every row and sidecar field of ours intact; the statement counts both tools\' runs', () => {
    const mine = [0, 1, 2].map((i) => ours(i));
    for (const r of mine) appendRecord(r, dir);
    const file = join(dir, 'emissions.csv');
    expect(new Set(headerOf(file))).to.deep.equal(new Set(CODECARBON_COLUMNS));
    const sidecarBefore = readFileSync(join(dir, 'emissions.let.jsonl'));
    expect(codecarbonAppend(dir, codecarbonRow({ run_id: 'cc-1', gpu_count: new PyInt(1) }))).to.equal(null);
    expect(backupsIn(dir)).to.deep.equal([]);
    expect(readFileSync(join(dir, 'emissions.let.jsonl')).equals(sidecarBefore)).to.equal(true);
    // CodeCarbon rewrote the whole file through pandas (floats as repr, empty columns moved).
    expect(readFileSync(file, 'utf8')).to.include(',9.84e-05,');
    const { rows, warnings } = quiet(dir);
    expect(warnings).to.deep.equal([]);
    expect(rows.map((r) => r.run_id)).to.deep.equal(['ours-0', 'ours-1', 'ours-2', 'cc-1']);
    rows.slice(0, 3).forEach((r, i) => expect(stripSource(r), `run ${i}`).to.deep.equal(mine[i]));
    expect(rows[3]!.written_by).to.equal('codecarbon');
    expect(rows[3]!.tracker_version).to.equal('');
    expect(statementFromRecords(rows).runs).to.equal(4);
    expect((JSON.parse(paperStatement({ outputDir: dir, format: 'json' })) as { runs: number }).runs).to.equal(4);
  });

  it('when CodeCarbon has narrowed the file, our next append restores its 38 columns (lines kept, extended) and CodeCarbon appends again', () => {
    codecarbonAppend(dir, codecarbonRow({ run_id: 'cc-1' }));
    codecarbonAppend(dir, codecarbonRow({ run_id: 'cc-2' }));
    const file = join(dir, 'emissions.csv');
    const narrowed = readFileSync(file, 'utf8');
    expect(headerOf(file)).to.have.length(33);
    appendRecord(ours(1), dir);
    const widened = readFileSync(file, 'utf8');
    expect(new Set(headerOf(file))).to.deep.equal(new Set(CODECARBON_COLUMNS));
    narrowed.split('\n').slice(0, -1).forEach((line, i) => expect(widened.split('\n')[i]!.startsWith(line), `line ${i + 1}`).to.equal(true));
    expect(codecarbonAppend(dir, codecarbonRow({ run_id: 'cc-3' }))).to.equal(null);
    expect(backupsIn(dir)).to.deep.equal([]);
    const { rows } = quiet(dir);
    expect(rows.map((r) => r.run_id)).to.deep.equal(['cc-1', 'cc-2', 'ours-1', 'cc-3']);
    expect(stripSource(rows[2]!)).to.deep.equal(ours(1));
  });

  it('ten rounds of (ours, CodeCarbon, CodeCarbon): every run of both tools in loadResults, streamResults and the statement; after repair one file with all of them', async () => {
    const expected = new Map<string, 'ours' | 'cc'>();
    for (let round = 0; round < 10; round++) {
      appendRecord(ours(round), dir);
      expected.set(`ours-${round}`, 'ours');
      for (const k of [0, 1]) {
        const id = `cc-${round}-${k}`;
        codecarbonAppend(dir, codecarbonRow({ run_id: id, duration: round + k / 10, timestamp: `2026-05-${String(round + 10)}T12:0${k}:00` }));
        expected.set(id, 'cc');
      }
    }
    // CodeCarbon moved its file aside (its own narrowing), leaving backups behind.
    const backups = backupsIn(dir);
    expect(backups.length).to.be.greaterThan(3);
    expect(backups).to.include('emissions.csv.bak').and.include('emissions.csv_0.bak');
    const { rows, warnings } = quiet(dir);
    expect(new Set(rows.map((r) => r.run_id))).to.deep.equal(new Set(expected.keys()));
    expect(rows).to.have.length(30);
    for (let i = 0; i < 10; i++) expect(stripSource(rows.find((r) => r.run_id === `ours-${i}`)!)).to.deep.equal(ours(i));
    const notice = warnings.find((w) => w.code === 'LET_BACKUPS_READ');
    expect(notice, 'backups reported').to.not.equal(undefined);
    expect(notice!.message).to.include('emissions.csv.bak').and.include('repair');
    const streamed: LoadedRecord[] = [];
    for await (const r of streamResults({ outputDir: dir }, { chunkSize: 333, onWarning: () => undefined })) streamed.push(r);
    expect(streamed).to.deep.equal(rows);
    expect(statementFromRecords(rows).runs).to.equal(30);

    const result = repairStore(dir, { onWarning: () => undefined });
    expect(result.backups.map((b) => b.slice(dir.length + 1)).sort()).to.deep.equal(backups);
    expect(result.rows).to.equal(30);
    expect(backupsIn(dir)).to.deep.equal([]);
    expect(readdirSync(join(result.archiveDir!)).sort()).to.deep.equal(backups);
    const file = join(dir, 'emissions.csv');
    expect(headerOf(file)).to.deep.equal([...CODECARBON_COLUMNS]);
    const after = quiet(dir);
    expect(after.warnings).to.deep.equal([]);
    expect(after.rows.map(stripSource)).to.have.deep.members(rows.map(stripSource));
    // Time order: each round's runs before the next round's.
    expect(after.rows.map((r) => r.run_id).indexOf('ours-0')).to.be.lessThan(after.rows.map((r) => r.run_id).indexOf('cc-9-1'));
    // CodeCarbon appends to the repaired file without moving it aside.
    expect(codecarbonAppend(dir, codecarbonRow({ run_id: 'cc-after' }))).to.equal(null);
    expect(quiet(dir).rows).to.have.length(31);
  });

  it('a 0.1.0 file (46 columns) is migrated at the next write: 38 columns, our fields in the sidecar, every value kept', () => {
    const file = join(dir, 'emissions.csv');
    const old = [...CODECARBON_COLUMNS, ...TRACKER_COLUMNS.slice(0, 8)];
    const records = Array.from({ length: 5 }, (_, i) => ours(i, { project_name: i === 2 ? '=guarded' : `p${i}`, cpu_model: 'CPU "quoted", comma' }));
    writeFileSync(file, formatHeader(old) + records.map((r) => formatRecordRow(r, old)).join(''));
    expect(quiet(dir).rows.map(stripSource)).to.deep.equal(records);
    appendRecord(ours(9), dir);
    expect(headerOf(file)).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(readFileSync(join(dir, 'emissions.let.jsonl'), 'utf8').trim().split('\n')).to.have.length(6);
    expect(quiet(dir).rows.map(stripSource)).to.deep.equal([...records, ours(9)]);
  });
});
