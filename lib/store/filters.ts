/** The filters of loadResults, streamResults and deleteResults: checked once, applied per record. */
import { StoreError } from './csv.js';
import { parseTimestamp } from './records.js';
import type { LoadedRecord, ResultFilters } from './schema.js';

/** Filters after their types were checked; times as epoch milliseconds. */
export interface CheckedFilters {
  outputDir: string | undefined;
  projectName: string | undefined;
  user: string | undefined;
  hostname: string | undefined;
  since: number | undefined;
  until: number | undefined;
  /** Whether any row-selecting filter (not just outputDir) was given. */
  selective: boolean;
}

/** Check the filters' types (TypeError/RangeError naming the filter). */
export function checkFilters(filters: ResultFilters | undefined): CheckedFilters {
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

/** Whether a record passes the filters (a bad timestamp throws when filtering by time). */
export function matches(rec: LoadedRecord, f: CheckedFilters): boolean {
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
