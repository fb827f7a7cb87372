/**
 * CodeCarbon 3.2.3's CSV writer, ported for tests (no Python here): `FileOutput.out` in its
 * default `on_csv_write="append"` mode (codecarbon/output_methods/file.py) and `backup`
 * (codecarbon/core/util.py), with the parts of pandas it relies on modelled:
 *
 * - `has_valid_headers`: the file's first row (csv.DictReader) is compared with the row to
 *   write as SETS of column names (`sorted(...) == sorted(...)`); a file with a header and no
 *   row is valid. An empty file counts as absent.
 * - On a difference, `backup` renames the file to `emissions.csv.bak`, or the first free of
 *   `emissions.csv_0.bak`, `emissions.csv_1.bak`, …, and a new file is written.
 * - Otherwise: `pd.read_csv` (type inference: int, float, bool, object; pandas' default NA
 *   strings read as NaN), `dropna(axis=1, how="all")` on the file's frame and on the new row,
 *   `pd.concat` (columns in order of appearance; a column missing from one part turns int
 *   into float and bool into object), `to_csv(index=False)`: the whole file rewritten, floats
 *   as Python's repr, NaN as empty, text unguarded, quoted only where the csv module must.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Python int (a plain JS number stands for a Python float). */
export class PyInt {
  constructor(readonly value: number) {}
}

/** A value of CodeCarbon's EmissionsData: str, float, int, bool or None (null). */
export type PyValue = string | number | PyInt | boolean | null;

type Dtype = 'int' | 'float' | 'bool' | 'object';

/** One column of a modelled DataFrame; NaN/None are null. */
interface Column {
  name: string;
  dtype: Dtype;
  values: (string | number | boolean | null)[];
}

const NA_STRINGS = new Set(['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null']);
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity)$/i;
const BOOL_STRINGS = new Map([['True', true], ['TRUE', true], ['true', true], ['False', false], ['FALSE', false], ['false', false]]);

/** Python's `repr(float)`. */
export function pyRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('-', '').replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp >= 0) return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}.${digits.slice(exp + 1) || '0'}`;
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** A plain RFC 4180 reader as pandas' C parser and Python's csv module read (no trimming, no unguarding). */
export function readCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else field += c;
      continue;
    }
    if (c === '"' && field === '' && !quoted) {
      inQuotes = true;
      quoted = true;
      any = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      quoted = false;
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (any || field !== '') {
        row.push(field);
        rows.push(row);
      }
      row = [];
      field = '';
      quoted = false;
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || field !== '') {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** `pd.read_csv` with default options: columns with inferred dtypes. */
function readCsv(path: string): Column[] {
  const rows = readCsvRows(readFileSync(path, 'utf8'));
  const header = rows[0] ?? [];
  return header.map((name, j) => {
    const raw = rows.slice(1).map((r) => r[j] ?? '');
    const values = raw.map((v) => (NA_STRINGS.has(v) ? null : v));
    const present = values.filter((v): v is string => v !== null);
    const hasNa = present.length < values.length;
    if (present.length > 0 && present.every((v) => INT_RE.test(v))) {
      return { name, dtype: hasNa ? 'float' : 'int', values: values.map((v) => (v === null ? null : Number(v))) } as Column;
    }
    if (present.every((v) => FLOAT_RE.test(v))) {
      return { name, dtype: 'float', values: values.map((v) => (v === null ? null : /inf/i.test(v) ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v))) } as Column;
    }
    if (!hasNa && present.every((v) => BOOL_STRINGS.has(v))) return { name, dtype: 'bool', values: values.map((v) => BOOL_STRINGS.get(v as string) as boolean) } as Column;
    return { name, dtype: 'object', values } as Column;
  });
}

/** `pd.DataFrame.from_records([row])`. */
function frameOf(row: Record<string, PyValue>): Column[] {
  return Object.entries(row).map(([name, v]) => {
    if (v === null) return { name, dtype: 'object', values: [null] } as Column;
    if (v instanceof PyInt) return { name, dtype: 'int', values: [v.value] } as Column;
    if (typeof v === 'number') return { name, dtype: 'float', values: [v] } as Column;
    if (typeof v === 'boolean') return { name, dtype: 'bool', values: [v] } as Column;
    return { name, dtype: 'object', values: [v] } as Column;
  });
}

/** `df.dropna(axis=1, how="all")` (a frame without rows loses every column). */
function dropEmptyColumns(frame: Column[]): Column[] {
  return frame.filter((c) => c.values.some((v) => v !== null));
}

/** A value of a typed column as text in an object column (Python's str()). */
function asObject(dtype: Dtype, v: string | number | boolean | null): string | number | boolean | null {
  if (v === null || dtype === 'object') return v;
  if (dtype === 'int') return String(v);
  if (dtype === 'float') return pyRepr(v as number);
  return v ? 'True' : 'False';
}

/** `pd.concat([a, b])`: union of columns in order of appearance, dtypes promoted. */
function concat(a: Column[], b: Column[], rowsA: number, rowsB: number): Column[] {
  const names = [...a.map((c) => c.name), ...b.map((c) => c.name).filter((n) => !a.some((c) => c.name === n))];
  return names.map((name) => {
    const ca = a.find((c) => c.name === name);
    const cb = b.find((c) => c.name === name);
    const parts = [ca ?? { name, dtype: 'float' as Dtype, values: new Array(rowsA).fill(null) }, cb ?? { name, dtype: 'float' as Dtype, values: new Array(rowsB).fill(null) }];
    const missing = (!ca && rowsA > 0) || (!cb && rowsB > 0);
    const live = parts.filter((p) => p.values.length > 0);
    const types = new Set(live.map((p) => p.dtype));
    let dtype: Dtype;
    if (types.size === 1) dtype = [...types][0] as Dtype;
    else if ([...types].every((t) => t === 'int' || t === 'float')) dtype = 'float';
    else dtype = 'object';
    if (missing && dtype === 'int') dtype = 'float';
    if (missing && dtype === 'bool') dtype = 'object';
    const values = parts.flatMap((p) => (dtype === 'object' ? p.values.map((v) => asObject(p.dtype, v)) : p.values));
    return { name, dtype, values };
  });
}

/** Python csv module, QUOTE_MINIMAL. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** `df.to_csv(path, index=False)`. */
function toCsv(path: string, frame: Column[]): void {
  const rows = frame.length === 0 ? 0 : (frame[0] as Column).values.length;
  const lines = [frame.map((c) => csvField(c.name)).join(',')];
  for (let i = 0; i < rows; i++) {
    lines.push(
      frame
        .map((c) => {
          const v = c.values[i] ?? null;
          if (v === null) return '';
          if (c.dtype === 'float' || (c.dtype === 'object' && typeof v === 'number')) return pyRepr(v as number);
          if (typeof v === 'boolean') return v ? 'True' : 'False';
          return csvField(String(v));
        })
        .join(','),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** `codecarbon.core.util.backup`: rename to `<name>.bak`, else the first free `<name>_<N>.bak`. Returns the new path. */
export function backup(path: string): string {
  let target = `${path}.bak`;
  let idx = 0;
  while (existsSync(target)) {
    target = path.replace(/([^/]+)$/, `$1_${idx}.bak`);
    idx++;
  }
  renameSync(path, target);
  return target;
}

/** `FileOutput.has_valid_headers`: the same SET of column names (or no data row). */
function hasValidHeaders(path: string, row: Record<string, PyValue>): boolean {
  const rows = readCsvRows(readFileSync(path, 'utf8'));
  if (rows.length < 2) return true;
  const header = rows[0] as string[];
  const keys = new Set(header);
  if ((rows[1] as string[]).length > header.length) keys.add('None');
  return [...keys].sort().join('\u0000') === Object.keys(row).sort().join('\u0000');
}

/**
 * What CodeCarbon 3.2.3 does when a run ends with its default file output: returns the backup
 * it made of an existing file (null when none).
 */
export function codecarbonAppend(outputDir: string, row: Record<string, PyValue>, fileName = 'emissions.csv'): string | null {
  const path = join(outputDir, fileName);
  let exists = existsSync(path) && statSync(path).isFile();
  if (exists && statSync(path).size === 0) exists = false;
  let moved: string | null = null;
  if (exists && !hasValidHeaders(path, row)) {
    moved = backup(path);
    exists = false;
  }
  const fresh = frameOf(row);
  if (!exists) {
    toCsv(path, fresh);
    return moved;
  }
  const old = readCsv(path);
  const oldRows = old.length === 0 ? 0 : (old[0] as Column).values.length;
  const kept = dropEmptyColumns(old);
  toCsv(path, concat(kept, dropEmptyColumns(fresh), kept.length === 0 ? 0 : oldRows, 1));
  return moved;
}

/** A row as CodeCarbon 3.2.3 writes it in offline mode (region, cloud and coordinates None), with overrides. */
export function codecarbonRow(overrides: Partial<Record<string, PyValue>> = {}): Record<string, PyValue> {
  return {
    timestamp: '2026-05-23T12:19:45',
    project_name: 'codecarbon',
    run_id: 'e080413e-d5ca-4c8b-a230-6dd806dd66e7',
    experiment_id: '5b0fa12a-3dd7-45bb-9766-cc326314d9f1',
    duration: 1.5153613869988476,
    emissions: 1.7038495809377285e-6,
    emissions_rate: 1.1243849787621811e-6,
    cpu_power: 6.753348699500002,
    gpu_power: 11.621682946999432,
    ram_power: 20.0,
    cpu_energy: 1.8871909098923633e-6,
    gpu_energy: 4.8627816679885916e-6,
    ram_energy: 5.5871977388859606e-6,
    energy_consumed: 1.2337170316766916e-5,
    water_consumed: 0.0,
    country_name: 'Belgium',
    country_iso_code: 'BEL',
    region: null,
    cloud_provider: null,
    cloud_region: null,
    os: 'Linux-6.18.32-1-lts-x86_64-with-glibc2.43',
    python_version: '3.12.3',
    codecarbon_version: '3.2.3',
    cpu_count: new PyInt(12),
    cpu_model: '11th Gen Intel(R) Core(TM) i5-11400F @ 2.60GHz',
    gpu_count: new PyInt(1),
    gpu_model: '1 x NVIDIA GeForce RTX 3060 Ti',
    longitude: null,
    latitude: null,
    ram_total_size: 23.23291015625,
    tracking_mode: 'machine',
    cpu_utilization_percent: 0.0,
    gpu_utilization_percent: 0.0,
    ram_utilization_percent: 0.0,
    ram_used_gb: 0.0,
    on_cloud: 'N',
    pue: 1.0,
    wue: 0.0,
    ...overrides,
  };
}
