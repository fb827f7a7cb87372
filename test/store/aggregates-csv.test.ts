/**
 * The aggregates over a real `emissions.csv`, end to end: rows appended by the store
 * (`appendRecord`), CodeCarbon-style rewrites (another column layout, every row rewritten),
 * selective deletes (the store's atomic rewrite), truncations and hand edits, in random order;
 * after each, the statement from the aggregates must be the statement from `loadResults`.
 *
 * `csvScan` is the adapter the store provides: it decodes the rows after a byte offset with the
 * store's own parser and its one record decoder (`RecordDecoder`, our fields joined from the
 * sidecar `emissions.let.jsonl`); when the store's decoder changes, this adapter is what changes.
 */
import { expect } from 'chai';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statementFromRecords, statementFromSummary, type GroupFilter } from '../../lib/statement/index.js';
import { AGGREGATED_FILES, storeScan } from '../../lib/store/aggregate-scan.js';
import { fileState, readAggregates, updateAggregates, type AggregateScan, type FileState } from '../../lib/store/aggregates.js';
import { visitCsv } from '../../lib/store/csv.js';
import { RecordDecoder } from '../../lib/store/decoder.js';
import { sidecarFileOf } from '../../lib/store/paths.js';
import { readSidecar } from '../../lib/store/sidecar.js';
import { appendRecord, SIDECAR_FILE_NAME, CODECARBON_COLUMNS, deleteResults, EMISSIONS_FILE_NAME, formatHeader, formatRecordRow, loadResults, type EmissionsRecord } from '../../lib/store/index.js';
import { attempt, rng, runSeed } from '../statement/random-records.js';
import { makeRecord, tempDir } from './helpers.js';

/** The store's decoder as an {@link AggregateScan}: rows after `from` bytes, end at the last complete record. */
function csvScan(dir: string): AggregateScan {
  const file = join(dir, EMISSIONS_FILE_NAME);
  return (from, add) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { [EMISSIONS_FILE_NAME]: 0 };
      throw err;
    }
    const offset = from?.[EMISSIONS_FILE_NAME] ?? 0;
    // Read after the CSV's bytes: a writer writes a run's sidecar line before its row.
    const decoder = new RecordDecoder(file, readSidecar(sidecarFileOf(file), () => undefined));
    if (offset > 0) {
      // The header is the first record: parse up to the first line end (headers hold no newline).
      const headerText = bytes.toString('latin1', 0, bytes.indexOf(10) + 1);
      visitCsv(headerText, file, (r) => decoder.header(r.fields, r.line));
    }
    // latin1: one character per byte, so record offsets are byte offsets.
    const text = bytes.toString('latin1', offset);
    let end = 0;
    visitCsv(text, file, (r, i) => {
      end = r.next;
      if (decoder.plan === null && i === 0 && offset === 0) {
        decoder.header(r.fields, r.line);
        return;
      }
      add(decoder.record(r.fields, r.line));
    }, offset === 0 ? 1 : 2);
    return { [EMISSIONS_FILE_NAME]: offset + end };
  };
}

const SEED = runSeed();

describe('store aggregates over emissions.csv (end to end)', () => {
  it(`random appends, CodeCarbon rewrites, deletes, truncations and hand edits: the aggregates' statement is loadResults' statement (seed ${SEED})`, function () {
    this.timeout(120_000);
    const { dir, cleanup } = tempDir('let-aggregates-csv-');
    try {
      const random = rng(SEED);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const file = join(dir, EMISSIONS_FILE_NAME);
      let runs = 0;
      const newRecord = (): EmissionsRecord => {
        const energy = random() * 10 ** -Math.floor(random() * 5);
        return makeRecord({
          // Mostly a run_id of its own (as the tracker writes), sometimes the shared default one.
          ...(random() < 0.8 ? { run_id: `run-${++runs}` } : {}),
          project_name: pick(['demo', 'other', 'with, comma']),
          user: pick(['alice', 'bob']),
          hostname: pick(['node1', 'node2']),
          run_id: `00000000-0000-4000-8000-${String(Math.floor(random() * 1e12)).padStart(12, '0')}`,
          energy_consumed: energy,
          emissions: (energy * 380.95) / 1000,
          cpu_model: pick(['Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 'AMD EPYC 7742 64-Core Processor']),
          cpu_energy_method: pick(['measured:powercap', 'estimated:tdp-load-model']),
        });
      };
      appendRecord(newRecord(), dir);
      // Our appender extends aggregates that are up to date: the next reader has nothing to do.
      expect(updateAggregates(dir, { files: AGGREGATED_FILES, scan: storeScan(dir) }).change).to.equal('created');
      appendRecord({ ...newRecord(), run_id: 'first-extension' }, dir);
      expect(updateAggregates(dir, { files: AGGREGATED_FILES, scan: storeScan(dir) }).change).to.equal('unchanged');
      const seen = new Set<string>();
      let appendsExtended = 0;
      for (let step = 0; step < 60; step++) {
        const op = Math.floor(random() * 6);
        const label = `step ${step}, op ${op} (seed ${SEED}; replay with SUMMARY_SEED=${SEED})`;
        let before: Record<string, FileState | null> | undefined;
        // Aggregates that cover the sidecar (one entry per row) are extended by our appender itself.
        const regular = (readAggregates(dir)?.files[SIDECAR_FILE_NAME]?.covered ?? 0) > 0;
        switch (op) {
          case 0:
          case 1: {
            // Our writer: under the lock it would take the state, append, then update the aggregates.
            before = Object.fromEntries(AGGREGATED_FILES.map((n) => [n, fileState(join(dir, n))]));
            for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) appendRecord(newRecord(), dir);
            break;
          }
          case 2: {
            // CodeCarbon: reads the file, appends a row, writes everything back in its own layout.
            const rows = loadResults({ outputDir: dir });
            const cc = [...rows, newRecord()];
            writeFileSync(file, formatHeader(CODECARBON_COLUMNS) + cc.map((r) => formatRecordRow(r, CODECARBON_COLUMNS)).join(''));
            break;
          }
          case 3:
            if (statSync(file, { throwIfNoEntry: false }) !== undefined) deleteResults({ outputDir: dir, projectName: pick(['demo', 'other']) });
            break;
          case 4: {
            // Truncate to a record boundary (rows deleted by hand from the end).
            const text = readFileSync(file, 'utf8');
            const cut = text.lastIndexOf('\n', Math.floor(random() * text.length));
            if (cut > text.indexOf('\n')) writeFileSync(file, text.slice(0, cut + 1));
            break;
          }
          default: {
            // Hand edit of one field in place (a host renamed, same length).
            const text = readFileSync(file, 'utf8');
            const at = text.indexOf('node1', Math.floor(random() * text.length));
            if (at > 0) writeFileSync(file, text.slice(0, at) + 'node3' + text.slice(at + 5));
          }
        }
        const result = updateAggregates(dir, { files: AGGREGATED_FILES, scan: storeScan(dir), ...(before ? { before } : {}) });
        seen.add(result.change);
        // Our appender extends up-to-date aggregates itself (under its lock): nothing left to do here.
        if (before !== undefined && regular) {
          expect(result.change, `${label}: our append extended the aggregates`).to.equal('unchanged');
          appendsExtended++;
        }
        expect(result.notWritten, label).to.equal(undefined);
        if (result.change !== 'unchanged') expect(result.written, label).to.equal(true);
        const rows = loadResults({ outputDir: dir });
        expect(result.aggregates!.runs, label).to.equal(rows.length);
        const filters: GroupFilter[] = [{}, { projectName: 'demo' }, { projectName: 'with, comma', user: 'bob', hostname: 'node2' }, { hostname: 'node3' }];
        for (const filter of filters) {
          const matching = loadResults({ outputDir: dir, ...filter });
          const summary = result.aggregates!.select(filter);
          if (matching.length === 0) {
            expect(summary, `${label} ${JSON.stringify(filter)}`).to.equal(null);
            continue;
          }
          const fromAggregates = attempt(() => statementFromSummary(summary!, { format: 'json', comparison: true }));
          const fromRows = attempt(() => statementFromRecords(matching, { format: 'json', comparison: true }));
          expect(JSON.stringify(fromAggregates), `${label} ${JSON.stringify(filter)}`).to.equal(JSON.stringify(fromRows));
        }
      }
      expect([...seen], `changes seen (seed ${SEED})`).to.include.members(['unchanged', 'rewritten']);
      console.log(`      ${appendsExtended} appends extended the aggregates themselves`);
    } finally {
      cleanup();
    }
  });
});
