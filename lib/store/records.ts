import { ALL_COLUMNS, NUMERIC_COLUMNS } from './schema.js';
import type { Column, EmissionsRecord, LoadedRecord } from './schema.js';
import { StoreError, formatNumber, parseNumber, quoteField } from './csv.js';

/** Project, user and host packed in the Python package's `experiment_id`. */
export interface ExperimentKey {
  project: string;
  user: string;
  hostname: string;
}

/**
 * Split `<project>___<user>___<hostname>` (the Python package's `experiment_id`). User and
 * host are taken from the end, so a project name may itself contain `___`. Returns null when
 * the value does not hold two `___` separators.
 */
export function splitExperimentId(experimentId: string): ExperimentKey | null {
  const h = experimentId.lastIndexOf('___');
  if (h < 0) return null;
  const rest = experimentId.slice(0, h);
  const u = rest.lastIndexOf('___');
  if (u < 0) return null;
  return { project: rest.slice(0, u), user: rest.slice(u + 3), hostname: experimentId.slice(h + 3) };
}

/** Build the `experiment_id` triple the Python package uses. */
export function joinExperimentId(key: ExperimentKey): string {
  return `${key.project}___${key.user}___${key.hostname}`;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parse a CSV timestamp to epoch milliseconds: `YYYY-MM-DDTHH:MM:SS` without a zone is local
 * time (as CodeCarbon writes it); fractional seconds, a space for `T`, and a zone (`Z`,
 * `+02:00`, `+0200`, `+02`) as CodeCarbon 2.x wrote are accepted. Returns NaN when invalid.
 */
export function parseTimestamp(value: string): number {
  const m = TIMESTAMP_RE.exec(value.trim());
  if (!m) return NaN;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(hh ?? 0), Number(mi ?? 0), Number(ss ?? 0), ms] as const;
  if (parts[1] > 11 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59 || parts[5] > 60) return NaN;
  if (zone === undefined) return new Date(...parts).getTime();
  const utc = Date.UTC(...parts);
  if (zone.toUpperCase() === 'Z') return utc;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return utc - sign * offsetMin * 60_000;
}

/** Where each of our columns sits in a file's header (-1: absent). */
export interface ColumnPlan {
  /** The header's column names, trimmed, in the file's order. */
  header: string[];
  /** For each of ALL_COLUMNS (same order), its index in `header` or -1. */
  index: Int32Array;
  /** ALL_COLUMNS missing from the header, in ALL_COLUMNS order. */
  missing: Column[];
}

const ALL: readonly Column[] = ALL_COLUMNS;
const IS_NUMERIC: boolean[] = ALL.map((c) => NUMERIC_COLUMNS.has(c));

/**
 * Check a header record and map our columns onto it. Throws a {@link StoreError} when the first
 * line is not a header (it must name `timestamp` and `project_name` or `experiment_id`) or
 * names a column twice.
 */
export function planColumns(headerFields: readonly string[], file: string, line: number): ColumnPlan {
  const header = headerFields.map((h) => h.trim());
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (name !== '' && seen.has(name)) {
      throw new StoreError(file, line, 'LET_CSV_DUPLICATE_COLUMN', `column ${JSON.stringify(name)} appears twice in the header`);
    }
    seen.set(name, i);
  });
  if (!seen.has('timestamp') || !(seen.has('project_name') || seen.has('experiment_id'))) {
    const shown = header.slice(0, 4).join(',');
    throw new StoreError(
      file,
      line,
      'LET_CSV_NO_HEADER',
      `no header: the first line must name the columns (at least timestamp and project_name or experiment_id), found ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown)}`,
    );
  }
  const index = new Int32Array(ALL.length);
  const missing: Column[] = [];
  ALL.forEach((c, i) => {
    const at = seen.get(c);
    index[i] = at ?? -1;
    if (at === undefined) missing.push(c);
  });
  return { header, index, missing };
}

/**
 * Turn one row's fields into a typed record. Numbers are parsed (empty → null); a value that
 * is not a number in a numeric column throws a {@link StoreError} naming file, line and column.
 * Project, user and host come from our columns, else from the `experiment_id` triple, else
 * from CodeCarbon's `project_name` (user and host empty).
 */
export function toLoadedRecord(fields: readonly string[], plan: ColumnPlan, file: string, line: number): LoadedRecord {
  const out: Record<string, string | number | null> = {};
  const index = plan.index;
  for (let i = 0; i < ALL.length; i++) {
    const col = ALL[i] as Column;
    const at = index[i] as number;
    const raw = at < 0 ? '' : (fields[at] as string);
    if (IS_NUMERIC[i]) {
      const n = parseNumber(raw.trim());
      if (n === undefined) {
        throw new StoreError(file, line, 'LET_CSV_NOT_A_NUMBER', `column ${col}: ${JSON.stringify(raw)} is not a number`);
      }
      out[col] = n;
    } else {
      out[col] = raw;
    }
  }
  const rec = out as unknown as LoadedRecord;
  const triple = splitExperimentId(rec.experiment_id.trim());
  if (rec.tracker_version !== '') {
    rec.written_by = 'lamarr-energy-tracker';
    if (rec.user === '' && triple) rec.user = triple.user;
    if (rec.hostname === '' && triple) rec.hostname = triple.hostname;
  } else if (triple) {
    rec.written_by = 'lamarr-energy-tracker-python';
    rec.project_name = triple.project;
    if (rec.user === '') rec.user = triple.user;
    if (rec.hostname === '') rec.hostname = triple.hostname;
  } else {
    rec.written_by = 'codecarbon';
  }
  rec.source_file = file;
  rec.source_line = line;
  return rec;
}

/**
 * Format a record as one CSV row (with its line terminator) in the given column order.
 * Numeric columns are written as numbers (never formula-guarded; empty for null); text columns
 * are formula-guarded and quoted where needed (see {@link quoteField}); columns that are not
 * ours are left empty.
 * @throws TypeError when a field has the wrong type (naming the column).
 */
export function formatRecordRow(record: EmissionsRecord, columns: readonly string[] = ALL_COLUMNS, eol = '\n'): string {
  if (record === null || typeof record !== 'object') throw new TypeError('record must be an object');
  const values = record as unknown as Record<string, unknown>;
  const cells: string[] = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as string;
    const known = (ALL as readonly string[]).includes(col);
    const v = known ? values[col] : undefined;
    if (known && NUMERIC_COLUMNS.has(col as Column)) {
      if (v !== null && v !== undefined && typeof v !== 'number') {
        throw new TypeError(`record.${col} must be a number or null, got ${typeof v} ${JSON.stringify(v)}`);
      }
      cells[i] = formatNumber(v as number | null | undefined);
    } else {
      if (v !== null && v !== undefined && typeof v !== 'string') {
        throw new TypeError(`record.${col} must be a string, got ${typeof v} ${JSON.stringify(v)}`);
      }
      cells[i] = quoteField((v as string | null | undefined) ?? '');
    }
  }
  return cells.join(',') + eol;
}

/** Format a header line from column names. */
export function formatHeader(columns: readonly string[], eol = '\n'): string {
  return columns.map((c) => quoteField(c, false)).join(',') + eol;
}
