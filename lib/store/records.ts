import { ALL_COLUMNS, NUMERIC_COLUMNS } from './schema.js';
import type { Column, EmissionsRecord, EnergyMethod, LoadedRecord, RunStatus } from './schema.js';
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

/** One row being turned into a record: its fields, where our columns are, and a string cache. */
interface RowCtx {
  fields: readonly string[];
  index: Int32Array;
  cache: string[];
  file: string;
  line: number;
}

function txt(r: RowCtx, k: number): string {
  const at = r.index[k] as number;
  if (at < 0) return '';
  const v = r.fields[at] as string;
  // Reuse the previous row's identical string: long files repeat most text values.
  const prev = r.cache[k];
  if (prev === v) return prev;
  r.cache[k] = v;
  return v;
}

function num(r: RowCtx, k: number, col: Column): number | null {
  const at = r.index[k] as number;
  if (at < 0) return null;
  const raw = r.fields[at] as string;
  const n = parseNumber(raw.trim());
  if (n === undefined) {
    throw new StoreError(r.file, r.line, 'LET_CSV_NOT_A_NUMBER', `column ${col}: ${JSON.stringify(raw)} is not a number`);
  }
  return n;
}

const caches = new WeakMap<ColumnPlan, string[]>();

/**
 * Turn one row's fields into a typed record. Numbers are parsed (empty → null); a value that
 * is not a number in a numeric column throws a {@link StoreError} naming file, line and column.
 * Project, user and host come from our columns, else from the `experiment_id` triple, else
 * from CodeCarbon's `project_name` (user and host empty).
 */
export function toLoadedRecord(fields: readonly string[], plan: ColumnPlan, file: string, line: number): LoadedRecord {
  let cache = caches.get(plan);
  if (!cache) {
    cache = new Array<string>(ALL.length).fill('');
    caches.set(plan, cache);
  }
  const r: RowCtx = { fields, index: plan.index, cache, file, line };
  // An object literal in ALL_COLUMNS order (checked at module load): one hidden class for all rows.
  const rec: LoadedRecord = {
    timestamp: txt(r, 0),
    project_name: txt(r, 1),
    run_id: txt(r, 2),
    experiment_id: txt(r, 3),
    duration: num(r, 4, 'duration'),
    emissions: num(r, 5, 'emissions'),
    emissions_rate: num(r, 6, 'emissions_rate'),
    cpu_power: num(r, 7, 'cpu_power'),
    gpu_power: num(r, 8, 'gpu_power'),
    ram_power: num(r, 9, 'ram_power'),
    cpu_energy: num(r, 10, 'cpu_energy'),
    gpu_energy: num(r, 11, 'gpu_energy'),
    ram_energy: num(r, 12, 'ram_energy'),
    energy_consumed: num(r, 13, 'energy_consumed'),
    water_consumed: num(r, 14, 'water_consumed'),
    country_name: txt(r, 15),
    country_iso_code: txt(r, 16),
    region: txt(r, 17),
    cloud_provider: txt(r, 18),
    cloud_region: txt(r, 19),
    os: txt(r, 20),
    python_version: txt(r, 21),
    codecarbon_version: txt(r, 22),
    cpu_count: num(r, 23, 'cpu_count'),
    cpu_model: txt(r, 24),
    gpu_count: num(r, 25, 'gpu_count'),
    gpu_model: txt(r, 26),
    longitude: num(r, 27, 'longitude'),
    latitude: num(r, 28, 'latitude'),
    ram_total_size: num(r, 29, 'ram_total_size'),
    tracking_mode: txt(r, 30),
    cpu_utilization_percent: num(r, 31, 'cpu_utilization_percent'),
    gpu_utilization_percent: num(r, 32, 'gpu_utilization_percent'),
    ram_utilization_percent: num(r, 33, 'ram_utilization_percent'),
    ram_used_gb: num(r, 34, 'ram_used_gb'),
    on_cloud: txt(r, 35),
    pue: num(r, 36, 'pue'),
    wue: num(r, 37, 'wue'),
    hostname: txt(r, 38),
    user: txt(r, 39),
    tracker_version: txt(r, 40),
    cpu_energy_method: txt(r, 41) as EnergyMethod | '',
    gpu_energy_method: txt(r, 42) as EnergyMethod | '',
    ram_energy_method: txt(r, 43) as EnergyMethod | '',
    carbon_intensity: num(r, 44, 'carbon_intensity'),
    run_status: txt(r, 45) as RunStatus | '',
    wall_energy: num(r, 46, 'wall_energy'),
    wall_energy_method: txt(r, 47),
    wall_energy_uncertainty: num(r, 48, 'wall_energy_uncertainty'),
    source_file: file,
    source_line: line,
    written_by: 'codecarbon',
  };
  const triple = rec.experiment_id.indexOf('___') >= 0 ? splitExperimentId(rec.experiment_id.trim()) : null;
  if (rec.tracker_version !== '') {
    rec.written_by = 'lamarr-energy-tracker';
    if (rec.user === '' && triple) rec.user = triple.user;
    if (rec.hostname === '' && triple) rec.hostname = triple.hostname;
  } else if (triple) {
    rec.written_by = 'lamarr-energy-tracker-python';
    rec.project_name = triple.project;
    if (rec.user === '') rec.user = triple.user;
    if (rec.hostname === '') rec.hostname = triple.hostname;
  }
  return rec;
}

// The literal above lists the columns by position; make sure that matches the schema.
const LITERAL_ORDER: readonly string[] = ['timestamp', 'project_name', 'run_id', 'experiment_id', 'duration', 'emissions', 'emissions_rate', 'cpu_power', 'gpu_power', 'ram_power', 'cpu_energy', 'gpu_energy', 'ram_energy', 'energy_consumed', 'water_consumed', 'country_name', 'country_iso_code', 'region', 'cloud_provider', 'cloud_region', 'os', 'python_version', 'codecarbon_version', 'cpu_count', 'cpu_model', 'gpu_count', 'gpu_model', 'longitude', 'latitude', 'ram_total_size', 'tracking_mode', 'cpu_utilization_percent', 'gpu_utilization_percent', 'ram_utilization_percent', 'ram_used_gb', 'on_cloud', 'pue', 'wue', 'hostname', 'user', 'tracker_version', 'cpu_energy_method', 'gpu_energy_method', 'ram_energy_method', 'carbon_intensity', 'run_status', 'wall_energy', 'wall_energy_method', 'wall_energy_uncertainty'];
if (LITERAL_ORDER.length !== ALL.length || LITERAL_ORDER.some((c, i) => c !== ALL[i])) {
  throw new Error('lib/store/records.ts: the record literal is out of step with ALL_COLUMNS in schema.ts');
}
const LITERAL_NUMERIC: readonly string[] = ['duration', 'emissions', 'emissions_rate', 'cpu_power', 'gpu_power', 'ram_power', 'cpu_energy', 'gpu_energy', 'ram_energy', 'energy_consumed', 'water_consumed', 'cpu_count', 'gpu_count', 'longitude', 'latitude', 'ram_total_size', 'cpu_utilization_percent', 'gpu_utilization_percent', 'ram_utilization_percent', 'ram_used_gb', 'pue', 'wue', 'carbon_intensity', 'wall_energy', 'wall_energy_uncertainty'];
if (LITERAL_NUMERIC.length !== NUMERIC_COLUMNS.size || LITERAL_NUMERIC.some((c) => !NUMERIC_COLUMNS.has(c as Column))) {
  throw new Error('lib/store/records.ts: the record literal is out of step with NUMERIC_COLUMNS in schema.ts');
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
