/**
 * The sidecar file `emissions.let.jsonl` beside `emissions.csv`: our own fields
 * (TRACKER_COLUMNS), which CodeCarbon's 38 columns have no room for, one JSON object per run:
 *
 *     {"run_id":"…","hostname":"…","user":"…","tracker_version":"0.2.0",…}
 *
 * - Keyed by `run_id`. A run's entries go to its rows in order (the first entry to its first row
 *   in a file, …; rows beyond its entries take its last entry), so runs stored twice under one
 *   run_id keep their own fields. Entries whose run is in no CSV file (an append that failed
 *   after its sidecar line was written) are ignored.
 * - Written before the CSV row, in the same locked append; a torn last line (a writer killed
 *   mid-line) belongs to a run whose CSV row was never written, and is cut off by the next writer.
 * - Every field of TRACKER_COLUMNS is carried generically: a field missing from an entry
 *   (written before the field existed) reads as the CSV's value, else `''` / `null`. Numbers
 *   are JSON numbers, `null`, or `"inf"`/`"-inf"`; unknown keys (a newer version's) are ignored.
 */
import { fstatSync, ftruncateSync, fsyncSync, closeSync, readSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { formatNumber, parseNumber } from './csv.js';
import { appendOrRollBack, atomicReplace, openForRead, openForWrite, readRange } from './files.js';
import type { Refreshable } from './files.js';
import { NUMERIC_COLUMNS, TRACKER_COLUMNS } from './schema.js';
import type { Column, EmissionsRecord, TrackerColumn } from './schema.js';

/** Our fields of one run, as stored in the sidecar. */
export type SidecarEntry = { run_id: string } & Partial<Record<TrackerColumn, string | number | null>>;

/** Sidecar entries by run_id, each run's in file order. */
export type SidecarIndex = ReadonlyMap<string, readonly SidecarEntry[]>;

const NUMERIC = TRACKER_COLUMNS.map((c) => NUMERIC_COLUMNS.has(c as Column));

/** Format one value of ours for the sidecar (numbers as JSON numbers, text as strings). */
function jsonValue(col: TrackerColumn, k: number, value: unknown): string | number | null {
  if (NUMERIC[k]) {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'number') throw new TypeError(`record.${col} must be a number or null, got ${typeof value} ${JSON.stringify(value)}`);
    return Number.isFinite(value) ? value : formatNumber(value) || null;
  }
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') throw new TypeError(`record.${col} must be a string, got ${typeof value} ${JSON.stringify(value)}`);
  return value;
}

/** The sidecar line (with its `\n`) of a record. */
export function sidecarLine(record: EmissionsRecord): string {
  const values = record as unknown as Record<string, unknown>;
  const entry: Record<string, string | number | null> = { run_id: record.run_id };
  TRACKER_COLUMNS.forEach((col, k) => {
    entry[col] = jsonValue(col, k, values[col]);
  });
  return `${JSON.stringify(entry)}\n`;
}

/**
 * The sidecar line of our fields found in an old CSV row (a 0.1.0 file): raw strings, numbers
 * parsed where they are numbers (a value that is not is kept as the string it was).
 */
export function sidecarLineFromFields(runId: string, fields: ReadonlyMap<TrackerColumn, string>): string {
  const entry: Record<string, string | number | null> = { run_id: runId };
  TRACKER_COLUMNS.forEach((col, k) => {
    const raw = fields.get(col);
    if (raw === undefined) return;
    if (NUMERIC[k]) {
      const n = parseNumber(raw.trim());
      entry[col] = n === undefined ? raw : n !== null && !Number.isFinite(n) ? raw.trim() : n;
    } else entry[col] = raw;
  });
  return `${JSON.stringify(entry)}\n`;
}

/** Why a parsed sidecar line is unusable, or null when it is an entry (also used by `sidecar-cursor.ts`). */
export function checkEntry(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const o = value as Record<string, unknown>;
  if (typeof o.run_id !== 'string' || o.run_id === '') return 'no run_id';
  for (let k = 0; k < TRACKER_COLUMNS.length; k++) {
    const col = TRACKER_COLUMNS[k] as TrackerColumn;
    const v = o[col];
    if (v === undefined) continue;
    if (NUMERIC[k]) {
      if (v !== null && typeof v !== 'number' && !(typeof v === 'string' && parseNumber(v.trim()) !== undefined)) {
        return `${col}: ${JSON.stringify(v)} is not a number`;
      }
    } else if (typeof v !== 'string') return `${col}: ${JSON.stringify(v)} is not a string`;
  }
  return null;
}

/**
 * One sidecar line through `JSON.parse` and {@link checkEntry}: the entry, the problem with it
 * (to report), or null for a blank line (skipped silently). Every reader of the sidecar uses it.
 */
export function parseSidecarLine(raw: string): Record<string, unknown> | string | null {
  if (raw.trim() === '') return null;
  try {
    const value: unknown = JSON.parse(raw);
    return checkEntry(value) ?? (value as Record<string, unknown>);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
}

/** A sidecar line that could not be used. */
export interface SidecarProblem {
  file: string;
  line: number;
  problem: string;
}

/**
 * Read the sidecar into an index by run_id (each run's entries in order). A torn last line is ignored
 * silently (its run's CSV row was never written); other unusable lines are passed to
 * `onProblem` and skipped (they hold only our labels, never a run).
 */
export function readSidecar(file: string, onProblem: (p: SidecarProblem) => void): Map<string, SidecarEntry[]> {
  return readSidecarFrom(file, 0, onProblem).index;
}

/**
 * {@link readSidecar} from byte `from` (a line start) on: the index of those lines and the byte
 * just after the last complete line (`from` when there is none, 0 when there is no file).
 */
export function readSidecarFrom(file: string, from: number, onProblem: (p: SidecarProblem) => void): { index: Map<string, SidecarEntry[]>; end: number } {
  const index = new Map<string, SidecarEntry[]>();
  const opened = openForRead(file);
  if (!opened) return { index, end: 0 };
  const interned = new Map<string, string>();
  let line = 0;
  const take = (raw: string): void => {
    line++;
    const parsed = parseSidecarLine(raw);
    if (parsed === null) return;
    if (typeof parsed === 'string') {
      onProblem({ file, line, problem: parsed });
      return;
    }
    const entry = parsed;
    // Share repeated text (hosts, users, method labels): a long history repeats a few values.
    for (const col of TRACKER_COLUMNS) {
      const v = entry[col];
      if (typeof v !== 'string') continue;
      const shared = interned.get(v);
      if (shared !== undefined) entry[col] = shared;
      else if (interned.size < 65536) interned.set(v, v);
    }
    const list = index.get(entry.run_id as string);
    if (list) list.push(entry as SidecarEntry);
    else index.set(entry.run_id as string, [entry as SidecarEntry]);
  };
  // Each line decoded on its own (a line break is never inside a UTF-8 sequence).
  let end = from;
  try {
    for (const bytes of wholeLines(opened.fd, from, opened.stats.size)) {
      end += bytes.length;
      let at = 0;
      for (let nl = bytes.indexOf(10, at); nl >= 0; nl = bytes.indexOf(10, at)) {
        take(bytes.toString('utf8', at, nl));
        at = nl + 1;
      }
    }
  } finally {
    closeSync(opened.fd);
  }
  return { index, end };
}

/**
 * The bytes [from, size) of an open file read 1 MiB at a time, each part holding whole lines
 * only (each ending in a line feed; a line cut by the read is carried into the next part, and a
 * torn last line is never handed out): no Buffer of the whole file, whatever its size. A part
 * is valid until the next is taken.
 */
export function* wholeLines(fd: number, from: number, size: number): Generator<Buffer, void, undefined> {
  let carry: Buffer = Buffer.alloc(0);
  const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, size - from)));
  for (let pos = from; pos < size; ) {
    const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
    if (n === 0) break;
    pos += n;
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    const whole = bytes.lastIndexOf(10) + 1;
    carry = Buffer.from(bytes.subarray(whole)); // a copy: chunk is reused
    if (whole > 0) yield bytes.subarray(0, whole);
  }
}

/** The sidecar opened for appending under the lock, its torn tail (if any) cut off. */
export interface OpenSidecar {
  fd: number;
  /** Size after the repair: where a failed append is rolled back to. */
  size: number;
  stats: Stats;
}

/** Open (create) the sidecar for appending; a torn last line is cut off (see the module doc). */
export function openSidecar(file: string): OpenSidecar {
  const { fd, stats } = openForWrite(file, true) as { fd: number; stats: Stats };
  try {
    let size = stats.size;
    if (size > 0 && readRange(fd, size - 1, 1)[0] !== 0x0a) {
      // Torn: find the last line end, reading backwards in blocks.
      let end = size;
      let cut = 0;
      while (end > 0) {
        const start = Math.max(0, end - 65536);
        const at = readRange(fd, start, end - start).lastIndexOf(0x0a);
        if (at >= 0) {
          cut = start + at + 1;
          break;
        }
        end = start;
      }
      size = cut;
      ftruncateSync(fd, size);
      fsyncSync(fd);
    }
    return { fd, size, stats };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Append lines to an open sidecar and fsync; on failure it is cut back to its size. */
export function appendSidecar(side: OpenSidecar, lines: string): void {
  appendOrRollBack(side.fd, side.size, Buffer.from(lines, 'utf8'));
}

/** Cut a sidecar back to where it was before this operation's lines (a failed CSV write). */
export function rollBackSidecar(side: OpenSidecar): void {
  try {
    ftruncateSync(side.fd, side.size);
    fsyncSync(side.fd);
  } catch {
    // The entries left are ignored: their runs are in no CSV file.
  }
}

/** Thrown by a rewrite's parts to leave the file as it is (nothing to drop after all). */
class NothingDropped extends Error {}

const RUN_ID_PREFIX = Buffer.from('{"run_id":"', 'latin1');

/**
 * A sidecar line's run_id as `JSON.parse` gives it (undefined when the line does not parse or
 * has no string run_id), parsed only where it can matter: a line in our writer's shape whose
 * run_id (no escape in it) is in no drop is not parsed (whatever the rest holds, it is kept).
 */
function lineRunId(line: Buffer, drop: ReadonlyMap<string, unknown>): string | undefined {
  if (line.subarray(0, RUN_ID_PREFIX.length).equals(RUN_ID_PREFIX)) {
    const end = line.indexOf(0x22, RUN_ID_PREFIX.length);
    if (end > 0 && line.subarray(RUN_ID_PREFIX.length, end).indexOf(0x5c) < 0 && !drop.has(line.toString('utf8', RUN_ID_PREFIX.length, end))) return undefined;
  }
  try {
    const id = (JSON.parse(line.toString('utf8')) as { run_id?: unknown }).run_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewrite the sidecar atomically without some entries, copying every other line byte for
 * byte: for each run in `drop`, all its entries (`'all'`) or those at the given positions among
 * its entries (0 = its first; every line whose JSON has that run_id counts). Read and written
 * 1 MiB at a time, so memory does not grow with the file; the file is left as it is when no
 * line is dropped (a torn last line goes with a rewrite). Returns how many lines were dropped.
 */
export function dropSidecarEntries(file: string, drop: ReadonlyMap<string, ReadonlySet<number> | 'all'>, lock: Refreshable): number {
  const opened = openForWrite(file, false);
  if (!opened) return 0;
  let dropped = 0;
  const fd = opened.fd;
  const size = fstatSync(fd).size;
  function* kept(): Generator<Buffer, void, undefined> {
    const seen = new Map<string, number>();
    for (const bytes of wholeLines(fd, 0, size)) {
      // Kept lines next to each other are written as one part (before the next part is read).
      let keepFrom = 0;
      let at = 0;
      for (let nl = bytes.indexOf(0x0a, at); nl >= 0; nl = bytes.indexOf(0x0a, at)) {
        const line = bytes.subarray(at, nl + 1);
        const id = lineRunId(line, drop);
        const which = id === undefined ? undefined : drop.get(id);
        if (which !== undefined) {
          const k = seen.get(id as string) ?? 0;
          seen.set(id as string, k + 1);
          if (which === 'all' || which.has(k)) {
            if (at > keepFrom) yield bytes.subarray(keepFrom, at);
            keepFrom = nl + 1;
            dropped++;
          }
        }
        at = nl + 1;
      }
      if (at > keepFrom) yield bytes.subarray(keepFrom, at);
      lock.refresh();
    }
    if (dropped === 0) throw new NothingDropped();
  }
  try {
    atomicReplace(file, kept(), opened.stats, lock);
    return dropped;
  } catch (err) {
    if (err instanceof NothingDropped) return 0;
    throw err;
  } finally {
    closeSync(fd);
  }
}
