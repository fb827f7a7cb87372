import {
  createReadStream,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ALL_COLUMNS } from './schema.js';
import type { EmissionsRecord, LoadedRecord, ResultFilters } from './schema.js';
import { StoreError, parseCsv, visitCsv } from './csv.js';
import type { CsvRecord, ParsedCsv, TornTail } from './csv.js';
import { withLock } from './lock.js';
import { recoverKilledRunsQuietly } from './inflight.js';
import type { HeldLock, LockOptions } from './lock.js';
import { emissionsFile } from './paths.js';
import { formatHeader, formatRecordRow, parseTimestamp, planColumns, toLoadedRecord } from './records.js';
import type { ColumnPlan } from './records.js';

/** A problem the reader recovered from (a torn last line). */
export interface StoreWarning {
  /** `LET_TORN_LINE`: the file's last line was cut short (a writer died mid-append). */
  code: 'LET_TORN_LINE';
  /** The file concerned. */
  file: string;
  /** 1-based line of the torn fragment. */
  line: number;
  /** Human-readable message naming the file and the line. */
  message: string;
}

/** Options of the writing functions. */
export type StoreOptions = LockOptions;

/** Options of {@link loadResults}. */
export interface LoadOptions extends LockOptions {
  /**
   * Called for each recovered problem instead of `process.emitWarning` (which is the default,
   * with type `LetStoreWarning` and the warning's code).
   */
  onWarning?: (warning: StoreWarning) => void;
}

/** The file's header record, its column plan and line terminator. */
interface HeaderInfo {
  record: CsvRecord;
  plan: ColumnPlan;
  eol: '\n' | '\r\n';
}

// ----------------------------------------------------------------------------------------
// Low-level file helpers

function readAll(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

function writeAllSync(fd: number, data: Buffer, position: number | null = null): void {
  let off = 0;
  while (off < data.length) {
    off += writeSync(fd, data, off, data.length - off, position === null ? null : position + off);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms/filesystems do not allow fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write `data` to `file` atomically: a temp file in the same directory, fsync, rename. */
function atomicWrite(file: string, data: string, mode: number | null, lock: HeldLock): void {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const fd = openSync(tmp, 'wx');
  try {
    writeAllSync(fd, Buffer.from(data, 'utf8'), 0);
    if (mode !== null) {
      try {
        chmodSync(tmp, mode & 0o7777);
      } catch {
        // Keep the default mode where the original's cannot be copied.
      }
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing to clean up.
    }
    throw err;
  }
  closeSync(fd);
  lock.refresh();
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

function tornFileName(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${file}.torn-${stamp}-${process.pid}`;
}

/**
 * Under the lock: when the file does not end with a line terminator, move the torn last
 * record aside to `<file>.torn-<timestamp>-<pid>` and truncate the file to its complete
 * records. Returns the file's size afterwards.
 */
function repairTornTail(file: string, fd: number): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size;
  // Rare: find where the torn record starts (a full parse handles quoted line breaks).
  const buf = readAll(fd);
  let cut = buf.lastIndexOf(0x0a) + 1;
  try {
    const text = buf.toString('utf8');
    const parsed = parseCsv(text, file);
    if (parsed.torn) cut = Buffer.byteLength(text.slice(0, parsed.torn.start), 'utf8');
  } catch {
    // Malformed elsewhere: fall back to the last line break.
  }
  const fragment = buf.subarray(cut);
  const aside = tornFileName(file);
  const tfd = openSync(aside, 'wx');
  try {
    writeAllSync(tfd, fragment, 0);
    fsyncSync(tfd);
  } finally {
    closeSync(tfd);
  }
  ftruncateSync(fd, cut);
  fsyncSync(fd);
  return cut;
}

/** Read the header record from the start of an open file (which ends with a line break). */
function readHeader(fd: number, file: string): HeaderInfo {
  const size = fstatSync(fd).size;
  let chunk = 4096;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(chunk, size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const whole = n >= size;
    const text = buf.subarray(0, n).toString('utf8');
    let first: CsvRecord | null = null;
    let eol: '\n' | '\r\n' = '\n';
    const stop = new Error('header read');
    try {
      eol = visitCsv(text, file, (r) => {
        first = r;
        throw stop;
      }).eol;
    } catch (err) {
      // A chunk may end inside a later quoted field: read more unless that was the whole file.
      if (err !== stop && whole) throw err;
    }
    const header = first as CsvRecord | null;
    if (header) {
      if (header.end < header.next - 1) eol = '\r\n';
      return { record: header, plan: planColumns(header.fields, file, header.line), eol };
    }
    if (whole) throw new StoreError(file, 1, 'LET_CSV_NO_HEADER', 'no header: the file holds no complete line');
    chunk *= 4;
  }
}

// ----------------------------------------------------------------------------------------
// Writing

/**
 * Append one run to `<outputDir>/emissions.csv` (default {@link defaultOutputDir}),
 * synchronously, under a cross-process and cross-host lock.
 *
 * - Creates the directory, and the file with our header ({@link ALL_COLUMNS}).
 * - Writes the row with one `write()` and fsyncs it; rows never interleave.
 * - A torn last line (a writer killed mid-append) is first moved aside to
 *   `emissions.csv.torn-<timestamp>-<pid>` and cut off, so nothing is glued onto it.
 * - A file written by CodeCarbon (any layout or column order) or by the Python package keeps
 *   every row and value: new rows follow the file's own column order; where our columns are
 *   missing, the file is rewritten atomically (temp file, fsync, rename) with them appended to
 *   the header and left empty in the existing rows, which are otherwise copied byte for byte.
 * - Text values that a spreadsheet would execute are stored guarded (see `quoteField`).
 *
 * @throws TypeError when a field has the wrong type; {@link StoreError} when the lock cannot be
 *   had in time, or the existing file has no header (or, when it must be rewritten, is malformed).
 */
export function appendRecord(record: EmissionsRecord, outputDir?: string, options: StoreOptions = {}): void {
  const file = emissionsFile(outputDir);
  // Validate (and format for the common layout) before taking the lock.
  const ours = formatRecordRow(record, ALL_COLUMNS);
  mkdirSync(dirname(file), { recursive: true });
  withLock(
    file,
    (lock) => {
      const fd = openSync(file, 'a+');
      try {
        const size = repairTornTail(file, fd);
        if (size === 0) {
          writeAllSync(fd, Buffer.from(formatHeader(ALL_COLUMNS) + ours, 'utf8'));
          fsyncSync(fd);
          return;
        }
        const head = readHeader(fd, file);
        if (head.plan.missing.length === 0) {
          const sameLayout =
            head.eol === '\n' &&
            head.plan.header.length === ALL_COLUMNS.length &&
            head.plan.header.every((c, i) => c === ALL_COLUMNS[i]);
          const row = sameLayout ? ours : formatRecordRow(record, head.plan.header, head.eol);
          writeAllSync(fd, Buffer.from(row, 'utf8'));
          fsyncSync(fd);
          return;
        }
        // Our columns are missing: rewrite with the union of columns, then the new row.
        const text = readAll(fd).toString('utf8');
        const parsed = parseCsv(text, file);
        const header = parsed.records[0];
        if (!header) throw new StoreError(file, 1, 'LET_CSV_NO_HEADER', 'no header: the file holds no complete line');
        const plan = planColumns(header.fields, file, header.line);
        checkFieldCounts(parsed, plan, file);
        lock.refresh();
        const extra = ',' + plan.missing.join(',');
        const pad = ','.repeat(plan.missing.length);
        const parts: string[] = [text.slice(0, header.end), extra, text.slice(header.end, header.next)];
        let prev = header.next;
        for (let i = 1; i < parsed.records.length; i++) {
          const r = parsed.records[i] as CsvRecord;
          parts.push(text.slice(prev, r.end), pad, text.slice(r.end, r.next));
          prev = r.next;
        }
        parts.push(text.slice(prev));
        const columns = [...plan.header, ...plan.missing];
        parts.push(formatRecordRow(record, columns, parsed.eol));
        atomicWrite(file, parts.join(''), fstatSync(fd).mode, lock);
      } finally {
        closeSync(fd);
      }
    },
    options,
  );
}

function checkFieldCounts(parsed: ParsedCsv, plan: ColumnPlan, file: string): void {
  const want = plan.header.length;
  for (let i = 1; i < parsed.records.length; i++) {
    const r = parsed.records[i] as CsvRecord;
    if (r.fields.length !== want) {
      throw new StoreError(
        file,
        r.line,
        'LET_CSV_FIELD_COUNT',
        `expected ${want} fields (as in the header), found ${r.fields.length}`,
      );
    }
  }
}

// ----------------------------------------------------------------------------------------
// Reading

interface CheckedFilters {
  outputDir: string | undefined;
  projectName: string | undefined;
  user: string | undefined;
  hostname: string | undefined;
  since: number | undefined;
  until: number | undefined;
  /** Whether any row-selecting filter (not just outputDir) was given. */
  selective: boolean;
}

function checkFilters(filters: ResultFilters | undefined): CheckedFilters {
  if (filters !== undefined && (filters === null || typeof filters !== 'object')) {
    throw new TypeError('filters must be an object');
  }
  const f = filters ?? {};
  const text = (name: 'outputDir' | 'projectName' | 'user' | 'hostname'): string | undefined => {
    const v: unknown = f[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new TypeError(`filter ${name} must be a string, got ${typeof v}`);
    return name === 'outputDir' ? v : v.trim();
  };
  const date = (name: 'since' | 'until'): number | undefined => {
    const v: unknown = f[name];
    if (v === undefined || v === null) return undefined;
    if (!(v instanceof Date)) throw new TypeError(`filter ${name} must be a Date, got ${typeof v}`);
    const t = v.getTime();
    if (Number.isNaN(t)) throw new RangeError(`filter ${name} is an invalid Date`);
    return t;
  };
  const c: CheckedFilters = {
    outputDir: text('outputDir'),
    projectName: text('projectName'),
    user: text('user'),
    hostname: text('hostname'),
    since: date('since'),
    until: date('until'),
    selective: false,
  };
  c.selective =
    c.projectName !== undefined || c.user !== undefined || c.hostname !== undefined || c.since !== undefined || c.until !== undefined;
  return c;
}

function matches(rec: LoadedRecord, f: CheckedFilters): boolean {
  if (f.projectName !== undefined && rec.project_name.trim() !== f.projectName) return false;
  if (f.user !== undefined && rec.user.trim() !== f.user) return false;
  if (f.hostname !== undefined && rec.hostname.trim() !== f.hostname) return false;
  if (f.since !== undefined || f.until !== undefined) {
    if (rec.timestamp.trim() === '') return false;
    const t = parseTimestamp(rec.timestamp);
    if (Number.isNaN(t)) {
      throw new StoreError(
        rec.source_file,
        rec.source_line,
        'LET_CSV_BAD_TIMESTAMP',
        `timestamp ${JSON.stringify(rec.timestamp)} is not a date and time (expected YYYY-MM-DDTHH:MM:SS)`,
      );
    }
    if (f.since !== undefined && t < f.since) return false;
    if (f.until !== undefined && t >= f.until) return false;
  }
  return true;
}

/** Parse a whole file into typed records (all rows), checking field counts and numbers. */
function interpret(text: string, file: string): { torn: TornTail | null; rows: LoadedRecord[] } {
  const rows: LoadedRecord[] = [];
  let plan: ColumnPlan | null = null;
  let want = 0;
  const { torn } = visitCsv(text, file, (r, i) => {
    if (i === 0) {
      plan = planColumns(r.fields, file, r.line);
      want = plan.header.length;
      return;
    }
    if (r.fields.length !== want) {
      throw new StoreError(file, r.line, 'LET_CSV_FIELD_COUNT', `expected ${want} fields (as in the header), found ${r.fields.length}`);
    }
    rows.push(toLoadedRecord(r.fields, plan as unknown as ColumnPlan, file, r.line));
  });
  return { torn, rows };
}

/** Typed records of an already parsed file (as {@link interpret}, keeping the offsets). */
function toRecords(parsed: ParsedCsv, file: string): LoadedRecord[] {
  const header = parsed.records[0];
  if (!header) return [];
  const plan = planColumns(header.fields, file, header.line);
  checkFieldCounts(parsed, plan, file);
  const rows: LoadedRecord[] = [];
  for (let i = 1; i < parsed.records.length; i++) {
    const r = parsed.records[i] as CsvRecord;
    rows.push(toLoadedRecord(r.fields, plan, file, r.line));
  }
  return rows;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function report(warning: StoreWarning, options: LoadOptions): void {
  if (options.onWarning) options.onWarning(warning);
  else process.emitWarning(warning.message, { type: 'LetStoreWarning', code: warning.code });
}

/**
 * Read `<outputDir>/emissions.csv` (ours, CodeCarbon's in any of its layouts, or the Python
 * package's) synchronously and return the matching rows as typed records, in file order.
 *
 * - Project, user and host come from our columns, else from the `experiment_id` triple
 *   `<project>___<user>___<hostname>` (user and host taken from the end, so a project may
 *   contain `___`), else from CodeCarbon's `project_name` (user and host empty).
 * - Unquoted fields are trimmed (space-padded files); missing columns read as `''` or `null`;
 *   numbers as numbers (empty → null). Rows sharing a `run_id` (CodeCarbon's periodic
 *   flushes) are all returned, each with its own `source_line`.
 * - Filters: `projectName`, `user`, `hostname` by equality after trimming; `since` (inclusive)
 *   and `until` (exclusive) on the timestamp, read as local time unless it names a zone. Rows
 *   with an empty timestamp do not match a time filter.
 * - A torn last line (a writer died mid-append) is reported through `options.onWarning` or
 *   `process.emitWarning` and every complete row is returned.
 * - A missing file gives `[]`.
 *
 * @throws {@link StoreError} naming the file, the line and the problem, for a malformed file
 *   (wrong field count, unterminated quote not on the last line, a non-number in a numeric
 *   column, no header, or a bad timestamp when filtering by time). The file is not changed.
 */
export function loadResults(filters?: ResultFilters, options: LoadOptions = {}): LoadedRecord[] {
  const f = checkFilters(filters);
  recoverKilledRunsQuietly(f.outputDir); // runs killed without stopping become rows first
  const file = emissionsFile(f.outputDir);
  let text = readText(file);
  if (text === null) return [];
  let { torn, rows } = interpret(text, file);
  if (torn) {
    // Maybe a writer is appending right now: look again once it is done.
    try {
      const again = withLock(file, () => readText(file), { ...options, lockTimeoutMs: options.lockTimeoutMs ?? 5000 });
      if (again === null) return [];
      text = again;
      ({ torn, rows } = interpret(text, file));
    } catch (err) {
      // Cannot lock (read-only directory, busy writer): keep the first reading.
      if (!(err instanceof StoreError) || (err.code !== 'LET_LOCK_FAILED' && err.code !== 'LET_LOCK_TIMEOUT')) throw err;
    }
  }
  if (torn) {
    const t = torn;
    report(
      {
        code: 'LET_TORN_LINE',
        file,
        line: t.line,
        message: `${file}:${t.line}: ignoring a torn last line (${Buffer.byteLength(t.text)} bytes without a line end, left by a writer that died mid-append); the ${rows.length} complete rows before it are kept`,
      },
      options,
    );
  }
  return f.selective ? rows.filter((r) => matches(r, f)) : rows;
}

/** Options of {@link streamResults}. */
export interface StreamOptions extends LoadOptions {
  /** Bytes read at a time (default 1 MiB). */
  chunkSize?: number;
}

/**
 * Like {@link loadResults}, but reads the file piece by piece and yields the matching records
 * one at a time, so memory stays bounded for very large files. Same parsing, filters,
 * warnings and errors (a malformed line throws when it is reached; the rows before it have
 * been yielded). It takes no lock: a torn last line is reported as found.
 */
export async function* streamResults(filters?: ResultFilters, options: StreamOptions = {}): AsyncGenerator<LoadedRecord, void, undefined> {
  const f = checkFilters(filters);
  recoverKilledRunsQuietly(f.outputDir); // runs killed without stopping become rows first
  const file = emissionsFile(f.outputDir);
  const chunkSize = options.chunkSize ?? 1 << 20;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
  let stream: AsyncIterable<string>;
  try {
    const fd = openSync(file, 'r');
    stream = createReadStream('', { fd, encoding: 'utf8', highWaterMark: chunkSize });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let carry = '';
  let scanned = 0; // how far carry has been scanned for quotes
  let inQuote = false;
  let boundary = 0; // offset in carry just after the last line break outside quotes
  let line = 1; // line number of carry's first line
  let plan: ColumnPlan | null = null;
  let want = 0;
  let complete = 0;
  const out: LoadedRecord[] = [];
  const parsePart = (part: string): TornTail | null => {
    const { torn } = visitCsv(
      part,
      file,
      (r) => {
        if (plan === null) {
          plan = planColumns(r.fields, file, r.line);
          want = plan.header.length;
          return;
        }
        if (r.fields.length !== want) {
          throw new StoreError(file, r.line, 'LET_CSV_FIELD_COUNT', `expected ${want} fields (as in the header), found ${r.fields.length}`);
        }
        const rec = toLoadedRecord(r.fields, plan, file, r.line);
        complete++;
        if (!f.selective || matches(rec, f)) out.push(rec);
      },
      line,
    );
    return torn;
  };
  for await (const chunk of stream) {
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
    yield* out.splice(0, out.length);
  }
  if (carry.length > 0) {
    const torn = parsePart(carry);
    yield* out.splice(0, out.length);
    if (torn) {
      report(
        {
          code: 'LET_TORN_LINE',
          file,
          line: torn.line,
          message: `${file}:${torn.line}: ignoring a torn last line (${Buffer.byteLength(torn.text)} bytes without a line end, left by a writer that died mid-append); the ${complete} complete rows before it are kept`,
        },
        options,
      );
    }
  }
}

/**
 * Delete the matching rows from `<outputDir>/emissions.csv` and return how many were deleted.
 * With no row filter (only `outputDir`, or nothing) the file itself is deleted and the number
 * of rows it held is returned. A missing file returns 0. Works under the lock; a selective
 * delete rewrites the file atomically (temp file, fsync, rename), copying kept rows byte for
 * byte. A torn last line is moved aside to `emissions.csv.torn-<timestamp>-<pid>` first.
 *
 * @throws {@link StoreError} for a malformed file (as {@link loadResults}), leaving it unchanged.
 */
export function deleteResults(filters?: ResultFilters, options: StoreOptions = {}): number {
  const f = checkFilters(filters);
  const file = emissionsFile(f.outputDir);
  if (!existsSync(file)) return 0;
  return withLock(
    file,
    (lock) => {
      let fd: number;
      try {
        fd = openSync(file, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      try {
        // Parse before changing anything: a malformed file is left as it is.
        const text = readAll(fd).toString('utf8');
        const parsed = parseCsv(text, file);
        const rows = toRecords(parsed, file);
        const selected = f.selective ? rows.filter((r) => matches(r, f)) : rows;
        if (!f.selective) {
          if (parsed.torn) repairTornTail(file, fd);
          unlinkSync(file);
          return rows.length;
        }
        if (selected.length === 0) return 0;
        if (parsed.torn) repairTornTail(file, fd);
        const header = parsed.records[0] as CsvRecord;
        const drop = new Set(selected.map((r) => r.source_line));
        const parts: string[] = [text.slice(0, header.next)];
        for (let i = 1; i < parsed.records.length; i++) {
          const r = parsed.records[i] as CsvRecord;
          if (!drop.has(r.line)) parts.push(text.slice(r.start, r.next));
        }
        lock.refresh();
        atomicWrite(file, parts.join(''), fstatSync(fd).mode, lock);
        return selected.length;
      } finally {
        closeSync(fd);
      }
    },
    options,
  );
}
