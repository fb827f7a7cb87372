/**
 * deleteResults: deleting stored runs from `emissions.csv`, CodeCarbon's backups beside it and
 * the sidecar, under the store's lock.
 *
 * - {@link deleteStreamed} (the main file alone, the usual store): read twice, 1 MiB at a time,
 *   and the kept rows copied to the new file as they are read, so memory grows with the rows
 *   deleted (a bit per line, the deleted runs' ids), not with the store.
 * - {@link deleteWhole} (CodeCarbon's backups beside the main file, whose rows are deduplicated
 *   by run_id across files; a file whose lines end in CR only): every file read whole.
 *
 * Both leave the same files (test/store/delete.test.ts compares them byte for byte).
 */
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, unlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreOptions } from './append.js';
import { lineEndIsCrOnly, visitParts } from './chunks.js';
import { StoreError, visitCsv } from './csv.js';
import type { TornTail } from './csv.js';
import { RecordDecoder } from './decoder.js';
import { atomicReplace, moveTailAside, openForRead, openForWrite, readRange, unlinkIfThere } from './files.js';
import type { Refreshable } from './files.js';
import { checkFilters, matches } from './filters.js';
import type { CheckedFilters } from './filters.js';
import { withLock } from './lock.js';
import { emissionsFile, sidecarFileOf } from './paths.js';
import { checkQueryOptions, decodeMerged, LOAD_OPTION_KEYS } from './query.js';
import { dedupeNewestFirst, listBackups, loadSidecar, readCsvFile } from './reader.js';
import type { ReadFile } from './reader.js';
import type { ResultFilters } from './schema.js';
import { dropSidecarEntries } from './sidecar.js';
import { checkDirectory } from './warnings.js';
import type { WarningOptions } from './warnings.js';

/**
 * Delete the matching rows from `<outputDir>/emissions.csv` and from CodeCarbon's backups
 * beside it, and their runs' sidecar entries; return how many rows were deleted among those
 * {@link loadResults} returns. With no row filter (only `outputDir`, or nothing) the files
 * themselves (main, backups, sidecar) are deleted. Missing files return 0. Works under the
 * lock; every file is parsed before any is changed; a selective delete rewrites each file
 * concerned atomically (temp file, fsync, rename; owner and mode kept), copying kept rows byte
 * for byte. A torn last line is moved aside to `emissions.csv.torn-<pid>-<random>` first.
 * Without backups, memory grows with the rows deleted, not with the store.
 *
 * @throws {@link StoreError} for a malformed file (as {@link loadResults}), leaving every file unchanged.
 */
export function deleteResults(filters?: ResultFilters, options: StoreOptions = {}): number {
  checkQueryOptions('deleteResults', filters, options, LOAD_OPTION_KEYS);
  const f = checkFilters(filters);
  const file = emissionsFile(f.outputDir);
  const probe = openForRead(file);
  if (probe) closeSync(probe.fd);
  else if (listBackups(file).length === 0) return 0;
  checkDirectory(dirname(file), options);
  return withLock(file, (lock) => (listBackups(file).length === 0 && !crOnly(file) ? deleteStreamed(file, f, lock, options) : deleteWhole(file, f, lock, options)), options);
}

/** Whether a file's lines end in CR only (its rows are then copied by {@link deleteWhole}). */
function crOnly(file: string): boolean {
  const opened = openForRead(file);
  if (!opened) return false;
  try {
    const head = readRange(opened.fd, 0, Math.min(opened.stats.size, 1 << 16));
    // No line end in reach: one long line, left to the whole-file path too.
    return lineEndIsCrOnly(head, head.length) !== false;
  } finally {
    closeSync(opened.fd);
  }
}

/** Line numbers, one bit each. */
class LineSet {
  private bits = new Uint8Array(1 << 12);
  add(line: number): void {
    const at = line >>> 3;
    if (at >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, at + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[at] = (this.bits[at] as number) | (1 << (line & 7));
  }
  has(line: number): boolean {
    const at = line >>> 3;
    return at < this.bits.length && ((this.bits[at] as number) & (1 << (line & 7))) !== 0;
  }
}

/**
 * Throws when the file changed since `stats` were taken: a program that does not take the
 * store's lock (CodeCarbon rewrites the file in place) wrote it while it was read twice, so the
 * lines noted in the first reading may not be the rows of the second.
 */
function checkUnchanged(file: string, fd: number, stats: Stats): void {
  const now = fstatSync(fd);
  if (now.size !== stats.size || now.mtimeMs !== stats.mtimeMs || now.ino !== stats.ino) {
    throw new StoreError(file, null, 'LET_FILE_CHANGED', 'changed by a program that does not take the store lock (CodeCarbon?) while runs were being deleted; nothing was deleted, try again');
  }
}

/** The parts, then `check()` before the last one is taken (a throw there stops the replacement). */
function* checkedAtEnd(parts: Iterable<Buffer>, check: () => void): Generator<Buffer, void, undefined> {
  yield* parts;
  check();
}

/** The sidecar entries to drop: a run's entries belong to its rows in order (see sidecar.ts). */
function sidecarDrops(dropped: ReadonlyMap<string, Set<number>>, remaining: ReadonlySet<string>): Map<string, Set<number> | 'all'> {
  const drop = new Map<string, Set<number> | 'all'>();
  for (const [id, at] of dropped) drop.set(id, remaining.has(id) ? at : 'all');
  return drop;
}

/**
 * The main file alone (no backups), read twice under the lock: first decoded as loadResults
 * reads it (the sidecar read alongside), noting the lines and runs to delete; then its records
 * visited again in 1 MiB parts, the kept ones copied to the new file as they come, and each
 * deleted run's rows counted (which of its sidecar entries go). Then the sidecar is rewritten
 * without those entries (also read a part at a time).
 */
export function deleteStreamed(file: string, f: CheckedFilters, lock: Refreshable, options: WarningOptions): number {
  const opened = openForWrite(file, false);
  if (!opened) return 0;
  try {
    const lines = new LineSet();
    // run_id to itself: the first reading's strings are flat copies; the second reading's are
    // slices of a part's text, which a kept key would hold alive (a part per deleted run).
    const runs = new Map<string, string>();
    let count = 0;
    const parts = decodeMerged(file, opened, 1 << 20, options, (r) => {
      if (f.selective && !matches(r, f)) return;
      count++;
      lines.add(r.source_line);
      if (r.run_id !== '') runs.set(r.run_id, r.run_id);
    });
    let torn: TornTail | null;
    for (;;) {
      const step = parts.next();
      lock.refresh();
      if (step.done) {
        torn = step.value;
        break;
      }
    }
    if (!f.selective) {
      unlinkSync(file);
      unlinkIfThere(sidecarFileOf(file));
      return count;
    }
    if (count === 0) return 0;
    const size = opened.stats.size;
    const cut = torn ? size - torn.text.length : size;
    checkUnchanged(file, opened.fd, opened.stats);
    if (torn) moveTailAside(file, opened.fd, cut, size);
    const before = fstatSync(opened.fd);
    const dropped = new Map<string, Set<number>>();
    const remaining = new Set<string>();
    const kept = keptRecords(file, opened.fd, cut, lock, runs, (runId, deleted, k) => {
      if (deleted) {
        let at = dropped.get(runId);
        if (!at) dropped.set(runId, (at = new Set<number>()));
        at.add(k);
      } else remaining.add(runId);
    }, lines);
    atomicReplace(file, checkedAtEnd(kept, () => checkUnchanged(file, opened.fd, before)), opened.stats, lock);
    const drop = sidecarDrops(dropped, remaining);
    if (drop.size > 0) dropSidecarEntries(sidecarFileOf(file), drop, lock);
    return count;
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * The bytes of a file's first `size` bytes without the records on `deleted` lines, as parts to
 * write (the header with whatever precedes it, then each kept record from its first byte to
 * the start of the next line: blank lines between records are not kept, as in
 * {@link deleteWhole}). `onRow` gets each data record of the `runs` given: its run_id, whether
 * it is deleted and how many rows of its run came before it in the file (rows of other runs are
 * not counted: memory grows with those runs only).
 */
function* keptRecords(
  file: string,
  fd: number,
  size: number,
  lock: Refreshable,
  runs: ReadonlyMap<string, string>,
  onRow: (runId: string, deleted: boolean, k: number) => void,
  deleted: LineSet,
): Generator<Buffer, void, undefined> {
  const decoder = new RecordDecoder(file, null);
  const occurrence = new Map<string, number>();
  let out: Buffer[] = [];
  const parts = visitParts(fd, size, 1 << 20, (text, bytes, line, offset) => {
    decoder.ascii = isAscii(bytes.subarray(0, text.length));
    // The kept span not yet copied, [from, to) in bytes: adjacent kept records are one part.
    let from = 0;
    let to = 0;
    const flush = (): void => {
      if (to > from) out.push(Buffer.from(bytes.subarray(from, to)));
      from = to = 0;
    };
    const result = visitCsv(
      text,
      file,
      (r) => {
        if (decoder.plan === null) {
          decoder.header(r.fields, r.line);
          // What precedes the header (a byte order mark, blank lines) stays with it.
          from = offset === 0 ? 0 : r.start;
          to = r.next;
          return;
        }
        decoder.check(r.fields, r.line);
        const runId = runs.get(decoder.runIdOf(r.fields));
        const gone = deleted.has(r.line);
        if (runId !== undefined) {
          const k = occurrence.get(runId) ?? 0;
          occurrence.set(runId, k + 1);
          onRow(runId, gone, k);
        }
        if (gone) return;
        if (r.start !== to) {
          flush();
          from = r.start;
        }
        to = r.next;
      },
      line,
    );
    flush();
    return result.torn;
  });
  for (;;) {
    const step = parts.next();
    lock.refresh();
    yield* out;
    out = [];
    if (step.done) {
      if (step.value) throw new StoreError(file, step.value.line, 'LET_FILE_CHANGED', 'changed by a program that does not take the store lock while runs were being deleted; nothing was deleted, try again');
      return;
    }
  }
}

/** A file to delete from, read under the lock. */
interface Target {
  read: ReadFile;
  stats: Stats;
  fd: number;
}

/**
 * The main file and CodeCarbon's backups, each read whole under the lock: rows of a run found
 * in a newer file are not counted (as loadResults does not return them) but deleted as well.
 */
export function deleteWhole(file: string, f: CheckedFilters, lock: Refreshable, options: WarningOptions): number {
  const sideFile = sidecarFileOf(file);
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
      unlinkIfThere(sideFile);
      return count;
    }
    const dropped = new Map<string, Set<number>>();
    const remaining = new Set<string>();
    const plans = targets.map((t) => {
      const drop = new Set<number>();
      const occurrence = new Map<string, number>();
      for (const r of t.read.rows) {
        const k = occurrence.get(r.run_id) ?? 0;
        occurrence.set(r.run_id, k + 1);
        if (matches(r, f)) {
          drop.add(r.source_line);
          if (r.run_id !== '') dropped.set(r.run_id, (dropped.get(r.run_id) ?? new Set<number>()).add(k));
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
    const drop = sidecarDrops(dropped, remaining);
    if (drop.size > 0) dropSidecarEntries(sideFile, drop, lock);
    return count;
  } finally {
    for (const t of targets) closeSync(t.fd);
  }
}
