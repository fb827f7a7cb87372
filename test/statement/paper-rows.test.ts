/**
 * A statement the aggregates cannot answer (time filters, backups beside the store) over one
 * store is summed as the store is read a part at a time (no array of records): in random stores
 * it must be the statement of loadResults' rows, and a CodeCarbon backup beside the store must be
 * counted as loadResults counts it.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODECARBON_COLUMNS, appendRecords, formatHeader, formatRecordRow, loadResults } from '../../lib/store/index.js';
import type { EmissionsRecord } from '../../lib/store/index.js';
import { loadStatement, statementFromRecords } from '../../lib/statement/index.js';
import type { PaperStatementOptions } from '../../lib/statement/index.js';
import { makeRecord, tempDir } from '../store/helpers.js';
import { attempt, randomRecords, rng, runSeed } from './random-records.js';

const SEED = runSeed();

/** Random rows as a store holds them: a timestamp each, over ten days. */
function storedRecords(random: () => number, n: number, runs: { next: number }): EmissionsRecord[] {
  return randomRecords(random, n).map(({ written_by: _writer, ...fields }) => {
    const day = 1 + Math.floor(random() * 10);
    return makeRecord({ ...fields, run_id: `run-${++runs.next}`, timestamp: `2026-03-${String(day).padStart(2, '0')}T1${Math.floor(random() * 10)}:00:00` });
  });
}

describe('statement over rows read a part at a time', () => {
  it(`time filters, with and without a backup: loadResults' statement (40 random stores, seed ${SEED})`, function () {
    this.timeout(120_000);
    const random = rng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let compared = 0;
    for (let store = 0; store < 40; store++) {
      const { dir, cleanup } = tempDir('let-paper-rows-');
      try {
        const runs = { next: 0 };
        appendRecords(storedRecords(random, 1 + Math.floor(random() * 60), runs), dir);
        if (random() < 0.3) {
          // CodeCarbon moved an older file aside: its rows are read too (deduplicated by run_id).
          const older = storedRecords(random, 1 + Math.floor(random() * 10), runs);
          writeFileSync(join(dir, 'emissions.csv.bak'), formatHeader(CODECARBON_COLUMNS) + older.map((r) => formatRecordRow(r, CODECARBON_COLUMNS)).join(''));
        }
        for (let q = 0; q < 6; q++) {
          const filters: PaperStatementOptions = { outputDir: dir, since: new Date(2026, 2, 1 + Math.floor(random() * 10)) };
          if (random() < 0.6) filters.until = new Date(2026, 2, 3 + Math.floor(random() * 9));
          if (random() < 0.4) filters.projectName = pick(['alpha', 'beta', 'gamma']);
          if (random() < 0.3) filters.user = pick(['ann', 'bob']);
          const options = { format: 'json' as const, comparison: random() < 0.5 };
          const rows = loadResults({ ...filters, outputDir: dir }, { onWarning: () => undefined });
          const label = `store ${store}, query ${q} (replay with SUMMARY_SEED=${SEED})`;
          const streamed = attempt(() => loadStatement({ ...filters, ...options }));
          if (rows.length === 0) {
            expect(streamed, label).to.match(/^RangeError: No tracked runs match/);
            continue;
          }
          expect(JSON.stringify(streamed), label).to.equal(JSON.stringify(attempt(() => statementFromRecords(rows, options))));
          compared++;
        }
      } finally {
        cleanup();
      }
    }
    expect(compared).to.be.greaterThan(60);
  });
});
