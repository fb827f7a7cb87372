/** Queries: loadResults, streamResults and deleteResults over `emissions.csv`, its backups and the sidecar. */
import { isAscii } from 'node:buffer';
import { closeSync, createReadStream, unlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from './csv.js';
import type { TornTail } from './csv.js';
import { RecordDecoder, decodeText } from './decoder.js';
import { atomicReplace, moveTailAside, openForRead, openForWrite } from './files.js';
import { checkFilters, matches } from './filters.js';
import { withLock } from './lock.js';
import type { LockOptions } from './lock.js';
import { emissionsFile, sidecarFileOf } from './paths.js';
import { backupsWarning, decodeCsv, dedupeNewestFirst, listBackups, loadSidecar, readCsvBytes, readCsvFile, tornWarning } from './reader.js';
import type { Backup, ReadFile } from './reader.js';
import type { LoadedRecord, ResultFilters } from './schema.js';
import { dropSidecarEntries } from './sidecar.js';
import type { SidecarIndex } from './sidecar.js';
import type { StoreOptions } from './append.js';
import { checkDirectory, report } from './warnings.js';
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

function isLockBusy(err: unknown): boolean {
  return err instanceof StoreError && (err.code === 'LET_LOCK_FAILED' || err.code === 'LET_LOCK_TIMEOUT');
}

/** The main file's bytes, then the sidecar (a writer writes a run's sidecar line before its row). */
function readMainOnce(file: string, options: LoadOptions): { main: ReadFile | null; sidecar: SidecarIndex } {
  const buf = readCsvBytes(file);
  const sidecar = loadSidecar(file, options);
  return { main: buf === null ? null : decodeCsv(file, buf, sidecar), sidecar };
}

/** Read the main file; a torn last line is read again under the lock (a writer may be mid-append). */
function readMain(file: string, options: LoadOptions): { main: ReadFile | null; sidecar: SidecarIndex } {
  const first = readMainOnce(file, options);
  if (!first.main?.torn) return first;
  try {
    return withLock(file, () => readMainOnce(file, { ...options, onWarning: () => undefined }), { ...options, lockTimeoutMs: options.lockTimeoutMs ?? 5000 });
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
  const f = checkFilters(filters);
  const file = emissionsFile(f.outputDir);
  const { main, sidecar } = readMain(file, options);
  if (main?.torn) report(tornWarning(main.file, main.torn, main.rows.length), options);
  const reads = readBackups(listBackups(file).reverse(), sidecar, options);
  const kept = dedupeNewestFirst([main?.rows ?? [], ...reads.map((r) => r.rows)]);
  reportBackups(file, reads, kept.slice(1), options);
  const rows = kept.flat();
  return f.selective ? rows.filter((r) => matches(r, f)) : rows;
}

/** Options of {@link streamResults}. */
export interface StreamOptions extends LoadOptions {
  /** Bytes read at a time (default 1 MiB). */
  chunkSize?: number;
}

/** Whether text's first line end is a lone CR (old Mac); null while undecided. */
function lineEndIsCrOnly(text: string): boolean | null {
  const at = text.search(/[\r\n]/);
  if (at < 0 || (text[at] === '\r' && at + 1 === text.length)) return null;
  return text[at] === '\r' && text[at + 1] !== '\n';
}

/** Yield the typed records of one file, read piece by piece; returns the torn tail and the count. */
async function* streamFile(
  file: string,
  opened: { fd: number; stats: Stats } | null,
  sidecar: SidecarIndex,
  chunkSize: number,
  out: { torn: TornTail | null; complete: number },
): AsyncGenerator<LoadedRecord, void, undefined> {
  if (!opened) return;
  if (opened.stats.size === 0) {
    closeSync(opened.fd);
    return;
  }
  // Up to the size it had when opened (before the sidecar was read): rows appended later may
  // lack their sidecar line in this reading, so they are left to the next one.
  const stream = createReadStream('', { fd: opened.fd, encoding: 'latin1', highWaterMark: chunkSize, end: opened.stats.size - 1 });
  let decoder: RecordDecoder | null = null;
  let crOnly: boolean | null = null;
  let carry = '';
  let scanned = 0; // how far carry has been scanned for quotes
  let inQuote = false;
  let boundary = 0; // offset in carry just after the last line break outside quotes
  let line = 1; // line number of carry's first line
  const batch: LoadedRecord[] = [];
  const parsePart = (part: string): TornTail | null =>
    decodeText(part, decoder as RecordDecoder, (r) => {
      batch.push((decoder as RecordDecoder).record(r.fields, r.line));
      out.complete++;
    }, line);
  for await (const piece of stream as AsyncIterable<string>) {
    let chunk = piece;
    if (decoder === null) decoder = new RecordDecoder(file, sidecar, isAscii(Buffer.from(chunk, 'latin1')));
    if (crOnly === null) crOnly = lineEndIsCrOnly(chunk);
    if (crOnly) chunk = chunk.replace(/\r/g, '\n');
    carry += chunk;
    for (let i = scanned; i < carry.length; i++) {
      const c = carry.charCodeAt(i);
      if (c === 34) inQuote = !inQuote;
      else if (c === 10 && !inQuote) boundary = i + 1;
    }
    scanned = carry.length;
    if (boundary === 0) continue;
    const part = carry.slice(0, boundary);
    carry = carry.slice(boundary);
    scanned -= boundary;
    boundary = 0;
    parsePart(part);
    for (let i = 0; i < part.length; i++) if (part.charCodeAt(i) === 10) line++;
    yield* batch.splice(0, batch.length);
  }
  if (carry.length > 0 && decoder !== null) {
    out.torn = parsePart(carry);
    yield* batch.splice(0, batch.length);
  }
}

/**
 * Like {@link loadResults}, but reads the files piece by piece and yields the matching records
 * one at a time, so memory stays bounded for very large files (the sidecar index is held, and,
 * when backups exist, the run_ids seen). Same order, parsing, filters, warnings and errors (a
 * malformed line throws when it is reached; the rows before it have been yielded). It takes no
 * lock: a torn last line is reported as found.
 */
export async function* streamResults(filters?: ResultFilters, options: StreamOptions = {}): AsyncGenerator<LoadedRecord, void, undefined> {
  const f = checkFilters(filters);
  const file = emissionsFile(f.outputDir);
  const chunkSize = options.chunkSize ?? 1 << 20;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
  const main = openForRead(file);
  let sidecar: SidecarIndex;
  try {
    sidecar = loadSidecar(file, options);
  } catch (err) {
    if (main) closeSync(main.fd);
    throw err;
  }
  const state = { torn: null as TornTail | null, complete: 0 };
  const backups = listBackups(file).reverse();
  const seen = new Set<string>();
  for await (const rec of streamFile(file, main, sidecar, chunkSize, state)) {
    if (backups.length > 0 && rec.run_id !== '') seen.add(rec.run_id);
    if (!f.selective || matches(rec, f)) yield rec;
  }
  if (state.torn) report(tornWarning(file, state.torn, state.complete), options);
  // Backups (CodeCarbon's files, small) are read whole, as loadResults reads them.
  const reads = readBackups(backups, sidecar, options);
  const kept = dedupeNewestFirst(reads.map((r) => r.rows), seen);
  for (const rows of kept) for (const rec of rows) if (!f.selective || matches(rec, f)) yield rec;
  reportBackups(file, reads, kept, options);
}

/** A file to delete from, read under the lock. */
interface Target {
  read: ReadFile;
  stats: Stats;
  fd: number;
}

/**
 * Delete the matching rows from `<outputDir>/emissions.csv` and from CodeCarbon's backups
 * beside it, and their runs' sidecar entries; return how many rows were deleted among those
 * {@link loadResults} returns. With no row filter (only `outputDir`, or nothing) the files
 * themselves (main, backups, sidecar) are deleted. Missing files return 0. Works under the
 * lock; every file is parsed before any is changed; a selective delete rewrites each file
 * concerned atomically (temp file, fsync, rename; owner and mode kept), copying kept rows byte
 * for byte. A torn last line is moved aside to `emissions.csv.torn-<pid>-<random>` first.
 *
 * @throws {@link StoreError} for a malformed file (as {@link loadResults}), leaving every file unchanged.
 */
export function deleteResults(filters?: ResultFilters, options: StoreOptions = {}): number {
  const f = checkFilters(filters);
  const file = emissionsFile(f.outputDir);
  const sideFile = sidecarFileOf(file);
  const probe = openForRead(file);
  if (probe) closeSync(probe.fd);
  else if (listBackups(file).length === 0) return 0;
  checkDirectory(dirname(file), options);
  return withLock(
    file,
    (lock) => {
      const sidecar = loadSidecar(file, options);
      const targets: Target[] = [];
      try {
        // Parse everything before changing anything: a malformed file leaves all as they are.
        for (const name of [file, ...listBackups(file).reverse().map((b) => b.file)]) {
          const opened = openForWrite(name, false);
          if (!opened) continue;
          targets.push({ fd: opened.fd, stats: opened.stats, read: null as unknown as ReadFile });
          const read = readCsvFile(name, sidecar, () => lock.refresh(), true);
          if (!read) throw new StoreError(name, null, 'LET_NOT_A_FILE', 'disappeared while the lock was held');
          (targets[targets.length - 1] as Target).read = read;
        }
        lock.refresh();
        const visible = dedupeNewestFirst(targets.map((t) => t.read.rows));
        const count = visible.reduce((n, rows) => n + (f.selective ? rows.filter((r) => matches(r, f)).length : rows.length), 0);
        if (!f.selective) {
          for (const t of targets) unlinkSync(t.read.file);
          try {
            unlinkSync(sideFile);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
          return count;
        }
        const dropped = new Set<string>();
        const remaining = new Set<string>();
        const plans = targets.map((t) => {
          const drop = new Set<number>();
          for (const r of t.read.rows) {
            if (matches(r, f)) {
              drop.add(r.source_line);
              if (r.run_id !== '') dropped.add(r.run_id);
            } else if (r.run_id !== '') remaining.add(r.run_id);
          }
          return drop;
        });
        targets.forEach((t, i) => {
          const drop = plans[i] as Set<number>;
          if (drop.size === 0) return;
          const { buf, raw, torn } = t.read;
          if (torn) moveTailAside(t.read.file, t.fd, torn.start, buf.length);
          const header = raw[0];
          const parts: Buffer[] = header ? [buf.subarray(0, header.next)] : [];
          for (let k = 1; k < raw.length; k++) if (!drop.has(raw[k]!.line)) parts.push(buf.subarray(raw[k]!.start, raw[k]!.next));
          atomicReplace(t.read.file, parts, t.stats, lock);
        });
        for (const id of remaining) dropped.delete(id);
        if (dropped.size > 0) dropSidecarEntries(sideFile, dropped, lock);
        return count;
      } finally {
        for (const t of targets) closeSync(t.fd);
      }
    },
    options,
  );
}
