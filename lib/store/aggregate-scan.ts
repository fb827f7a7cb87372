/**
 * The store's side of the aggregates (lib/store/aggregates.ts): the scan that decodes rows from
 * where the aggregates stopped, with the store's own decoder and the sidecar joined exactly as
 * {@link loadResults} joins it, and {@link storeAggregates}, the aggregates of one store brought
 * up to date.
 *
 * Files covered: `emissions.csv` and `emissions.let.jsonl` (the rows and our fields). Backups
 * CodeCarbon moved aside (`emissions.csv.bak`, `emissions.csv_N.bak`) also change what
 * loadResults returns (their rows, deduplicated by run_id); they are NOT covered: while any
 * exists, {@link storeAggregates} returns null and callers take the rows path (loadResults).
 * `repair` merges them into the main file, after which the aggregates apply again.
 *
 * An incremental scan decodes only the bytes appended since the last one: the CSV from its
 * covered end (the header read again for the column plan) and the sidecar's new lines. A run's
 * sidecar entries go to its rows in order; that join is only certain from new bytes alone when
 * every run in the new rows has exactly as many new entries as new rows (what our appender
 * writes) and every run had one entry per row before (checked by the full scan: where not, it
 * records the sidecar as uncovered, and every later update rebuilds: slow, but right).
 * Otherwise, or on any error in the new bytes, the aggregates are rebuilt from scratch (so an
 * error names the file's real line, as loadResults' would).
 */
import { closeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StatementAggregates } from '../statement/groups.js';
import { RescanNeeded, updateAggregates, type AggregateScan, type FileState } from './aggregates.js';
import { decodeChunks } from './chunks.js';
import { StoreError, visitCsv } from './csv.js';
import { RecordDecoder } from './decoder.js';
import { openForRead, readRange } from './files.js';
import { recoverKilledRunsQuietly } from './inflight.js';
import { EMISSIONS_FILE_NAME, SIDECAR_FILE_NAME, emissionsFile } from './paths.js';
import { listBackups } from './reader.js';
import { readSidecarFrom, wholeLines } from './sidecar.js';
import { MergeJoin } from './sidecar-join.js';
import type { LoadedRecord } from './schema.js';

/** The store files the aggregates are computed from (and fingerprinted). */
export const AGGREGATED_FILES: readonly string[] = [EMISSIONS_FILE_NAME, SIDECAR_FILE_NAME];


const quiet = (): void => undefined;

/** Run a decoding generator to its end; returns the torn last record's length in bytes (0 if none). */
function drain(parts: Generator<void, { text: string } | null, undefined>): number {
  for (;;) {
    const step = parts.next();
    if (step.done) return step.value?.text.length ?? 0;
  }
}

/** The header's column plan for a decoder, read from the file's first line. */
function readHeaderInto(fd: number, size: number, decoder: RecordDecoder): void {
  const head = readRange(fd, 0, Math.min(size, 1 << 16));
  const nl = head.indexOf(10);
  // No line end in reach, or old Mac line ends: leave it to a full scan.
  if (nl < 0 || head.subarray(0, nl).includes(13) && head[nl - 1] !== 13) throw new RescanNeeded('header');
  visitCsv(head.toString('latin1', 0, nl + 1), decoder.file, (r) => decoder.header(r.fields, r.line));
  if (decoder.plan === null) throw new RescanNeeded('header');
}

/** The sidecar's offset after its last whole line (0 when there is none). */
function sidecarEnd(sideFile: string): number {
  const side = openForRead(sideFile);
  if (!side) return 0;
  try {
    let end = 0;
    for (const lines of wholeLines(side.fd, 0, side.stats.size)) end += lines.length;
    return end;
  } finally {
    closeSync(side.fd);
  }
}

/**
 * The scan from the first row: the main file (open, up to its size when opened) merge-joined
 * with the sidecar read forward (opened after the main file's size was taken: a writer writes a
 * run's sidecar line before its row, so every row read has its line), as loadResults reads a
 * store without backups: memory does not grow with the store.
 *
 * A run whose entries are not one per row (rows removed while their entries stayed, a crash
 * between the two writes, an entry whose row is not written yet): later rows of it cannot be
 * joined from new bytes alone, so the sidecar is recorded as not covered (0) and every later
 * update rebuilds.
 */
function fullScan(csvFile: string, opened: { fd: number; stats: Stats }, sideFile: string, add: (record: LoadedRecord) => void): Record<string, number> {
  const side = openForRead(sideFile);
  try {
    const join = side ? new MergeJoin({ fd: side.fd, size: side.stats.size, file: sideFile, onProblem: quiet }, true) : null;
    const torn = drain(decodeChunks(opened.fd, opened.stats.size, new RecordDecoder(csvFile, join), 1 << 20, add));
    join?.finish();
    const covered = join === null ? 0 : join.oneEntryPerRow() ? join.end : 0;
    return { [EMISSIONS_FILE_NAME]: opened.stats.size - torn, [SIDECAR_FILE_NAME]: covered };
  } finally {
    if (side) closeSync(side.fd);
  }
}

/**
 * The store's {@link AggregateScan} for the store in `dir`: the records loadResults would
 * return from the main file (its torn last record apart), in file order.
 */
export function storeScan(dir: string): AggregateScan {
  const csvFile = join(dir, EMISSIONS_FILE_NAME);
  const sideFile = join(dir, SIDECAR_FILE_NAME);
  return (from, add) => {
    const csvFrom = from?.[EMISSIONS_FILE_NAME] ?? 0;
    const incremental = csvFrom > 0;
    // The CSV's size is taken before the sidecar is read: a writer writes a run's sidecar line
    // before its row, so every row read has its line.
    const opened = openForRead(csvFile);
    try {
      if (!incremental) return opened ? fullScan(csvFile, opened, sideFile, add) : { [EMISSIONS_FILE_NAME]: 0, [SIDECAR_FILE_NAME]: sidecarEnd(sideFile) };
      const side = readSidecarFrom(sideFile, from?.[SIDECAR_FILE_NAME] ?? 0, quiet);
      if (!opened) return { [EMISSIONS_FILE_NAME]: 0, [SIDECAR_FILE_NAME]: side.end };
      const size = opened.stats.size;
      const decoder = new RecordDecoder(csvFile, side.index);
      if ((from?.[SIDECAR_FILE_NAME] ?? 0) === 0) throw new RescanNeeded('the sidecar is not one entry per row');
      readHeaderInto(opened.fd, size, decoder);
      const rows: Parameters<typeof add>[0][] = [];
      const perRun = new Map<string, number>();
      let torn: number;
      try {
        torn = drain(
          decodeChunks(opened.fd, size, decoder, 1 << 20, (record) => {
            rows.push(record);
            perRun.set(record.run_id, (perRun.get(record.run_id) ?? 0) + 1);
          }, csvFrom),
        );
      } catch (err) {
        if (err instanceof StoreError) throw new RescanNeeded(err.message);
        throw err;
      }
      for (const [runId, count] of perRun) {
        if ((side.index.get(runId)?.length ?? 0) !== count) throw new RescanNeeded(`run ${runId}: rows and sidecar entries differ`);
      }
      for (const record of rows) add(record);
      return { [EMISSIONS_FILE_NAME]: size - torn, [SIDECAR_FILE_NAME]: side.end };
    } finally {
      if (opened) closeSync(opened.fd);
    }
  };
}

/** Options of {@link storeAggregates}. */
export interface StoreAggregatesOptions {
  /** The files' states right before the caller's own append (see `updateAggregates`). */
  before?: Readonly<Record<string, FileState | null>>;
  /** false: only extend aggregates that are up to date (an appender's cheap path). */
  rebuild?: boolean;
}

/**
 * The aggregates of the store in `outputDir`, brought up to date (and saved beside it), or null
 * when they cannot stand for loadResults: backups exist beside the main file, or `rebuild` is
 * false and a rebuild is needed. Runs killed without stopping become rows first, as in loadResults.
 * @throws {@link StoreError} for a malformed main file, as loadResults.
 */
export function storeAggregates(outputDir?: string, options: StoreAggregatesOptions = {}): StatementAggregates | null {
  const file = emissionsFile(outputDir);
  const dir = dirname(file);
  if (options.rebuild !== false) recoverKilledRunsQuietly(outputDir);
  if (listBackups(file).length > 0) return null;
  return updateAggregates(dir, { files: AGGREGATED_FILES, scan: storeScan(dir), ...options }).aggregates;
}
