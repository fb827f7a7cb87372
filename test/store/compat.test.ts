import { expect } from 'chai';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_COLUMNS,
  CODECARBON_COLUMNS,
  TRACKER_COLUMNS,
  appendRecord,
  deleteResults,
  loadResults,
  parseCsv,
} from '../../lib/store/index.js';
import { SAMPLES_DIR, makeRecord, stripSource, tempDir } from './helpers.js';

/** Rows of a CSV text as column → raw value maps, via the parser (header first). */
function table(text: string): { header: string[]; rows: Map<string, string>[] } {
  const { records } = parseCsv(text);
  const header = records[0]!.fields;
  const rows = records.slice(1).map((r) => new Map(header.map((h, i) => [h, r.fields[i]!] as const)));
  return { header, rows };
}

/** Check that every original row keeps every value, field by field, and that lines are only extended. */
function expectKept(beforeText: string, afterText: string): void {
  const before = table(beforeText);
  const after = table(afterText);
  expect(after.header.slice(0, before.header.length)).to.deep.equal(before.header);
  const missing = ALL_COLUMNS.filter((c) => !before.header.includes(c));
  expect(after.header.slice(before.header.length)).to.deep.equal(missing);
  expect(after.rows.length).to.equal(before.rows.length + 1);
  before.rows.forEach((row, i) => {
    for (const [col, value] of row) expect(after.rows[i]!.get(col), `row ${i + 2} column ${col}`).to.equal(value);
    for (const col of missing) expect(after.rows[i]!.get(col), `row ${i + 2} new column ${col}`).to.equal('');
  });
  // Byte level: every original line is still there, at most extended by empty fields.
  const bl = beforeText.split('\n');
  const al = afterText.split('\n');
  bl.slice(0, -1).forEach((line, i) => {
    const eol = line.endsWith('\r') ? '\r' : '';
    const body = eol ? line.slice(0, -1) : line;
    expect(al[i]!.startsWith(body), `line ${i + 1} kept`).to.equal(true);
    expect(al[i]!.endsWith(eol)).to.equal(true);
  });
}

const samples = readdirSync(SAMPLES_DIR).filter((n) => n.endsWith('.csv')).sort();

describe('store: appending to CodeCarbon and Python-package files', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('finds the three real CodeCarbon samples', () => {
    expect(samples).to.have.length(3);
  });

  for (const name of samples) {
    it(`keeps every row and value of ${name}`, () => {
      const file = join(dir, 'emissions.csv');
      copyFileSync(join(SAMPLES_DIR, name), file);
      const beforeText = readFileSync(file, 'utf8');
      const loadedBefore = loadResults({ outputDir: dir });
      expect(loadedBefore.length).to.equal(table(beforeText).rows.length).and.be.greaterThan(0);
      expect(loadedBefore.every((r) => r.written_by === 'codecarbon' && r.project_name === 'codecarbon')).to.equal(true);

      const rec = makeRecord({ run_id: 'ours-1' });
      appendRecord(rec, dir);
      const afterText = readFileSync(file, 'utf8');
      expectKept(beforeText, afterText);

      const loadedAfter = loadResults({ outputDir: dir });
      expect(loadedAfter.slice(0, -1).map(stripSource)).to.deep.equal(loadedBefore.map(stripSource));
      expect(stripSource(loadedAfter.at(-1)!)).to.deep.equal(rec);

      // A second append needs no rewrite: one more line, in the file's column order.
      appendRecord(makeRecord({ run_id: 'ours-2' }), dir);
      const third = readFileSync(file, 'utf8');
      expect(third.startsWith(afterText)).to.equal(true);
      expect(loadResults({ outputDir: dir }).at(-1)!.run_id).to.equal('ours-2');
      expect(readdirSync(dir).filter((n) => !n.endsWith('.let-lock')).sort()).to.deep.equal(['emissions.csv']);
    });
  }

  it('keeps every row of a Python-package file and reads project, user and host from experiment_id', () => {
    // CodeCarbon 3.2.3 order: cloud_provider and cloud_region moved to the end.
    const cols: string[] = [
      ...CODECARBON_COLUMNS.filter((c) => c !== 'cloud_provider' && c !== 'cloud_region'),
      'cloud_provider',
      'cloud_region',
    ];
    expect(cols).to.have.length(38);
    const base = table(readFileSync(join(SAMPLES_DIR, samples.find((s) => s.startsWith('Eron'))!), 'utf8')).rows[0]!;
    const triples = ['resnet___alice___gpu-node-1', 'my___odd___project___bob___laptop', 'resnet___alice___gpu-node-1'];
    const lines = [cols.join(',')];
    triples.forEach((t, i) => {
      const row = new Map(base);
      row.set('experiment_id', t);
      row.set('run_id', i < 2 ? `run-${i}` : 'run-0'); // a repeated run_id (a flush)
      lines.push(cols.map((c) => row.get(c) ?? '').join(','));
    });
    const beforeText = lines.join('\n') + '\n';
    writeFileSync(join(dir, 'emissions.csv'), beforeText);

    const loaded = loadResults({ outputDir: dir });
    expect(loaded.map((r) => [r.written_by, r.project_name, r.user, r.hostname, r.run_id])).to.deep.equal([
      ['lamarr-energy-tracker-python', 'resnet', 'alice', 'gpu-node-1', 'run-0'],
      ['lamarr-energy-tracker-python', 'my___odd___project', 'bob', 'laptop', 'run-1'],
      ['lamarr-energy-tracker-python', 'resnet', 'alice', 'gpu-node-1', 'run-0'],
    ]);
    expect(loadResults({ outputDir: dir, projectName: 'resnet', user: 'alice', hostname: 'gpu-node-1' })).to.have.length(2);

    appendRecord(makeRecord({ project_name: 'resnet', user: 'alice', hostname: 'gpu-node-1', run_id: 'ours' }), dir);
    expectKept(beforeText, readFileSync(join(dir, 'emissions.csv'), 'utf8'));
    const after = loadResults({ outputDir: dir, projectName: 'resnet', user: 'alice', hostname: 'gpu-node-1' });
    expect(after.map((r) => [r.run_id, r.written_by])).to.deep.equal([
      ['run-0', 'lamarr-energy-tracker-python'],
      ['run-0', 'lamarr-energy-tracker-python'],
      ['ours', 'lamarr-energy-tracker'],
    ]);
  });

  // Older CodeCarbon layouts, synthesised from the 3.x column list.
  const layouts: Record<string, readonly string[]> = {
    '2.5.0 (31 columns)': CODECARBON_COLUMNS.filter(
      (c) => !['experiment_id', 'water_consumed', 'wue', 'cpu_utilization_percent', 'gpu_utilization_percent', 'ram_utilization_percent', 'ram_used_gb'].includes(c),
    ),
    '2.8/3.0.2 (32 columns)': CODECARBON_COLUMNS.filter(
      (c) => !['water_consumed', 'wue', 'cpu_utilization_percent', 'gpu_utilization_percent', 'ram_utilization_percent', 'ram_used_gb'].includes(c),
    ),
    '3.0.8/3.1.0 (34 columns)': CODECARBON_COLUMNS.filter(
      (c) => !['cpu_utilization_percent', 'gpu_utilization_percent', 'ram_utilization_percent', 'ram_used_gb'].includes(c),
    ),
  };
  const expectedCounts: Record<string, number> = { '2.5.0 (31 columns)': 31, '2.8/3.0.2 (32 columns)': 32, '3.0.8/3.1.0 (34 columns)': 34 };

  for (const [label, cols] of Object.entries(layouts)) {
    it(`keeps every row of a CodeCarbon ${label} file, space-padded, CRLF, with a repeated run_id`, () => {
      expect(cols).to.have.length(expectedCounts[label]!);
      const value = (c: string, i: number): string => {
        if (c === 'timestamp') return `2024-05-0${i + 1}T12:00:00`;
        if (c === 'project_name') return 'codecarbon';
        if (c === 'run_id') return i === 2 ? 'dup' : i === 1 ? 'dup' : 'solo';
        if (c === 'experiment_id') return '5b0fa12a-3dd7-45bb-9766-cc326314d9f1';
        if (c === 'longitude') return ' -8.61 ';
        if (c === 'region' || c === 'gpu_model' || c === 'latitude') return '';
        if (c === 'duration') return ` ${10 + i}.5`;
        if (['country_name', 'os', 'cpu_model', 'tracking_mode', 'on_cloud', 'country_iso_code', 'cloud_provider', 'cloud_region', 'python_version', 'codecarbon_version'].includes(c)) {
          return c === 'codecarbon_version' ? '2.5.0' : c === 'on_cloud' ? 'N' : c === 'cpu_model' ? ' Intel(R) Xeon(R) ' : 'x';
        }
        return `${i}.25 `;
      };
      const text = [cols.join(', '), ...[0, 1, 2].map((i) => cols.map((c) => value(c, i)).join(','))].join('\r\n') + '\r\n';
      writeFileSync(join(dir, 'emissions.csv'), text);
      const loaded = loadResults({ outputDir: dir });
      expect(loaded.map((r) => r.run_id)).to.deep.equal(['solo', 'dup', 'dup']);
      expect(loaded[0]!.longitude).to.equal(-8.61);
      expect(loaded[0]!.latitude).to.equal(null);
      expect(loaded[1]!.duration).to.equal(11.5);
      expect(loaded[0]!.cpu_model).to.equal('Intel(R) Xeon(R)');
      expect(loaded[0]!.written_by).to.equal('codecarbon');
      if (!cols.includes('wue')) expect(loaded[0]!.wue).to.equal(null);
      if (!cols.includes('experiment_id')) expect(loaded[0]!.experiment_id).to.equal('');

      appendRecord(makeRecord({ run_id: 'ours' }), dir);
      const afterText = readFileSync(join(dir, 'emissions.csv'), 'utf8');
      // The header gains our columns (joined with the file's own separator style is not needed: values are trimmed).
      const before = table(text);
      const after = table(afterText);
      expect(after.rows).to.have.length(4);
      before.rows.forEach((row, i) => {
        for (const [col, v] of row) expect(after.rows[i]!.get(col)).to.equal(v);
      });
      expect(afterText.endsWith('\r\n')).to.equal(true);
      expect(afterText.split('\r\n').slice(0, 4).map((l, i) => l.startsWith(text.split('\r\n')[i]!))).to.deep.equal([true, true, true, true]);
      const again = loadResults({ outputDir: dir });
      expect(again.slice(0, 3).map(stripSource)).to.deep.equal(loaded.map(stripSource));
      expect(stripSource(again[3]!)).to.deep.equal(makeRecord({ run_id: 'ours' }));
      // Tracker columns now exist: the next append is a plain append.
      expect(table(afterText).header.slice(-TRACKER_COLUMNS.length)).to.deep.equal([...TRACKER_COLUMNS]);
    });
  }

  it('appends in the file\'s own column order, with quoted header names, a foreign column and CRLF', () => {
    const cols = ['my_note', ...[...ALL_COLUMNS].reverse()];
    const first = makeRecord({ run_id: 'first' });
    const values = (r: Record<string, unknown>): string =>
      cols.map((c) => (c === 'my_note' ? '"a note, quoted"' : r[c] === null ? '' : String(r[c]))).join(',');
    const bulk = Array.from({ length: 40 }, () => values(first as unknown as Record<string, unknown>)).join('\r\n');
    const text = cols.map((c) => `"${c}"`).join(',') + '\r\n' + bulk + '\r\n';
    expect(text.length).to.be.greaterThan(8192);
    writeFileSync(join(dir, 'emissions.csv'), text);
    const rec = makeRecord({ run_id: 'appended', project_name: '-neg' });
    appendRecord(rec, dir);
    const after = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(after.startsWith(text), 'no rewrite: existing bytes untouched').to.equal(true);
    const added = after.slice(text.length);
    expect(added.endsWith('\r\n')).to.equal(true);
    expect(added.split(',')[cols.indexOf('run_status')]).to.equal('completed'); // my_note empty, then our columns reversed
    const rows = loadResults({ outputDir: dir });
    expect(rows).to.have.length(41);
    expect(stripSource(rows[40]!)).to.deep.equal(rec);
    expect(stripSource(rows[0]!)).to.deep.equal(first);
  });

  it('reads CodeCarbon 2.x timestamps with zone or fractional seconds for time filters', () => {
    const cols = ['timestamp', 'project_name', 'run_id', 'duration'];
    const text = [
      cols.join(','),
      '2024-01-01T10:00:00.123456,p,r1,1',
      '2024-01-01T12:00:00+02:00,p,r2,1',
      '2024-01-01T09:00:00Z,p,r3,1',
      '2024-01-02 08:00:00,p,r4,1',
    ].join('\n') + '\n';
    writeFileSync(join(dir, 'emissions.csv'), text);
    const since = new Date(Date.UTC(2024, 0, 1, 9, 30));
    const rows = loadResults({ outputDir: dir, since });
    const expected = ['r1', 'r2', 'r3', 'r4'].filter((_, i) => {
      const t = [new Date(2024, 0, 1, 10, 0, 0, 123), new Date(Date.UTC(2024, 0, 1, 10)), new Date(Date.UTC(2024, 0, 1, 9)), new Date(2024, 0, 2, 8)][i]!;
      return t.getTime() >= since.getTime();
    });
    expect(rows.map((r) => r.run_id)).to.deep.equal(expected);
    expect(expected).to.include('r2').and.not.include('r3');
    expect(deleteResults({ outputDir: dir, until: new Date(Date.UTC(2024, 0, 1, 9, 30)) })).to.equal(4 - expected.length);
  });
});
