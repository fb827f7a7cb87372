/** Queries: loadResults, forEachResult and streamResults over `emissions.csv`, its backups and the sidecar (deleteResults: delete.ts). */
import { closeSync, statSync } from 'node:fs';
import { decodeAll, decodeChunks } from './chunks.js';
import type { Stats } from 'node:fs';
import { StoreError } from './csv.js';
import type { TornTail } from './csv.js';
import { RecordDecoder } from './decoder.js';
import { openForRead } from './files.js';
import { checkFilters, matches } from './filters.js';
import { recoverKilledRunsQuietly } from './inflight.js';
import { withLock } from './lock.js';
import type { LockOptions } from './lock.js';
import { emissionsFile, sidecarFileOf } from './paths.js';
import { backupsWarning, dedupeNewestFirst, listBackups, loadSidecar, readCsvFile, sidecarProblemReporter, tornWarning } from './reader.js';
import type { Backup, ReadFile } from './reader.js';
import type { LoadedRecord, ResultFilters } from './schema.js';
import type { SidecarIndex } from './sidecar.js';
import { MergeJoin } from './sidecar-join.js';
import { report } from './warnings.js';
import { rejectUnknownOptions } from '../options-check.js';
import type { WarningOptions } from './warnings.js';

/**
 * Read CodeCarbon's backups (newest first): a torn last line is reported; a backup that cannot
 * be read (malformed, not a regular file) is reported and skipped, so a broken file CodeCarbon
 * moved aside does not block every query.
 */
function readBackups(backups: readonly Backup[], sidecar: SidecarIndex, options: WarningOptions): ReadFile[] {
  const reads: ReadFile[] = [];
  for (const b of backups) {
    try {
      const read = readCsvFile(b.file, sidecar);
      if (!read) continue;
      if (read.torn) report(tornWarning(read.file, read.torn, read.rows.length), options);
      reads.push(read);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      report({ code: 'LET_BACKUP_SKIPPED', file: b.file, line: err.line, message: `${err.message} (a backup CodeCarbon moved aside: skipped; fix or remove it)` }, options);
    }
  }
  return reads;
}

/** The backups notice: which backups gave how many rows. */
function reportBackups(file: string, reads: readonly ReadFile[], kept: readonly (readonly LoadedRecord[])[], options: WarningOptions): void {
  if (reads.length > 0) report(backupsWarning(file, reads.map((r, i) => ({ file: r.file, rows: (kept[i] as LoadedRecord[]).length }))), options);
}

/** Options of {@link loadResults}. */
export interface LoadOptions extends LockOptions, WarningOptions {}

/** The filters every query takes (ResultFilters). */
const FILTER_KEYS = ['outputDir', 'projectName', 'user', 'hostname', 'since', 'until'] as const;
/** The options of loadResults and deleteResults (lock and warning options). */
export const LOAD_OPTION_KEYS = ['lockTimeoutMs', 'lockStaleMs', 'lockMethod', 'onWarning'] as const;

/** A mistyped filter or option is an error (as in `new EnergyTracker()`), never silently ignored. */
export function checkQueryOptions(where: string, filters: unknown, options: unknown, optionKeys: readonly string[]): void {
  rejectUnknownOptions(`${where} filters`, filters, FILTER_KEYS);
  rejectUnknownOptions(where, options, optionKeys);
}

function isLockBusy(err: unknown): boolean {
  return err instanceof StoreError && (err.code === 'LET_LOCK_FAILED' || err.code === 'LET_LOCK_TIMEOUT');
}

/** The main file's records (a torn last record apart). */
interface MainFile {
  file: string;
  rows: LoadedRecord[];
  torn: TornTail | null;
}

/**
 * Decode the main file (open, up to its size when opened) joined with the sidecar read forward
 * at the same time (opened after the main file's size was taken: a writer writes a run's
 * sidecar line before its row, so every row read has its line). Unusable sidecar lines are
 * reported as they are passed, the rest after the last row (or before a malformed row's error
 * is thrown; not when a stream is stopped early). `onRecord` gets each record.
 */
export function decodeMerged(
  file: string,
  opened: { fd: number; stats: Stats },
  chunkSize: number,
  options: WarningOptions,
  onRecord: (r: LoadedRecord) => void,
): Generator<void, TornTail | null, undefined> {
  const sideFile = sidecarFileOf(file);
  const side = openForRead(sideFile);
  const join = side ? new MergeJoin({ fd: side.fd, size: side.stats.size, file: sideFile, onProblem: sidecarProblemReporter(options) }) : null;
  return (function* () {
    try {
      const torn = yield* decodeChunks(opened.fd, opened.stats.size, new RecordDecoder(file, join), chunkSize, onRecord);
      join?.finish();
      return torn;
    } catch (err) {
      // A malformed main file: the sidecar's unusable lines are still all reported, first.
      try {
        join?.finish();
      } catch {
        // The error about the main file is the one that matters.
      }
      throw err;
    } finally {
      if (side) closeSync(side.fd);
    }
  })();
}

/**
 * The main file's records. Without backups, the sidecar is merged in as the file is read (no
 * index held) and null is returned for the index; with backups (which the index serves too),
 * the index is read first, after the main file's size was taken.
 */
function readMainOnce(file: string, options: LoadOptions, withIndex: boolean): { main: MainFile | null; sidecar: SidecarIndex | null } {
  const opened = openForRead(file);
  try {
    if (opened && !withIndex) {
      const rows: LoadedRecord[] = [];
      // 64 KiB parts: their text dies young (see sidecar-cursor.ts).
      const parts = decodeMerged(file, opened, 1 << 16, options, (r) => rows.push(r));
      for (;;) {
        const step = parts.next();
        if (step.done) return { main: { file, rows, torn: step.value }, sidecar: null };
      }
    }
    const sidecar = loadSidecar(file, options);
    if (!opened) return { main: null, sidecar };
    const { rows, torn } = decodeAll(opened.fd, opened.stats.size, new RecordDecoder(file, sidecar));
    return { main: { file, rows, torn }, sidecar };
  } finally {
    if (opened) closeSync(opened.fd);
  }
}

/** Read the main file; a torn last line is read again under the lock (a writer may be mid-append). */
function readMain(file: string, options: LoadOptions, withIndex: boolean): { main: MainFile | null; sidecar: SidecarIndex | null } {
  const first = readMainOnce(file, options, withIndex);
  if (!first.main?.torn) return first;
  try {
    return withLock(file, () => readMainOnce(file, { ...options, onWarning: () => undefined }, withIndex), { ...options, lockTimeoutMs: options.lockTimeoutMs ?? 5000 });
  } catch (err) {
    // Cannot lock (read-only directory, busy writer): keep the first reading.
    if (!isLockBusy(err)) throw err;
    return first;
  }
}

/**
 * Read `<outputDir>/emissions.csv` (ours, CodeCarbon's in any of its layouts, or the Python
 * package's) and the backups CodeCarbon moved aside beside it, synchronously, and return the
 * matching rows as typed records: the main file's rows in file order, then the backups' rows
 * (newest backup first) whose run_id is in no newer file.
 *
 * - Our own fields come from the sidecar `emissions.let.jsonl` (joined by run_id; the last
 *   entry of a run wins; entries of runs in no file are ignored), else from the CSV's own
 *   columns (0.1.0 files), else `''` / `null`.
 * - Project, user and host come from our fields, else from the `experiment_id` triple
 *   `<project>___<user>___<hostname>` (user and host taken from the end, so a project may
 *   contain `___`), else from CodeCarbon's `project_name` (user and host empty).
 * - Unquoted fields are trimmed (space-padded files); missing columns read as `''` or `null`;
 *   numbers as numbers (empty → null). Rows sharing a `run_id` within one file (CodeCarbon's
 *   periodic flushes) are all returned, each with its own `source_line`.
 * - Filters: `projectName`, `user`, `hostname` by equality after trimming; `since` (inclusive)
 *   and `until` (exclusive) on the timestamp, read as local time unless it names a zone. Rows
 *   with an empty timestamp do not match a time filter.
 * - Reported through `options.onWarning` or `process.emitWarning`: a torn last line (the
 *   complete rows are returned), rows read from backups (`LET_BACKUPS_READ`, naming them and
 *   suggesting `repair`), a backup that cannot be read (`LET_BACKUP_SKIPPED`: skipped, so a
 *   broken file CodeCarbon moved aside does not block every query), unusable sidecar lines.
 * - A missing file gives `[]`. Lines ending in CR only (old Mac) are read as lines.
 *
 * @throws {@link StoreError} naming the file, the line and the problem, for a malformed main file
 *   (wrong field count, unterminated quote not on the last line, a non-number in a numeric
 *   column, no header, a bad timestamp when filtering by time), or one that is not a regular
 *   file (a FIFO is refused without blocking). The files are not changed.
 */
export function loadResults(filters?: ResultFilters, options: LoadOptions = {}): LoadedRecord[] {
  checkQueryOptions('loadResults', filters, options, LOAD_OPTION_KEYS);
  const f = checkFilters(filters);
  recoverKilledRunsQuietly(f.outputDir); // runs killed without stopping become rows first
  const file = emissionsFile(f.outputDir);
  const backups = listBackups(file).reverse();
  const { main, sidecar } = readMain(file, options, backups.length > 0);
  if (main?.torn) report(tornWarning(main.file, main.torn, main.rows.length), options);
  const reads = sidecar ? readBackups(backups, sidecar, options) : [];
  const kept = dedupeNewestFirst([main?.rows ?? [], ...reads.map((r) => r.rows)]);
  reportBackups(file, reads, kept.slice(1), options);
  const rows = kept.length === 1 ? (kept[0] as LoadedRecord[]) : kept.flat();
  return f.selective ? rows.filter((r) => matches(r, f)) : rows;
}

/**
 * Visit the records {@link loadResults} returns, in its order, without holding them: without
 * backups the main file is read a part at a time with the sidecar alongside (memory does not
 * grow with the store); with backups, loadResults' array is visited. A torn last line is
 * reported unless the lock shows a writer was appending it (the records are those of the file
 * as it was opened). For counting and for collecting a few fields of a large store synchronously.
 */
export function forEachResult(filters: ResultFilters | undefined, visit: (record: LoadedRecord) => void, options: LoadOptions = {}): void {
  checkQueryOptions('forEachResult', filters, options, LOAD_OPTION_KEYS);
  const f = checkFilters(filters);
  const file = emissionsFile(f.outputDir);
  if (listBackups(file).length > 0) {
    for (const r of loadResults(filters, options)) visit(r);
    return;
  }
  recoverKilledRunsQuietly(f.outputDir); // runs killed without stopping become rows first
  const opened = openForRead(file);
  if (!opened) return;
  try {
    let complete = 0;
    const parts = decodeMerged(file, opened, 1 << 20, options, (r) => {
      complete++;
      if (!f.selective || matches(r, f)) visit(r);
    });
    for (;;) {
      const step = parts.next();
      if (!step.done) continue;
      if (step.value && stillTorn(file, opened.stats.size, options)) report(tornWarning(file, step.value, complete), options);
      return;
    }
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Whether a file read up to `size` with a torn last line still ends there once the lock is
 * taken: a writer holds the lock while it appends, so a line it was writing is complete by then
 * (the file grew) and is not reported.
 */
function stillTorn(file: string, size: number, options: LoadOptions): boolean {
  try {
    return withLock(file, () => statSync(file).size === size, { ...options, lockTimeoutMs: options.lockTimeoutMs ?? 5000 });
  } catch {
    return true; // no lock to be had (busy, read-only directory) or the file gone: as found
  }
}

/** Options of {@link streamResults}. */
export interface StreamOptions extends LoadOptions {
  /** Bytes read at a time (default 1 MiB). */
  chunkSize?: number;
}

/**
 * Yield the typed records of the main file, read piece by piece up to its size when opened,
 * joined with the sidecar index, or (null) with the sidecar read forward alongside.
 */
async function* streamFile(
  file: string,
  opened: { fd: number; stats: Stats },
  sidecar: SidecarIndex | null,
  chunkSize: number,
  out: { torn: TornTail | null; complete: number },
  options: WarningOptions,
): AsyncGenerator<LoadedRecord, void, undefined> {
  const batch: LoadedRecord[] = [];
  let parts: Generator<void, TornTail | null, undefined> | null = null;
  try {
    const push = (r: LoadedRecord): void => {
      batch.push(r);
    };
    parts = sidecar
      ? decodeChunks(opened.fd, opened.stats.size, new RecordDecoder(file, sidecar), chunkSize, push)
      : decodeMerged(file, opened, chunkSize, options, push);
    for (;;) {
      const step = parts.next();
      out.complete += batch.length;
      yield* batch.splice(0, batch.length);
      if (step.done) {
        out.torn = step.value;
        return;
      }
      // Let other work run between parts.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    parts?.return(null); // a consumer that stops early: the sidecar is closed too
    closeSync(opened.fd);
  }
}

/**
 * Like {@link loadResults}, but reads the files piece by piece and yields the matching records
 * one at a time, so memory stays bounded for very large files: the sidecar is read alongside
 * (rows stored in the order of their sidecar entries, as our appender writes them, need no
 * index; see `sidecar-join.ts`); when backups exist, the sidecar index and the run_ids seen are held. Same order, parsing, filters, warnings and errors (a
 * malformed line throws when it is reached; the rows before it have been yielded). It takes no
 * lock: a torn last line is reported as found.
 */
export async function* streamResults(filters?: ResultFilters, options: StreamOptions = {}): AsyncGenerator<LoadedRecord, void, undefined> {
  checkQueryOptions('streamResults', filters, options, [...LOAD_OPTION_KEYS, 'chunkSize']);
  const f = checkFilters(filters);
  recoverKilledRunsQuietly(f.outputDir); // runs killed without stopping become rows first
  const file = emissionsFile(f.outputDir);
  const chunkSize = options.chunkSize ?? 1 << 20;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
  const main = openForRead(file);
  const backups = listBackups(file).reverse();
  // Without backups the main file is merged with the sidecar as both are read (no index held).
  let sidecar: SidecarIndex | null = null;
  try {
    if (backups.length > 0 || !main) sidecar = loadSidecar(file, options);
  } catch (err) {
    if (main) closeSync(main.fd);
    throw err;
  }
  const state = { torn: null as TornTail | null, complete: 0 };
  const seen = new Set<string>();
  if (main) {
    for await (const rec of streamFile(file, main, sidecar, chunkSize, state, options)) {
      if (backups.length > 0 && rec.run_id !== '') seen.add(rec.run_id);
      if (!f.selective || matches(rec, f)) yield rec;
    }
  }
  if (state.torn) report(tornWarning(file, state.torn, state.complete), options);
  // Backups (CodeCarbon's files, small) are read whole, as loadResults reads them.
  const reads = sidecar ? readBackups(backups, sidecar, options) : [];
  const kept = dedupeNewestFirst(reads.map((r) => r.rows), seen);
  for (const rows of kept) for (const rec of rows) if (!f.selective || matches(rec, f)) yield rec;
  reportBackups(file, reads, kept, options);
}
