/**
 * stop()'s summary and paperStatement from the store's aggregates print exactly what they
 * printed from the rows (loadResults + statementFromRecords), run after run, saved or not, with
 * backups beside the store (the rows path) and after a hand edit.
 */
import { expect } from 'chai';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { appendRecord, EMISSIONS_FILE_NAME, loadResults, type EmissionsRecord } from '../../lib/store/index.js';
import { paperStatement, statementFromRecords, formatStatement } from '../../lib/statement/index.js';
import { printRunSummary } from '../../lib/tracker/summary.js';
import { storeAggregates } from '../../lib/store/aggregate-scan.js';
import { rng, runSeed } from '../statement/random-records.js';
import { makeRecord, tempDir } from '../store/helpers.js';

const SEED = runSeed();

function capture(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) });
  return { out, text: () => text };
}

/** The summary's last part as it was computed before the aggregates. */
function statementFromRows(dir: string, record: EmissionsRecord, saved: boolean): string {
  const filters = { outputDir: dir, projectName: record.project_name, user: record.user, hostname: record.hostname };
  let stored: EmissionsRecord[] = [];
  try {
    stored = loadResults(filters);
  } catch (err) {
    if (saved) throw err;
  }
  return statementFromRecords(saved ? stored : [...stored, record], {}).text;
}

describe('summary and statement from the aggregates', () => {
  it(`print what the rows printed, run after run (seed ${SEED})`, function () {
    this.timeout(120_000);
    const { dir, cleanup } = tempDir('let-summary-aggregates-');
    try {
      const random = rng(SEED);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      for (let i = 0; i < 60; i++) {
        const energy = random() * 10 ** -Math.floor(random() * 5);
        const record = makeRecord({
          run_id: `run-${i}`,
          project_name: pick(['demo', 'other']),
          hostname: pick(['node1', 'node2']),
          energy_consumed: energy,
          cpu_energy: energy / 2,
          ram_energy: energy / 2,
          emissions: (energy * 380.95) / 1000,
          cpu_model: pick(['Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 'AMD EPYC 7742 64-Core Processor']),
        });
        const saved = random() < 0.8;
        if (saved) appendRecord(record, dir);
        if (i === 30) {
          // A hand edit (same length) the aggregates must notice.
          const file = join(dir, EMISSIONS_FILE_NAME);
          const text = readFileSync(file, 'utf8');
          writeFileSync(file, text.replace('node2', 'node3'));
        }
        // The aggregates stand for the rows until a backup appears; then the rows path is taken.
        if (i === 44) expect(storeAggregates(dir), 'aggregates before the backup').to.not.equal(null);
        if (i === 46) expect(storeAggregates(dir), 'aggregates with a backup').to.equal(null);
        if (i === 45) copyFileSync(join(dir, EMISSIONS_FILE_NAME), join(dir, `${EMISSIONS_FILE_NAME}.bak`)); // backups: rows path
        const { out, text } = capture();
        printRunSummary(record, { outputDir: dir, wallMessage: null, saved, out });
        const label = `run ${i}, saved ${saved} (seed ${SEED})`;
        expect(text().trimEnd().endsWith(statementFromRows(dir, record, saved)), label).to.equal(true);
        for (const filter of [{}, { projectName: record.project_name }, { hostname: 'node2', user: 'alice' }]) {
          const rows = loadResults({ outputDir: dir, ...filter }, { onWarning: () => undefined });
          const want = rows.length === 0 ? 'none' : formatStatement(statementFromRecords(rows, { comparison: true }), 'json');
          let got: string;
          try {
            got = paperStatement({ outputDir: dir, ...filter, comparison: true, format: 'json' });
          } catch (err) {
            if (!(err instanceof RangeError)) throw err;
            got = 'none';
          }
          expect(got, `${label} ${JSON.stringify(filter)}`).to.equal(want);
        }
      }
    } finally {
      cleanup();
    }
  });
});
