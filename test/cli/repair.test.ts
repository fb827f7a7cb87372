import { expect } from 'chai';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { CODECARBON_COLUMNS, appendRecord, formatHeader, formatRecordRow } from '../../lib/store/index.js';
import { makeRecord, tempDir } from '../store/helpers.js';

describe('CLI: repair, and results --format csv through the store\'s writer', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  before(() => ensureBuilt());
  beforeEach(() => ({ dir, cleanup } = tempDir('let-cli-repair-')));
  afterEach(() => cleanup());

  it('results and statement count the backups CodeCarbon left, with a notice; repair merges them and archives the backups', () => {
    appendRecord(makeRecord({ run_id: 'main-1' }), dir);
    const cc = (id: string) => formatRecordRow(makeRecord({ run_id: id, tracker_version: '', experiment_id: 'cc', project_name: 'codecarbon' }), CODECARBON_COLUMNS);
    writeFileSync(join(dir, 'emissions.csv.bak'), formatHeader(CODECARBON_COLUMNS.slice(0, 33)) + [1, 2].map((i) => formatRecordRow(makeRecord({ run_id: `bak-${i}` }), CODECARBON_COLUMNS.slice(0, 33))).join(''));
    writeFileSync(join(dir, 'emissions.csv_0.bak'), formatHeader(CODECARBON_COLUMNS) + cc('cc-1') + cc('main-1'));
    const results = runCli(['results', '--output-dir', dir, '--format', 'json']);
    expect(results.status, results.stderr).to.equal(0);
    expect((JSON.parse(results.stdout) as { run_id: string }[]).map((r) => r.run_id).sort()).to.deep.equal(['bak-1', 'bak-2', 'cc-1', 'main-1']);
    expect(results.stderr).to.include('LET_BACKUPS_READ').and.include('emissions.csv.bak (2 rows)').and.include('repair');
    const statement = runCli(['statement', '--output-dir', dir, '--format', 'json']);
    expect(statement.status, statement.stderr).to.equal(0);
    expect((JSON.parse(statement.stdout) as { runs: number }).runs).to.equal(4);
    const repaired = runCli(['repair', '--output-dir', dir]);
    expect(repaired.status, repaired.stderr).to.equal(0);
    expect(repaired.stdout).to.match(/merged 3 run\(s\) from 2 backup\(s\); 4 row\(s\)/).and.include('archive');
    expect(readdirSync(dir).filter((n) => n.endsWith('.bak'))).to.deep.equal([]);
    const after = runCli(['results', '--output-dir', dir, '--format', 'json']);
    expect(after.stderr).not.to.include('LET_BACKUPS_READ');
    expect((JSON.parse(after.stdout) as unknown[]).length).to.equal(4);
    const again = runCli(['repair', '--output-dir', dir]);
    expect(again.stdout).to.match(/^Nothing to repair/);
  });

  it('results --format csv defuses formula-like text and keeps numbers as numbers', () => {
    appendRecord(makeRecord({ run_id: 'r1', project_name: '=HYPERLINK("http://x")', longitude: -8.61 }), dir);
    const csv = runCli(['results', '--output-dir', dir, '--format', 'csv']);
    expect(csv.status, csv.stderr).to.equal(0);
    const lines = csv.stdout.split('\n');
    expect(lines[0]).to.match(/^timestamp,project_name,run_id,/);
    expect(lines[1]).to.include(`,"'=HYPERLINK(""http://x"")",`).and.include(',-8.61,');
    expect(lines[1]).to.include(',completed');
  });
});
