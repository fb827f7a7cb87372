/**
 * The statement aggregates kept beside the store, so that the statement and `stop()`'s summary
 * do not re-read the history: `emissions.let-aggregates.json` in the output directory.
 *
 * On disk (JSON, one object; a cache: deleting it only costs one full read of the store):
 *
 *     {
 *       "format": "lamarr-energy-tracker aggregates",
 *       "version": 1,
 *       "files": { "emissions.csv": <FileFingerprint>, ... },   // the bytes covered, per file
 *       "aggregates": <StatementAggregatesJSON>                  // lib/statement/groups.ts
 *     }
 *
 * {@link updateAggregates} brings them up to date: unchanged files cost a `stat` and two 4 KiB
 * reads; files that only grew are parsed from where the aggregates stopped (by the store's own
 * decoder, passed in as `scan`); anything else is recomputed from scratch (see
 * aggregates-fingerprint.ts for how changes are told apart). The file is replaced atomically
 * (unique temp file, fsync, rename), so readers see the old or the new aggregates, never a mix;
 * two processes updating at once both write valid aggregates, and the older one losing the race
 * only means the next update parses a few more rows.
 *
 * What the aggregates answer: statements over all runs or filtered by project, user and/or
 * host (`StatementAggregates.select`). Filters by time (`since`, `until`) need the rows.
 */
import { readFileSync } from 'node:fs';
import { atomicReplace } from './files.js';
import { join } from 'node:path';
import { StatementAggregates, type AggregateRecord } from '../statement/groups.js';
import { classifyChange, fileState, takeFingerprint, type FileChange, type FileFingerprint, type FileState } from './aggregates-fingerprint.js';

export { classifyChange, fileState, type FileChange, type FileFingerprint, type FileState } from './aggregates-fingerprint.js';

/** Name of the aggregates file in the output directory. */
/**
 * Thrown by an {@link AggregateScan} asked to extend (`from` not null) when the new bytes alone
 * cannot give the right rows: {@link updateAggregates} then scans again from scratch.
 */
export class RescanNeeded extends Error {}

export const AGGREGATES_FILE_NAME = 'emissions.let-aggregates.json';
/** Value of the file's `format` field. */
export const AGGREGATES_FORMAT = 'lamarr-energy-tracker aggregates';
/** Version of the file layout; a file with another version is ignored and rebuilt. */
export const AGGREGATES_FORMAT_VERSION = 1;

/** The aggregates and the bytes of each store file they cover. */
export interface AggregatesData {
  /** Fingerprint per file name (relative to the output directory). */
  files: Record<string, FileFingerprint>;
  aggregates: StatementAggregates;
}

/**
 * The store's decoder: parse the rows after `from[file]` bytes of each file (`from` null, or 0
 * for a file: from its start, header included), hand each row to `add` in file order, and
 * return, per file, the byte offset after the last complete line read (a torn last line is not
 * covered, so it is read again once it is complete).
 */
export type AggregateScan = (from: Readonly<Record<string, number>> | null, add: (record: AggregateRecord) => void) => Record<string, number>;

/** Options of {@link updateAggregates}. */
export interface UpdateAggregatesOptions {
  /** The store's files the rows come from, relative to the directory (e.g. `['emissions.csv', 'emissions.let.jsonl']`). */
  files: readonly string[];
  scan: AggregateScan;
  /**
   * Per file, its state right before the caller's own append, taken with {@link fileState}
   * under the store's lock: growth from exactly that state is trusted to be the append, so no
   * covered byte is re-read. Omit when not appending.
   */
  before?: Readonly<Record<string, FileState | null>>;
  /**
   * Recompute from scratch when there are no (usable) aggregates or a file was rewritten (a full
   * read of the store). Default true. An append passes false, so that its cost stays constant:
   * it only extends up-to-date aggregates and leaves a rebuild to the next reader.
   */
  rebuild?: boolean;
  /** Save the updated aggregates (default true); a failure to save is reported in the result, not thrown. */
  write?: boolean;
}

/** What {@link updateAggregates} did. */
export interface UpdateAggregatesResult {
  /** The up-to-date aggregates; null only when a rebuild was needed and `rebuild` was false. */
  aggregates: StatementAggregates | null;
  /** 'created': there were no (usable) aggregates; else the strongest change over the files. */
  change: FileChange | 'created';
  /** Whether the aggregates file was replaced. */
  written: boolean;
  /** Why saving failed (read-only directory, disk full) or was skipped (a file changed while being read). */
  notWritten?: string;
}

/** Path of the aggregates file in `dir`. */
export function aggregatesFile(dir: string): string {
  return join(dir, AGGREGATES_FILE_NAME);
}

function checkFingerprint(value: unknown, what: string): FileFingerprint {
  if (value === null || typeof value !== 'object') throw new TypeError(`${what} must be an object`);
  const f = value as Record<string, unknown>;
  const state = f.state;
  if (state !== null) {
    if (typeof state !== 'object') throw new TypeError(`${what}.state must be null or an object`);
    const s = state as Record<string, unknown>;
    for (const key of ['dev', 'ino', 'mtimeNs'] as const) {
      if (typeof s[key] !== 'string' || !/^\d+$/.test(s[key])) throw new TypeError(`${what}.state.${key} must be a decimal string`);
    }
    if (typeof s.size !== 'number' || !Number.isSafeInteger(s.size) || s.size < 0) throw new TypeError(`${what}.state.size must be a whole number ≥ 0`);
  }
  if (typeof f.covered !== 'number' || !Number.isSafeInteger(f.covered) || f.covered < 0) throw new TypeError(`${what}.covered must be a whole number ≥ 0`);
  if (state !== null && f.covered > (state as FileState).size) throw new TypeError(`${what}.covered is beyond the file's size`);
  for (const key of ['head', 'tail'] as const) {
    if (typeof f[key] !== 'string' || !/^[0-9a-f]{64}$/.test(f[key])) throw new TypeError(`${what}.${key} must be a SHA-256 in hex`);
  }
  if (typeof f.checksum !== 'string' || !/^[0-9a-f]{16}$/.test(f.checksum)) throw new TypeError(`${what}.checksum must be 16 hex digits`);
  return {
    state: state === null ? null : { ...(state as FileState) },
    covered: f.covered,
    head: f.head as string,
    tail: f.tail as string,
    checksum: f.checksum,
  };
}

/** Parses and validates the text of an aggregates file. @throws {TypeError} naming what is wrong. */
export function parseAggregates(text: string, what = AGGREGATES_FILE_NAME): AggregatesData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TypeError(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TypeError(`${what} must hold a JSON object`);
  const j = json as Record<string, unknown>;
  if (j.format !== AGGREGATES_FORMAT) throw new TypeError(`${what}: format must be ${JSON.stringify(AGGREGATES_FORMAT)}, got ${JSON.stringify(j.format)}`);
  if (j.version !== AGGREGATES_FORMAT_VERSION) throw new TypeError(`${what}: version ${JSON.stringify(j.version)} is not supported (expected ${AGGREGATES_FORMAT_VERSION})`);
  if (j.files === null || typeof j.files !== 'object' || Array.isArray(j.files)) throw new TypeError(`${what}.files must be an object`);
  const files: Record<string, FileFingerprint> = {};
  for (const [name, fp] of Object.entries(j.files as Record<string, unknown>)) files[name] = checkFingerprint(fp, `${what}.files[${JSON.stringify(name)}]`);
  return { files, aggregates: StatementAggregates.fromJSON(j.aggregates, `${what}.aggregates`) };
}

/**
 * The aggregates saved in `dir`, or null when there are none or they cannot be used (not JSON,
 * another version, inconsistent): they are a cache, rebuilt by {@link updateAggregates}.
 * `onInvalid` hears why a file present was not used.
 */
export function readAggregates(dir: string, onInvalid?: (reason: string) => void): AggregatesData | null {
  const file = aggregatesFile(dir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    onInvalid?.(`${file}: ${(err as Error).message}`);
    return null;
  }
  try {
    return parseAggregates(text, file);
  } catch (err) {
    onInvalid?.((err as Error).message);
    return null;
  }
}

/** The JSON text of {@link AggregatesData}. */
export function serialiseAggregates(data: AggregatesData): string {
  return `${JSON.stringify({ format: AGGREGATES_FORMAT, version: AGGREGATES_FORMAT_VERSION, files: data.files, aggregates: data.aggregates.toJSON() })}\n`;
}

/**
 * Replaces `dir`'s aggregates file atomically (files.ts `atomicReplace`: a temp file with a
 * unique name in `dir`, fsync, rename over the old one, fsync of the directory), mode 0644 less
 * the umask.
 */
export function writeAggregatesAtomic(dir: string, data: AggregatesData): void {
  atomicReplace(aggregatesFile(dir), [Buffer.from(serialiseAggregates(data))], null, null, 0o644);
}

const STRENGTH: Record<FileChange, number> = { unchanged: 0, extended: 1, rewritten: 2 };

/**
 * Brings `dir`'s aggregates up to date with the store's files and returns them (see the module
 * comment). Errors of `scan` (a malformed row) propagate; a failure to save does not.
 */
export function updateAggregates(dir: string, options: UpdateAggregatesOptions): UpdateAggregatesResult {
  const names = [...options.files];
  if (names.length === 0 || new Set(names).size !== names.length) throw new TypeError('updateAggregates: files must name each store file once');
  const saved = readAggregates(dir);
  const usable = saved !== null && Object.keys(saved.files).length === names.length && names.every((n) => saved.files[n] !== undefined);

  // Taken before anything is read: if a file differs from this when we are done, someone wrote
  // while we read, and what we computed is not saved.
  const statesBefore = Object.fromEntries(names.map((n) => [n, fileState(join(dir, n))]));
  let change: FileChange | 'created' = 'created';
  if (usable) {
    change = 'unchanged';
    for (const name of names) {
      const c = classifyChange(saved.files[name]!, join(dir, name), options.before?.[name]);
      if (STRENGTH[c] > STRENGTH[change]) change = c;
      if (change === 'rewritten') break;
    }
  }
  if (change === 'unchanged') {
    // Refresh the states when only an mtime moved (proven unchanged by the checksum), so the
    // next call does not read the prefix again.
    const stale = names.some((n) => JSON.stringify(saved!.files[n]!.state) !== JSON.stringify(statesBefore[n]));
    if (!stale) return { aggregates: saved!.aggregates, change, written: false };
    const files = Object.fromEntries(names.map((n) => [n, { ...saved!.files[n]!, state: statesBefore[n]! }]));
    return save(dir, { files, aggregates: saved!.aggregates }, change, statesBefore, options);
  }

  if (options.rebuild === false && change !== 'extended') return { aggregates: null, change, written: false, notWritten: 'a rebuild is needed (rebuild: false)' };
  let extending = change === 'extended';
  let aggregates = extending ? saved!.aggregates : new StatementAggregates();
  const from = extending ? Object.fromEntries(names.map((n) => [n, saved!.files[n]!.covered])) : null;
  let ends: Record<string, number>;
  try {
    ends = options.scan(from, (record) => aggregates.add(record));
  } catch (err) {
    // The scan cannot extend from the new bytes alone: recompute from scratch (unless told not to).
    if (!(err instanceof RescanNeeded) || !extending) throw err;
    if (options.rebuild === false) return { aggregates: null, change: 'rewritten', written: false, notWritten: `a rebuild is needed (${err.message}; rebuild: false)` };
    change = 'rewritten';
    extending = false;
    aggregates = new StatementAggregates();
    ends = options.scan(null, (record) => aggregates.add(record));
  }
  const files: Record<string, FileFingerprint> = {};
  for (const name of names) {
    const end = ends[name] ?? 0;
    if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`updateAggregates: scan returned ${String(end)} for ${name}, not a byte offset`);
    if (end > (statesBefore[name]?.size ?? 0)) {
      // The file grew while it was scanned: the rows are right, but no fingerprint fits them.
      return { aggregates, change, written: false, notWritten: `${name} changed while it was read` };
    }
    files[name] = takeFingerprint(join(dir, name), statesBefore[name]!, end, extending ? saved!.files[name] : undefined);
  }
  return save(dir, { files, aggregates }, change, statesBefore, options);
}

function save(
  dir: string,
  data: AggregatesData,
  change: FileChange | 'created',
  statesBefore: Record<string, FileState | null>,
  options: UpdateAggregatesOptions,
): UpdateAggregatesResult {
  if (options.write === false) return { aggregates: data.aggregates, change, written: false, notWritten: 'write: false' };
  // No store yet (e.g. a statement asked for in an empty directory): nothing worth a file.
  if (Object.values(statesBefore).every((s) => s === null) && data.aggregates.runs === 0) {
    return { aggregates: data.aggregates, change, written: false, notWritten: 'no store files' };
  }
  // A writer that does not take the store's lock (CodeCarbon) may have written while we read:
  // then what we computed may not match the fingerprints; keep it for this call only.
  const moved = Object.keys(statesBefore).find((n) => JSON.stringify(fileState(join(dir, n))) !== JSON.stringify(statesBefore[n]));
  if (moved !== undefined) return { aggregates: data.aggregates, change, written: false, notWritten: `${moved} changed while it was read` };
  try {
    writeAggregatesAtomic(dir, data);
    return { aggregates: data.aggregates, change, written: true };
  } catch (err) {
    return { aggregates: data.aggregates, change, written: false, notWritten: (err as Error).message };
  }
}
