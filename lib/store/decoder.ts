/**
 * The one record decoder every reader uses: the header's column plan, the field-count check,
 * and the typed record (numbers parsed, our fields joined from the sidecar, project, user and
 * host from the `experiment_id` triple where ours are absent). Driven by the column lists of
 * `schema.ts`: no column is named here.
 *
 * Input is latin1 text (one character per byte, see `files.ts`); field values are decoded
 * from UTF-8 here, so only values, never offsets, see the decoding.
 */
import { StoreError, parseNumber, visitCsv } from './csv.js';
import type { CsvRecord, TornTail } from './csv.js';
import { splitExperimentId } from './records.js';
import { ALL_COLUMNS, NUMERIC_COLUMNS, TRACKER_COLUMNS } from './schema.js';
import type { Column, LoadedRecord } from './schema.js';
import type { SidecarIndex } from './sidecar.js';
import { IndexJoin } from './sidecar-join.js';
import type { SidecarJoin } from './sidecar-join.js';
import { LineDecoder } from './row-plan.js';
import type { LineText } from './row-plan.js';

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
const IS_NUMERIC = ALL.map((c) => NUMERIC_COLUMNS.has(c));
/** Positions of TRACKER_COLUMNS within ALL_COLUMNS. */
const TRACKER_AT = TRACKER_COLUMNS.map((c) => ALL.indexOf(c));
const RUN_ID = ALL.indexOf('run_id');

/**
 * Build a record from values in ALL_COLUMNS order: an object literal generated once from the
 * schema's column list, so every record has one shape (one hidden class), whatever the schema.
 */
const buildRecord = new Function(
  'v',
  'source_file',
  'source_line',
  `return { ${ALL.map((c, k) => `${JSON.stringify(c)}: v[${k}]`).join(', ')}, source_file, source_line, written_by: 'codecarbon' };`,
) as (values: readonly (string | number | null)[], file: string, line: number) => LoadedRecord;

/**
 * Check a header record and map our columns onto it. Throws a {@link StoreError} when the first
 * line is not a header (it must name `timestamp` and `project_name` or `experiment_id`), then
 * when it names a column twice.
 */
export function planColumns(headerFields: readonly string[], file: string, line: number): ColumnPlan {
  const header = headerFields.map((h) => h.trim());
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (!seen.has(name)) seen.set(name, i);
  });
  if (!seen.has('timestamp') || !(seen.has('project_name') || seen.has('experiment_id'))) {
    const shown = decodeField(header.slice(0, 4).join(','));
    throw new StoreError(
      file,
      line,
      'LET_CSV_NO_HEADER',
      `no header: the first line must name the columns (at least timestamp and project_name or experiment_id), found ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown)}`,
    );
  }
  header.forEach((name, i) => {
    if (name !== '' && seen.get(name) !== i) {
      throw new StoreError(file, line, 'LET_CSV_DUPLICATE_COLUMN', `column ${JSON.stringify(name)} appears twice in the header`);
    }
  });
  const index = new Int32Array(ALL.length);
  const missing: Column[] = [];
  ALL.forEach((c, i) => {
    const at = seen.get(c);
    index[i] = at ?? -1;
    if (at === undefined) missing.push(c);
  });
  return { header, index, missing };
}

const NON_ASCII = /[^\x00-\x7f]/;

/** A latin1 field value (bytes) as the UTF-8 text it holds. */
export function decodeField(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/** A field-count error naming the file and line. */
export function fieldCountError(file: string, line: number, want: number, found: number): StoreError {
  return new StoreError(file, line, 'LET_CSV_FIELD_COUNT', `expected ${want} fields (as in the header), found ${found}`);
}

/** Turns one file's records into typed records; construct one per file read. */
export class RecordDecoder {
  /** The header's plan, once the header was seen. */
  plan: ColumnPlan | null = null;
  private want = 0;
  private readonly cache: string[] = new Array<string>(ALL.length).fill('');
  /** Gives each row its run's sidecar entry (null: no sidecar). */
  private readonly sidecar: SidecarJoin | null;
  /** The values of the record being built, in ALL_COLUMNS order. */
  private readonly values: (string | number | null)[] = new Array<string | number | null>(ALL.length).fill(null);

  /**
   * @param file the file's path, for records and errors.
   * @param sidecar our fields, joined into the records: an index by run_id, or a join that
   *   gives each row its entry in file order (null: none).
   * @param ascii true when the text holds no byte ≥ 0x80 (skips UTF-8 decoding); may be set
   *   again for each part of a file decoded piece by piece.
   */
  constructor(
    readonly file: string,
    sidecar: SidecarIndex | SidecarJoin | null,
    public ascii = false,
  ) {
    if (sidecar === null || typeof (sidecar as SidecarJoin).entryFor === 'function') this.sidecar = sidecar as SidecarJoin | null;
    else this.sidecar = (sidecar as SidecarIndex).size > 0 ? new IndexJoin(sidecar as SidecarIndex) : null;
  }

  /** The common path for this header (see `row-plan.ts`), made when first needed. */
  private lineDecoder: LineDecoder | null = null;

  /** Take the header record. */
  header(fields: readonly string[], line: number): ColumnPlan {
    this.plan = planColumns(fields, this.file, line);
    this.want = this.plan.header.length;
    this.lineDecoder = null;
    return this.plan;
  }

  /**
   * Decode a data line without quotes, t.text[start, end), on the common path; null when the
   * general path ({@link record} on its fields) must take it.
   */
  line(t: LineText, start: number, end: number, line: number): LoadedRecord | null {
    const plan = this.plan as ColumnPlan;
    this.lineDecoder ??= new LineDecoder(plan.index, this.want, this.file, this.sidecar);
    return this.lineDecoder.decode(t, start, end, line);
  }

  /** Check that a data record has as many fields as the header. */
  check(fields: readonly string[], line: number): void {
    if (fields.length !== this.want) throw fieldCountError(this.file, line, this.want, fields.length);
  }

  /**
   * Turn one data record into a typed record. Numbers are parsed (empty → null); a value that
   * is not a number in a numeric column throws a {@link StoreError} naming file, line and column.
   */
  record(fields: readonly string[], line: number): LoadedRecord {
    const plan = this.plan as ColumnPlan;
    this.check(fields, line);
    const values = this.values;
    for (let k = 0; k < ALL.length; k++) {
      const at = plan.index[k] as number;
      if (IS_NUMERIC[k]) {
        if (at < 0) {
          values[k] = null;
          continue;
        }
        const raw = fields[at] as string;
        const n = parseNumber(raw.trim());
        if (n === undefined) {
          throw new StoreError(this.file, line, 'LET_CSV_NOT_A_NUMBER', `column ${ALL[k]}: ${JSON.stringify(decodeField(raw))} is not a number`);
        }
        values[k] = n;
      } else {
        let v = at < 0 ? '' : (fields[at] as string);
        if (!this.ascii) v = decodeField(v);
        // Reuse the previous row's identical string: long files repeat most text values.
        if (this.cache[k] === v) v = this.cache[k] as string;
        else this.cache[k] = v;
        values[k] = v;
      }
    }
    if (this.sidecar !== null) this.join(values[RUN_ID] as string);
    const rec = buildRecord(values, this.file, line);
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

  /** The run_id of a data record's fields, as {@link record} reads it (after the header). */
  runIdOf(fields: readonly string[]): string {
    const at = (this.plan as ColumnPlan).index[RUN_ID] as number;
    if (at < 0) return '';
    const v = fields[at] as string;
    return this.ascii ? v : decodeField(v);
  }

  /** Our fields from the sidecar over the CSV's (absent keys keep the CSV's). */
  private join(runId: string): void {
    const entry = (this.sidecar as SidecarJoin).entryFor(runId);
    if (entry === undefined) return;
    for (let j = 0; j < TRACKER_AT.length; j++) {
      const v = entry[j];
      if (v === undefined) continue;
      const k = TRACKER_AT[j] as number;
      this.values[k] = IS_NUMERIC[k] && typeof v === 'string' ? (parseNumber(v.trim()) ?? null) : v;
    }
  }
}

/**
 * Visit the records of latin1 CSV text with a decoder: the first record is the header, each
 * later one is checked and handed to `onRecord` (with its raw parse, for rewrites); with
 * `onDecoded`, lines without quotes are decoded on the common path and handed there instead
 * (`bytes`, when given, are the text's bytes: text values are copied from them). Returns the
 * torn last record, if any. `firstLine` is the line number of the text's first line (for
 * parsing a file piece by piece).
 */
export function decodeText(
  text: string,
  decoder: RecordDecoder,
  onRecord: (raw: CsvRecord) => void,
  firstLine = 1,
  onDecoded?: (record: LoadedRecord) => void,
  bytes?: Buffer,
): TornTail | null {
  const t: LineText = { text, bytes: bytes ?? null, ascii: decoder.ascii };
  const { torn } = visitCsv(
    text,
    decoder.file,
    (r) => {
      if (decoder.plan === null) decoder.header(r.fields, r.line);
      else onRecord(r);
    },
    firstLine,
    onDecoded &&
      ((start, end, line) => {
        if (decoder.plan === null) return false;
        const record = decoder.line(t, start, end, line);
        if (record === null) return false;
        onDecoded(record);
        return true;
      }),
  );
  return torn;
}

/**
 * Old Macintosh line ends (CR only, no LF anywhere) as LF, so such a file reads as lines; the
 * same length, so offsets still match the bytes. Other text is returned as it is.
 */
export function crOnlyAsLf(text: string): string {
  return text.indexOf('\n') < 0 && text.indexOf('\r') >= 0 ? text.replace(/\r/g, '\n') : text;
}
