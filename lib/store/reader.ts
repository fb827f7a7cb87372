/**
 * Reading the store's files: one CSV file into typed records (through the one decoder), the
 * sidecar index, and the set of files a query covers: `emissions.csv` and the backups
 * CodeCarbon leaves beside it (`emissions.csv.bak`, `emissions.csv_N.bak`), deduplicated by
 * run_id (a later file wins; rows sharing a run_id within one file are all kept).
 */
import { isAscii } from 'node:buffer';
import { closeSync, lstatSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { visitCsv } from './csv.js';
import type { CsvRecord, TornTail } from './csv.js';
import { RecordDecoder, crOnlyAsLf } from './decoder.js';
import { openForRead, readAll } from './files.js';
import { BACKUP_NAME_RE, sidecarFileOf } from './paths.js';
import type { LoadedRecord } from './schema.js';
import { readSidecar } from './sidecar.js';
import type { SidecarIndex, SidecarProblem } from './sidecar.js';
import { report } from './warnings.js';
import type { WarningOptions } from './warnings.js';

/** One CSV file read whole: its bytes, parse and typed records. */
export interface ReadFile {
  file: string;
  buf: Buffer;
  /** Complete records, the header first (offsets are byte offsets); empty unless asked for. */
  raw: CsvRecord[];
  /** Typed records of the data rows, in file order. */
  rows: LoadedRecord[];
  torn: TornTail | null;
  decoder: RecordDecoder;
}

/** The bytes of a CSV file; null when it does not exist. Only regular files are read. */
export function readCsvBytes(file: string): Buffer | null {
  const opened = openForRead(file);
  if (!opened) return null;
  try {
    return readAll(opened.fd, opened.stats.size);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Decode the bytes of a CSV file. `tick` is called every 16,384 records (a lock holder
 * refreshes its lock there).
 * @throws {@link StoreError} for a malformed file.
 */
export function decodeCsv(file: string, buf: Buffer, sidecar: SidecarIndex | null, tick?: () => void, keepRaw = false): ReadFile {
  const text = crOnlyAsLf(buf.toString('latin1'));
  const decoder = new RecordDecoder(file, sidecar, isAscii(buf));
  const raw: CsvRecord[] = [];
  const rows: LoadedRecord[] = [];
  const { torn } = visitCsv(text, file, (r, i) => {
    if (keepRaw) raw.push(r);
    if (i === 0) decoder.header(r.fields, r.line);
    else rows.push(decoder.record(r.fields, r.line));
    if (tick && (i & 0x3fff) === 0) tick();
  });
  return { file, buf, raw, rows, torn, decoder };
}

/**
 * Read and decode a whole CSV file; null when it does not exist. (A reader racing writers reads
 * the CSV's bytes before the sidecar: a writer writes a run's sidecar line before its row.)
 * @throws {@link StoreError} for a malformed file or one that is not a regular file.
 */
export function readCsvFile(file: string, sidecar: SidecarIndex | null, tick?: () => void, keepRaw = false): ReadFile | null {
  const buf = readCsvBytes(file);
  return buf === null ? null : decodeCsv(file, buf, sidecar, tick, keepRaw);
}

/** A backup CodeCarbon left, with its order. */
export interface Backup {
  file: string;
  mtimeMs: number;
  /** -1 for `emissions.csv.bak`, N for `emissions.csv_N.bak`. */
  index: number;
}

/**
 * CodeCarbon's backups of `csvFile` (regular files only), oldest first: by modification time,
 * then by name (`.bak` before `_0.bak`, `_1.bak`, … as CodeCarbon picks the first free name).
 */
export function listBackups(csvFile: string): Backup[] {
  const dir = dirname(csvFile);
  if (basename(csvFile) !== 'emissions.csv') return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Backup[] = [];
  for (const name of names) {
    const m = BACKUP_NAME_RE.exec(name);
    if (!m) continue;
    const file = join(dir, name);
    try {
      const st = lstatSync(file);
      if (st.isFile()) out.push({ file, mtimeMs: st.mtimeMs, index: m[1] === undefined ? -1 : Number(m[1]) });
    } catch {
      // Gone since the listing.
    }
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.index - b.index);
}

/** Reports an unusable sidecar line as a warning. */
export function sidecarProblemReporter(options: WarningOptions): (p: SidecarProblem) => void {
  return (p) =>
    report({ code: 'LET_SIDECAR_BAD_LINE', file: p.file, line: p.line, message: `${p.file}:${p.line}: skipping an unusable line (${p.problem}); it holds only one run's labels` }, options);
}

/** The sidecar index of a store, reporting unusable lines as warnings. */
export function loadSidecar(csvFile: string, options: WarningOptions): Map<string, import('./sidecar.js').SidecarEntry[]> {
  return readSidecar(sidecarFileOf(csvFile), sidecarProblemReporter(options));
}

/**
 * Deduplicate across files, newest file first: a row whose run_id was seen in a newer file is
 * dropped; rows sharing a run_id within one file are all kept; rows without a run_id are kept.
 * Returns, per file (same order), the rows kept (a file's own array when all are kept). `seen`
 * holds run_ids of newer files read before.
 */
export function dedupeNewestFirst(files: readonly LoadedRecord[][], seen = new Set<string>()): LoadedRecord[][] {
  return files.map((rows, i) => {
    // Nothing newer: all kept (the same array); the last file's run_ids are needed by no other.
    const kept = seen.size === 0 ? rows : rows.filter((r) => r.run_id === '' || !seen.has(r.run_id));
    if (i < files.length - 1) for (const r of rows) if (r.run_id !== '') seen.add(r.run_id);
    return kept;
  });
}

/** The torn-line warning of a file. */
export function tornWarning(file: string, torn: TornTail, complete: number): import('./warnings.js').StoreWarning {
  return {
    code: 'LET_TORN_LINE',
    file,
    line: torn.line,
    message: `${file}:${torn.line}: ignoring a torn last line (${torn.text.length} bytes without a line end, left by a writer that died mid-append); the ${complete} complete rows before it are kept`,
  };
}

/** The warning that rows were read from backups. */
export function backupsWarning(csvFile: string, backups: readonly { file: string; rows: number }[]): import('./warnings.js').StoreWarning {
  const total = backups.reduce((n, b) => n + b.rows, 0);
  const names = backups.map((b) => `${basename(b.file)} (${b.rows} rows)`).join(', ');
  return {
    code: 'LET_BACKUPS_READ',
    file: csvFile,
    line: null,
    message: `${dirname(csvFile)}: also read ${total} rows from the backups CodeCarbon moved aside: ${names}; run \`npx lamarr-energy-tracker repair\` to merge them back into emissions.csv`,
  };
}
