/**
 * The common path of the record decoder: a line without quotes decoded straight from the text
 * with the header's plan (what each of the file's columns is, computed once per file): no
 * array of fields and no substring per field; the record is one object literal with every
 * property in ALL_COLUMNS order (one shape for all).
 *
 * - Text: the previous row's value when the bytes are the same; else a table of the column's
 *   values seen (up to {@link INTERN_LIMIT}), so repeated text (project, country, CPU, OS, …)
 *   is one string; a new value is a flat copy of its bytes (never a slice that would keep the
 *   whole chunk's text alive), decoded from UTF-8.
 * - Numbers: the previous row's number (the same object) when the bytes are the same; plain
 *   decimals of at most 2^53 as mantissa and 22 decimals are computed exactly (an integer
 *   divided by a power of ten: one correctly rounded operation, as `Number()` gives); other
 *   decimals by `Number()`, anything else by `parseNumber`. The records' numeric fields hold
 *   references (see the record built at load below), so repeated values are shared: 57 instead
 *   of 72 MiB for 100k rows of a typical store.
 *
 * Whatever this path does not handle exactly (spaces to trim, a field count that differs, a
 * value that is not a number) returns null before any side effect (the sidecar join is done
 * last), and the general path decodes the line, with its errors.
 */
import { parseNumber } from './csv.js';
import { splitExperimentId } from './records.js';
import type { ExperimentKey } from './records.js';
import { ALL_COLUMNS, NUMERIC_COLUMNS, TRACKER_COLUMNS } from './schema.js';
import type { LoadedRecord } from './schema.js';
import type { SidecarJoin } from './sidecar-join.js';

/** The text being decoded and (made on first need) its bytes. */
export interface LineText {
  text: string;
  bytes: Buffer | null;
  /** No byte ≥ 0x80 in the text. */
  ascii: boolean;
}

/** Distinct values kept per text column for sharing. */
export const INTERN_LIMIT = 4096;

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** A field's number (see the module doc); undefined when it is not one. */
function numberAt(text: string, p: number, e: number): number | null | undefined {
  let i = p;
  let c = text.charCodeAt(i);
  const neg = c === 45;
  if (neg || c === 43) i++;
  let m = 0;
  let digits = 0;
  let scale = 0;
  while (i < e && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
    m = m * 10 + (c - 48);
    digits++;
    i++;
  }
  if (i < e && c === 46) {
    i++;
    while (i < e && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      scale++;
      i++;
    }
  }
  if (i < e || digits === 0) return parseNumber(text.slice(p, e));
  // Decimal notation, but beyond the exact path: Number() rounds it correctly.
  if (m > Number.MAX_SAFE_INTEGER || scale > 22) return Number(text.slice(p, e));
  const v = scale === 0 ? m : m / (POW10[scale] as number);
  return neg ? -v : v;
}

/** Whether text holds `s` at p (a loop: cheaper than a builtin call for short strings). */
export function holdsAt(text: string, p: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (text.charCodeAt(p + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** Shares text values of one column (see the module doc). */
class TextColumn {
  private readonly seen = new Map<string, string>();
  /** The previous row's bytes (latin1) and value. */
  raw = '';
  value = '';

  /** The value of text[p, e). */
  take(t: LineText, p: number, e: number): string {
    if (e - p === this.raw.length && t.text.startsWith(this.raw, p)) return this.value;
    // A column whose table is full (unique values: timestamps, run_ids) is not looked up.
    const full = this.seen.size >= INTERN_LIMIT;
    let value = full ? undefined : this.seen.get(t.text.slice(p, e));
    if (value === undefined) {
      const bytes = (t.bytes ??= Buffer.from(t.text, 'latin1'));
      const flat = bytes.toString('latin1', p, e);
      value = t.ascii || !NON_ASCII.test(flat) ? flat : bytes.toString('utf8', p, e);
      if (!full) this.seen.set(flat, value);
      this.raw = flat;
    } else this.raw = t.text.slice(p, e);
    this.value = value;
    return value;
  }
}

const NON_ASCII = /[^\x00-\x7f]/;
const IS_NUMERIC = ALL_COLUMNS.map((c) => NUMERIC_COLUMNS.has(c));
const TRACKER_AT = TRACKER_COLUMNS.map((c) => (ALL_COLUMNS as readonly string[]).indexOf(c));
const RUN_ID = (ALL_COLUMNS as readonly string[]).indexOf('run_id');

/** Build a record from values in ALL_COLUMNS order: one object literal, one shape. */
const buildRecord = new Function(
  'v',
  'file',
  'line',
  'by',
  `return { ${ALL_COLUMNS.map((c, k) => `${JSON.stringify(c)}: v[${k}]`).join(', ')}, source_file: file, source_line: line, written_by: by };`,
) as (values: readonly (string | number | null)[], file: string, line: number, by: LoadedRecord['written_by']) => LoadedRecord;

// One record with text in every numeric field: the records' shape then holds numbers as
// references (V8 "tagged" fields), so rows repeating a value share one number instead of each
// holding its own box.
buildRecord(ALL_COLUMNS.map(() => ''), '', 0, 'codecarbon');

const SKIP = 0;
const TEXT = 1;
const NUMBER = 2;

/** The common path for one file's header (see the module doc); construct one per file read. */
export class LineDecoder {
  /** Per header column: SKIP (not ours), TEXT or NUMBER. */
  private readonly kinds: Uint8Array;
  /** Per header column: its index in ALL_COLUMNS. */
  private readonly columns: Int32Array;
  /** ALL_COLUMNS absent from the header (the sidecar and the triple may fill them): reset on every row. */
  private readonly absent: number[];
  private readonly values: (string | number | null)[];
  /** The previous row's bytes and number, per column (the same number object for the same bytes). */
  private readonly numberRaw: string[] = ALL_COLUMNS.map(() => '');
  private readonly numberValue: (number | null)[] = ALL_COLUMNS.map(() => null);
  private readonly texts = ALL_COLUMNS.map(() => new TextColumn());
  private lastId = '';
  private lastTriple: ExperimentKey | null = null;

  /**
   * @param index for each of ALL_COLUMNS, its position in the header (-1: absent).
   * @param width the header's number of columns.
   */
  constructor(
    index: Int32Array,
    private readonly width: number,
    private readonly file: string,
    private readonly join: SidecarJoin | null,
  ) {
    this.kinds = new Uint8Array(width);
    this.columns = new Int32Array(width);
    this.values = ALL_COLUMNS.map((_, k) => (IS_NUMERIC[k] ? null : ''));
    index.forEach((pos, k) => {
      if (pos < 0) return;
      this.kinds[pos] = IS_NUMERIC[k] ? NUMBER : TEXT;
      this.columns[pos] = k;
    });
    this.absent = ALL_COLUMNS.map((_, k) => k).filter((k) => (index[k] as number) < 0);
  }

  /** Decode text[start, end) (no quote in it), or null: the general path must take the line. */
  decode(t: LineText, start: number, end: number, line: number): LoadedRecord | null {
    const text = t.text;
    const values = this.values;
    const last = this.width - 1;
    let p = start;
    for (let i = 0; i <= last; i++) {
      let e: number;
      if (i < last) {
        e = text.indexOf(',', p);
        if (e < 0 || e >= end) return null;
      } else {
        e = end;
        const c = text.indexOf(',', p);
        if (c >= 0 && c < end) return null;
      }
      const kind = this.kinds[i];
      if (kind !== SKIP) {
        const k = this.columns[i] as number;
        if (e === p) values[k] = kind === NUMBER ? null : '';
        else {
          // Spaces around an unquoted value are trimmed by the general path.
          const a = text.charCodeAt(p);
          const b = text.charCodeAt(e - 1);
          if (a === 32 || a === 9 || b === 32 || b === 9) return null;
          if (kind === TEXT) values[k] = (this.texts[k] as TextColumn).take(t, p, e);
          else {
            const raw = this.numberRaw[k] as string;
            if (e - p === raw.length && text.startsWith(raw, p)) values[k] = this.numberValue[k] as number | null;
            else {
              const n = numberAt(text, p, e);
              if (n === undefined) return null;
              this.numberRaw[k] = text.slice(p, e);
              this.numberValue[k] = n;
              values[k] = n;
            }
          }
        }
      }
      p = e + 1;
    }
    for (const k of this.absent) values[k] = IS_NUMERIC[k] ? null : '';
    if (this.join !== null) {
      // Our fields from the sidecar over the CSV's (absent keys keep the CSV's).
      const entry = this.join.entryFor(values[RUN_ID] as string);
      if (entry !== undefined) {
        for (let j = 0; j < TRACKER_AT.length; j++) {
          const v = entry[j];
          if (v === undefined) continue;
          const k = TRACKER_AT[j] as number;
          values[k] = IS_NUMERIC[k] && typeof v === 'string' ? (parseNumber(v.trim()) ?? null) : v;
        }
      }
    }
    return buildRecord(values, this.file, line, this.fillFromTriple(values));
  }

  /** Project, user and host from the experiment_id triple where ours are absent; returns the writer. */
  private fillFromTriple(values: (string | number | null)[]): LoadedRecord['written_by'] {
    const id = values[EXPERIMENT_ID] as string;
    const ours = values[TRACKER_VERSION] !== '';
    if (ours && values[USER] !== '' && values[HOSTNAME] !== '') return 'lamarr-energy-tracker';
    if (id.indexOf('___') < 0) return ours ? 'lamarr-energy-tracker' : 'codecarbon';
    if (id !== this.lastId) {
      this.lastId = id;
      this.lastTriple = splitExperimentId(id.trim());
    }
    const triple = this.lastTriple;
    if (triple === null) return ours ? 'lamarr-energy-tracker' : 'codecarbon';
    if (!ours) values[PROJECT] = triple.project;
    if (values[USER] === '') values[USER] = triple.user;
    if (values[HOSTNAME] === '') values[HOSTNAME] = triple.hostname;
    return ours ? 'lamarr-energy-tracker' : 'lamarr-energy-tracker-python';
  }
}

const at = (name: string): number => (ALL_COLUMNS as readonly string[]).indexOf(name);
const EXPERIMENT_ID = at('experiment_id');
const TRACKER_VERSION = at('tracker_version');
const USER = at('user');
const HOSTNAME = at('hostname');
const PROJECT = at('project_name');
