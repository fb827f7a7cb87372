/**
 * The merge join (main file and sidecar read forward together, no index) against the index join
 * it replaces: random stores mixing our rows, CodeCarbon's rows, runs stored several times,
 * missing, orphan, out-of-order and unusable sidecar lines must give every row the same entry.
 */
import { expect } from 'chai';
import { closeSync, openSync, fstatSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAll } from '../../lib/store/chunks.js';
import { RecordDecoder } from '../../lib/store/decoder.js';
import { CODECARBON_COLUMNS, formatHeader, formatRecordRow, loadResults, streamResults } from '../../lib/store/index.js';
import type { EmissionsRecord, LoadedRecord, StoreWarning } from '../../lib/store/index.js';
import { readCsvFile } from '../../lib/store/reader.js';
import { readSidecar, readSidecarFrom, sidecarLine } from '../../lib/store/sidecar.js';
import { storeScan } from '../../lib/store/aggregate-scan.js';
import { forEachResult } from '../../lib/store/query.js';
import { MergeJoin } from '../../lib/store/sidecar-join.js';
import { makeRecord, tempDir } from './helpers.js';
import { mulberry32 } from '../helpers/random.js';

const random = mulberry32;

interface Store {
  csv: string;
  sidecar: string;
  /** Whether the sidecar is in row order with one entry per row of ours (no fallback expected). */
  inOrder: boolean;
}

/** Our fields of one entry, varied (some keys missing, numbers as JSON numbers, null or strings). */
function ourFields(rand: () => number, n: number): Partial<EmissionsRecord> {
  return {
    hostname: `host-${n % 3}`,
    user: rand() < 0.5 ? 'alice' : 'bob',
    tracker_version: '0.2.0',
    run_status: (['completed', 'failed', 'killed'] as const)[n % 3],
    carbon_intensity: rand() < 0.2 ? null : 300 + n,
    wall_energy: rand() < 0.5 ? null : n / 1000,
    wall_energy_method: rand() < 0.5 ? '' : 'measured:tasmota',
  };
}

/**
 * One random store: CSV text and sidecar text, written the way each writer would. A regular
 * store has only our rows (one entry each, in order) and CodeCarbon's rows under their own ids.
 */
function randomStore(rand: () => number, regular: boolean): Store {
  const rows: string[] = [];
  const lines: string[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => `${x}0000000-0000-4000-8000-00000000000${x.charCodeAt(0) % 10}`);
  let inOrder = true;
  const count = 1 + Math.floor(rand() * 25);
  for (let n = 0; n < count; n++) {
    const kind = regular ? rand() * 0.75 : rand();
    const runId = regular || rand() < 0.6 ? `${n}-unique-${Math.floor(rand() * 1e9)}` : pick(ids);
    const record = makeRecord({ run_id: runId, timestamp: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}`, duration: n, ...ourFields(rand, n) });
    const row = formatRecordRow(record, CODECARBON_COLUMNS);
    if (kind < 0.5) {
      // Ours: the sidecar line, then the row.
      let line = sidecarLine(record);
      if (rand() < 0.1) line = line.replace(/,"wall_energy_method":"[^"]*"/, ''); // written before the field existed
      if (rand() < 0.05) line = line.replace('"carbon_intensity":', '"carbon_intensity": '); // other spacing
      lines.push(line);
      rows.push(row);
    } else if (kind < 0.75) {
      rows.push(row); // CodeCarbon's (or a hand-added) row: no entry
      if (ids.includes(runId)) inOrder = false; // may share a run_id that has entries
    } else if (kind < 0.82) {
      lines.push(sidecarLine(record)); // an entry whose row was never written
      inOrder = false;
    } else if (kind < 0.88) {
      lines.push(sidecarLine(record)); // our row, then stored again (a copy of the row, no new entry)
      rows.push(row, row);
      inOrder = false;
    } else if (kind < 0.93) {
      lines.push(pick(['not json\n', '{"run_id":""}\n', '{"run_id":"x","user":5}\n', '\n', '{"run_id":"y","wall_energy":"many"}\n']));
      if (rand() < 0.5) inOrder = false; // a skipped line is harmless unless it was a row's entry
      else rows.push(row); // its row (if any) is then a row without entry
      inOrder = false;
    } else {
      // Ours, with its entry written out of order (after the next one).
      lines.push(sidecarLine(record));
      rows.push(row);
      if (lines.length >= 2) {
        const last = lines.length - 1;
        [lines[last - 1], lines[last]] = [lines[last] as string, lines[last - 1] as string];
        inOrder = false;
      }
    }
  }
  if (rand() < 0.2) lines.push('{"run_id":"torn-'); // a writer killed mid-line
  return { csv: formatHeader(CODECARBON_COLUMNS) + rows.join(''), sidecar: lines.join(''), inOrder };
}

/** The records as the index join gives them (the reference). */
function byIndex(dir: string): LoadedRecord[] {
  const index = readSidecar(join(dir, 'emissions.let.jsonl'), () => undefined);
  return readCsvFile(join(dir, 'emissions.csv'), index)?.rows ?? [];
}

/** The records through a MergeJoin directly, and whether it fell back to the index. */
function byMerge(dir: string): { rows: LoadedRecord[]; fellBack: boolean } {
  const file = join(dir, 'emissions.csv');
  const sideFile = join(dir, 'emissions.let.jsonl');
  const fd = openSync(file, 'r');
  const side = openSync(sideFile, 'r');
  try {
    const merge = new MergeJoin({ fd: side, size: fstatSync(side).size, file: sideFile, onProblem: () => undefined });
    const { rows } = decodeAll(fd, fstatSync(fd).size, new RecordDecoder(file, merge), 1 + Math.floor(Math.random() * 200));
    return { rows, fellBack: merge.fellBack };
  } finally {
    closeSync(fd);
    closeSync(side);
  }
}

describe('store: the sidecar merge join', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('gives every row the entry the index gives it, in random stores (600 cases)', async () => {
    let fellBack = 0;
    let inOrder = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const store = randomStore(random(seed), seed % 2 === 0);
      writeFileSync(join(dir, 'emissions.csv'), store.csv);
      writeFileSync(join(dir, 'emissions.let.jsonl'), store.sidecar);
      const expected = byIndex(dir);
      const merged = byMerge(dir);
      expect(merged.rows, `seed ${seed}`).to.deep.equal(expected);
      if (store.inOrder) {
        inOrder++;
        expect(merged.fellBack, `seed ${seed}: in order, no fallback`).to.equal(false);
      }
      if (merged.fellBack) fellBack++;
      // The public paths take the merge join (no backups here) and report the same lines.
      const warned: StoreWarning[] = [];
      expect(loadResults({ outputDir: dir }, { onWarning: (w) => warned.push(w) }), `seed ${seed}: loadResults`).to.deep.equal(expected);
      const streamed: LoadedRecord[] = [];
      const streamWarned: StoreWarning[] = [];
      for await (const r of streamResults({ outputDir: dir }, { chunkSize: 97, onWarning: (w) => streamWarned.push(w) })) streamed.push(r);
      expect(streamed, `seed ${seed}: streamResults`).to.deep.equal(expected);
      const visited: LoadedRecord[] = [];
      forEachResult({ outputDir: dir }, (r) => visited.push(r), { onWarning: () => undefined });
      expect(visited, `seed ${seed}: forEachResult`).to.deep.equal(expected);
      const reference: number[] = [];
      readSidecar(join(dir, 'emissions.let.jsonl'), (p) => reference.push(p.line));
      expect(warned.filter((w) => w.code === 'LET_SIDECAR_BAD_LINE').map((w) => w.line), `seed ${seed}: warnings`).to.deep.equal(reference);
      expect(streamWarned.filter((w) => w.code === 'LET_SIDECAR_BAD_LINE').map((w) => w.line), `seed ${seed}: stream warnings`).to.deep.equal(reference);
    }
    // Both paths were exercised.
    expect(inOrder).to.be.greaterThan(250);
    expect(fellBack).to.be.greaterThan(100);
  });

  it("the aggregates' full scan: the same rows, and the sidecar covered exactly when every run has one entry per row (600 cases)", () => {
    const counts = { covered: 0, notCovered: 0, fellBack: 0, coveredAfterFallback: 0 };
    for (let seed = 1; seed <= 600; seed++) {
      const store = randomStore(random(seed), seed % 2 === 0);
      const sideFile = join(dir, 'emissions.let.jsonl');
      writeFileSync(join(dir, 'emissions.csv'), store.csv);
      writeFileSync(sideFile, store.sidecar);
      // The rule as the index states it: every run with entries has exactly as many rows.
      const expected = byIndex(dir);
      const index = readSidecar(sideFile, () => undefined);
      const rowsOf = new Map<string, number>();
      for (const r of expected) rowsOf.set(r.run_id, (rowsOf.get(r.run_id) ?? 0) + 1);
      const regular = [...index].every(([runId, entries]) => (rowsOf.get(runId) ?? 0) === entries.length);
      const whole = readSidecarFrom(sideFile, 0, () => undefined).end;
      const added: LoadedRecord[] = [];
      const covered = storeScan(dir)(null, (r) => added.push(r as LoadedRecord));
      expect(added, `seed ${seed}: rows`).to.deep.equal(expected);
      expect(covered, `seed ${seed}: covered`).to.deep.equal({ 'emissions.csv': Buffer.byteLength(store.csv), 'emissions.let.jsonl': regular ? whole : 0 });
      const merged = byMerge(dir);
      if (regular) counts.covered++;
      else counts.notCovered++;
      if (merged.fellBack) {
        counts.fellBack++;
        if (regular) counts.coveredAfterFallback++;
      }
    }
    // Every branch was taken: covered and not, after a merge to the end and after a fallback.
    expect(counts.covered).to.be.greaterThan(250);
    expect(counts.notCovered).to.be.greaterThan(50);
    expect(counts.coveredAfterFallback).to.be.greaterThan(5);
  });

  it('joins a large store of ours written in order without falling back (no index held)', () => {
    const rand = random(7);
    const records = Array.from({ length: 3000 }, (_, n) => makeRecord({ run_id: `run-${n}`, duration: n, ...ourFields(rand, n) }));
    // A few CodeCarbon rows between ours: their run_ids are in no entry.
    const rows = records.map((r, n) => formatRecordRow(r, CODECARBON_COLUMNS) + (n % 500 === 0 ? formatRecordRow(makeRecord({ run_id: `cc-${n}` }), CODECARBON_COLUMNS) : ''));
    writeFileSync(join(dir, 'emissions.csv'), formatHeader(CODECARBON_COLUMNS) + rows.join(''));
    writeFileSync(join(dir, 'emissions.let.jsonl'), records.map(sidecarLine).join(''));
    const merged = byMerge(dir);
    expect(merged.fellBack).to.equal(false);
    expect(merged.rows).to.deep.equal(byIndex(dir));
    expect(merged.rows.filter((r) => r.written_by === 'lamarr-energy-tracker')).to.have.length(3000);
  });

  it('a stream stopped early closes the sidecar as well as the main file', async () => {
    const records = Array.from({ length: 50 }, (_, n) => makeRecord({ run_id: `run-${n}` }));
    writeFileSync(join(dir, 'emissions.csv'), formatHeader(CODECARBON_COLUMNS) + records.map((r) => formatRecordRow(r, CODECARBON_COLUMNS)).join(''));
    writeFileSync(join(dir, 'emissions.let.jsonl'), records.map(sidecarLine).join(''));
    const open = (): string[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(dir) ? [target] : [];
        } catch {
          return []; // closed meanwhile (the listing's own descriptor)
        }
      });
    let seen = 0;
    for await (const r of streamResults({ outputDir: dir }, { chunkSize: 64 })) {
      expect(r.tracker_version).to.equal('0.1.0');
      expect(open().sort()).to.deep.equal([join(dir, 'emissions.csv'), join(dir, 'emissions.let.jsonl')]);
      if (++seen === 3) break;
    }
    expect(open()).to.deep.equal([]);
  });

  it('a malformed main file still reports every unusable sidecar line before its error', () => {
    const records = Array.from({ length: 5 }, (_, n) => makeRecord({ run_id: `run-${n}` }));
    const rows = records.map((r) => formatRecordRow(r, CODECARBON_COLUMNS));
    rows[1] = rows[1]!.replace(',Germany,', ',Germany,extra,'); // one field too many on line 3
    writeFileSync(join(dir, 'emissions.csv'), formatHeader(CODECARBON_COLUMNS) + rows.join(''));
    writeFileSync(join(dir, 'emissions.let.jsonl'), `${records.map(sidecarLine).join('')}not json\n`);
    const warned: StoreWarning[] = [];
    expect(() => loadResults({ outputDir: dir }, { onWarning: (w) => warned.push(w) })).to.throw(/:3: expected 38 fields/);
    expect(warned.map((w) => [w.code, w.line])).to.deep.equal([['LET_SIDECAR_BAD_LINE', 6]]);
  });
});
