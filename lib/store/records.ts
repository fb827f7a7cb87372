import { ALL_COLUMNS, NUMERIC_COLUMNS } from './schema.js';
import type { Column, EmissionsRecord } from './schema.js';
import { formatNumber, quoteField } from './csv.js';

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

/**
 * Format a record as one CSV row (with its line terminator) in the given column order.
 * Numeric columns are written as numbers (never formula-guarded; empty for null); text columns
 * are formula-guarded and quoted where needed (see {@link quoteField}); columns that are not
 * ours are left empty.
 * @throws TypeError when a field has the wrong type (naming the column).
 */
export function formatRecordRow(record: EmissionsRecord, columns: readonly string[] = ALL_COLUMNS, eol = '\n'): string {
  checkRecord(record);
  const values = record as unknown as Record<string, unknown>;
  const cells: string[] = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as string;
    const known = ALL_SET.has(col);
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

const ALL_SET: ReadonlySet<string> = new Set(ALL_COLUMNS);

/**
 * Check the type of every field of a record (all of ALL_COLUMNS, whichever columns a file has).
 * @throws TypeError naming the field.
 */
export function checkRecord(record: EmissionsRecord): void {
  if (record === null || typeof record !== 'object') throw new TypeError('record must be an object');
  const values = record as unknown as Record<string, unknown>;
  for (const col of ALL_COLUMNS) {
    const v = values[col];
    if (v === null || v === undefined) continue;
    if (NUMERIC_COLUMNS.has(col) ? typeof v !== 'number' : typeof v !== 'string') {
      throw new TypeError(`record.${col} must be ${NUMERIC_COLUMNS.has(col) ? 'a number or null' : 'a string'}, got ${typeof v} ${JSON.stringify(v)}`);
    }
  }
}

/** Format a header line from column names. */
export function formatHeader(columns: readonly string[], eol = '\n'): string {
  return columns.map((c) => quoteField(c, false)).join(',') + eol;
}
