/**
 * Appending runs: CodeCarbon's 38 columns to `emissions.csv`, our own fields to the sidecar,
 * both in one locked operation (sidecar line + fsync, then CSV row + fsync; a failure rolls
 * both back).
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreError, parseCsv, visitCsv } from './csv.js';
import type { CsvRecord } from './csv.js';
import { planColumns } from './decoder.js';
import type { ColumnPlan } from './decoder.js';
import { appendOrRollBack, atomicReplace, makeDirectory, moveTailAside, openForWrite, readAll, readRange } from './files.js';
import type { Refreshable } from './files.js';
import { buildRewrite, layoutOf, parseChecked } from './layout.js';
import { withLock } from './lock.js';
import { AGGREGATED_FILES, storeAggregates } from './aggregate-scan.js';
import { fileState } from './aggregates.js';
import type { LockOptions } from './lock.js';
import { emissionsFile, sidecarFileOf } from './paths.js';
import { checkRecord, formatHeader, formatRecordRow } from './records.js';
import { CODECARBON_COLUMNS } from './schema.js';
import type { EmissionsRecord } from './schema.js';
import { appendSidecar, openSidecar, readSidecar, rollBackSidecar, sidecarLine } from './sidecar.js';
import type { OpenSidecar } from './sidecar.js';
import { checkDirectory } from './warnings.js';
import type { WarningOptions } from './warnings.js';

/** Options of the writing functions. */
export interface StoreOptions extends LockOptions, WarningOptions {}

/** The file's header record, its column plan and line terminator. */
interface HeaderInfo {
  record: CsvRecord;
  plan: ColumnPlan;
  eol: '\n' | '\r\n';
}

/** Read and check the header record from the start of an open file (which ends with a line break). */
function readHeader(fd: number, file: string): HeaderInfo {
  const size = fstatSync(fd).size;
  let chunk = 4096;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(chunk, size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const whole = n >= size;
    const text = buf.toString('latin1', 0, n);
    let first: CsvRecord | null = null;
    const stop = new Error('header read');
    try {
      visitCsv(text, file, (r) => {
        first = r;
        throw stop;
      });
    } catch (err) {
      // A chunk may end inside a later quoted field: read more unless that was the whole file.
      if (err !== stop && whole) throw err;
    }
    const header = first as CsvRecord | null;
    if (header) {
      const eol = header.end < header.next - 1 ? '\r\n' : '\n';
      return { record: header, plan: planColumns(header.fields, file, header.line), eol };
    }
    if (whole) throw new StoreError(file, 1, 'LET_CSV_NO_HEADER', 'no header: the file holds no complete line');
    chunk *= 4;
  }
}

/** Whether a whole file without a line break is the start of a header (a writer died writing it). */
function isTornHeader(text: string): boolean {
  const names = text.replace(/^\u00ef\u00bb\u00bf/, '').split(',').map((n) => n.trim().replace(/^"|"$/g, ''));
  return names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) && 'timestamp'.startsWith(names[0] as string);
}

/** Bytes parsed at the end of a file to find where its torn last record starts (the common case). */
const TAIL_WINDOW = 1 << 20;

/**
 * Where the torn last record of a file starts: parsed from a line start within the last MiB
 * (a file is parsed whole only when that window does not parse cleanly, e.g. it starts inside
 * a quoted field spanning lines), so a torn line costs the same on a file of any size.
 */
function tornStart(file: string, fd: number, size: number): number {
  if (size > TAIL_WINDOW) {
    const window = readRange(fd, size - TAIL_WINDOW, TAIL_WINDOW).toString('latin1');
    const from = window.indexOf('\n') + 1;
    if (from > 0) {
      try {
        const parsed = parseCsv(window.slice(from), file);
        const torn = parsed.torn;
        const before = window.slice(from, from + (torn?.start ?? 0));
        if (torn && (before.split('"').length - 1) % 2 === 0) return size - TAIL_WINDOW + from + torn.start;
      } catch {
        // Not a clean window: parse the whole file below.
      }
    }
  }
  const parsed = parseCsv(readAll(fd, size).toString('latin1'), file);
  return parsed.torn ? parsed.torn.start : size;
}

/**
 * Under the lock: when the file does not end with a line break, check it (its header, and the
 * records around the torn tail: a file without a header, or with old Mac line ends, throws and
 * is left as it is), then move the torn last record aside and cut it off. Returns the size
 * afterwards.
 */
function repairTornTail(file: string, fd: number, size: number): number {
  if (size === 0 || readRange(fd, size - 1, 1)[0] === 0x0a) return size;
  const head = readRange(fd, 0, Math.min(size, TAIL_WINDOW)).toString('latin1');
  if (head.indexOf('\n') < 0 && head.indexOf('\r') >= 0) {
    throw new StoreError(
      file,
      null,
      'LET_CSV_CR_ONLY',
      'its lines end with CR only (old Mac style); it can be read but not appended to: convert it with `tr "\\r" "\\n"` first',
    );
  }
  if (head.indexOf('\n') < 0 && size <= TAIL_WINDOW) {
    // No complete line: a header cut short is moved aside whole; anything else is refused.
    if (!isTornHeader(head)) {
      throw new StoreError(file, 1, 'LET_CSV_NO_HEADER', 'no header: the file holds no complete line and does not start with column names');
    }
    moveTailAside(file, fd, 0, size);
    return 0;
  }
  const header = readHeader(fd, file); // throws for a file without a header
  // A file this append will rewrite is checked whole first: a malformed one is left as it is.
  if (layoutOf(header.plan).kind !== 'append') parseChecked(readAll(fd, size).toString('latin1'), file);
  const cut = tornStart(file, fd, size);
  if (cut < size) moveTailAside(file, fd, cut, size);
  return cut;
}

/** The CSV rows and sidecar lines of records, for a file with these columns and line end. */
function format(records: readonly EmissionsRecord[], columns: readonly string[], eol: string): { rows: Buffer; lines: string } {
  const rows = records.map((r) => formatRecordRow(r, columns, eol)).join('');
  return { rows: Buffer.from(rows, 'utf8'), lines: records.map(sidecarLine).join('') };
}

/** Append under the lock, to an open CSV file. */
function appendLocked(file: string, fd: number, stats: Stats, records: readonly EmissionsRecord[], lock: Refreshable): void {
  const sideFile = sidecarFileOf(file);
  const size = repairTornTail(file, fd, stats.size);
  let side: OpenSidecar | null = null;
  try {
    if (size === 0) {
      const { rows, lines } = format(records, CODECARBON_COLUMNS, '\n');
      side = openSidecar(sideFile);
      appendSidecar(side, lines);
      appendOrRollBack(fd, 0, Buffer.concat([Buffer.from(formatHeader(CODECARBON_COLUMNS), 'utf8'), rows]));
      return;
    }
    const head = readHeader(fd, file);
    const layout = layoutOf(head.plan);
    const { rows, lines } = format(records, layout.columns, head.eol);
    if (layout.kind === 'append') {
      side = openSidecar(sideFile);
      appendSidecar(side, lines);
      appendOrRollBack(fd, size, rows);
      return;
    }
    // Widen or migrate: build the whole new file (checking every line) before writing anything.
    const buf = readAll(fd, size);
    const index = layout.kind === 'migrate' ? readSidecar(sideFile, () => undefined) : new Map();
    const rewrite = buildRewrite(buf, file, layout, head.eol, index);
    lock.refresh();
    side = openSidecar(sideFile);
    appendSidecar(side, rewrite.sidecarLines + lines);
    atomicReplace(file, [...rewrite.parts, rows], stats, lock);
  } catch (err) {
    if (side) rollBackSidecar(side);
    throw err;
  } finally {
    if (side) closeSync(side.fd);
  }
}

/**
 * Append runs to `<outputDir>/emissions.csv` (default {@link defaultOutputDir}) and their own
 * fields to the sidecar `emissions.let.jsonl`, synchronously, under one cross-process lock and
 * with one fsync of each file: for tools that write many rows. See {@link appendRecord}.
 *
 * @throws TypeError when a field has the wrong type or a run_id is empty (nothing is written);
 *   {@link StoreError} when the lock cannot be had in time, or the file cannot be appended to
 *   (not a regular file, a symbolic link, no header, malformed where it must be rewritten, old
 *   Mac line ends). The files are then as they were.
 */
export function appendRecords(records: readonly EmissionsRecord[], outputDir?: string, options: StoreOptions = {}): void {
  if (!Array.isArray(records)) throw new TypeError('records must be an array');
  const file = emissionsFile(outputDir);
  // Validate before taking the lock.
  for (const record of records) {
    checkRecord(record);
    if (typeof record.run_id !== 'string' || record.run_id.trim() === '') {
      throw new TypeError(`record.run_id must be a non-empty string (it keys the run's own fields), got ${JSON.stringify(record.run_id)}`);
    }
  }
  if (records.length === 0) return;
  const dir = dirname(file);
  makeDirectory(dir);
  checkDirectory(dir, options);
  withLock(
    file,
    (lock) => {
      // First under the lock: the files as they were before this append (for the aggregates).
      const before = Object.fromEntries(AGGREGATED_FILES.map((n) => [n, fileState(join(dir, n))]));
      const { fd, stats } = openForWrite(file, true) as { fd: number; stats: Stats };
      try {
        appendLocked(file, fd, stats, records, lock);
      } finally {
        closeSync(fd);
      }
      try {
        // Extends aggregates that were up to date with these rows; never a rebuild here.
        storeAggregates(dir, { before, rebuild: false });
      } catch {
        // A cache: never fail an append for it (the next reader rebuilds it).
      }
    },
    options,
  );
}

/**
 * Append one run to `<outputDir>/emissions.csv` (default {@link defaultOutputDir}),
 * synchronously, under a cross-process and cross-host lock.
 *
 * - Creates the directory, and the file with CodeCarbon 3.2.x's 38 columns, in its order, so
 *   CodeCarbon and the Python package append to the same file without moving it aside.
 * - Our own fields (TRACKER_COLUMNS) go to the sidecar `emissions.let.jsonl`, one JSON line per
 *   run keyed by `run_id`, written (and fsynced) before the CSV row; a failed CSV write cuts
 *   both files back, so no partial row is left.
 * - A torn last line (a writer killed mid-append) is moved aside to
 *   `emissions.csv.torn-<pid>-<random>` and cut off, after the file was checked.
 * - A file CodeCarbon narrowed (it drops columns empty in every row) or an older CodeCarbon
 *   layout gets the missing CodeCarbon columns back (an atomic rewrite that keeps every line's
 *   bytes and extends it); a 0.1.0 file (38 + our 8 columns) is migrated: our columns move to
 *   the sidecar. Files with foreign columns get rows in their own column order.
 * - Text values that a spreadsheet would execute are stored guarded (see `quoteField`).
 *
 * @throws as {@link appendRecords}.
 */
export function appendRecord(record: EmissionsRecord, outputDir?: string, options: StoreOptions = {}): void {
  appendRecords([record], outputDir, options);
}
