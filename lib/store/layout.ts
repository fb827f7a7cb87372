/**
 * What an append does with the layout it finds, and the rewrites that bring a file to
 * CodeCarbon's column set:
 *
 * - `append`: every CodeCarbon column is there (any order; foreign columns and our old columns
 *   kept): the row is appended in the file's own column order.
 * - `widen`: CodeCarbon columns are missing (CodeCarbon dropped its empty columns, or a 2.x
 *   layout): they are added at the end of the header, each existing line copied byte for byte
 *   and extended by empty fields, so CodeCarbon 3.2.x then finds its own column set.
 * - `migrate`: the file has our old columns (0.1.0: CodeCarbon's 38 + ours) and no foreign
 *   column: every row is rewritten without ours (missing CodeCarbon columns added), our values
 *   moving to the sidecar.
 */
import { parseCsv, quoteField } from './csv.js';
import type { CsvRecord } from './csv.js';
import { RecordDecoder, decodeField } from './decoder.js';
import type { ColumnPlan } from './decoder.js';
import { CODECARBON_COLUMNS, NUMERIC_COLUMNS, TRACKER_COLUMNS } from './schema.js';
import type { Column, TrackerColumn } from './schema.js';
import type { SidecarIndex } from './sidecar.js';
import { sidecarLineFromFields } from './sidecar.js';

/** What an append must do to a file with a given header. */
export interface Layout {
  kind: 'append' | 'widen' | 'migrate';
  /** CodeCarbon columns the header lacks (added at its end by `widen` and `migrate`). */
  add: string[];
  /** The file's columns after the append. */
  columns: string[];
}

const CC_SET: ReadonlySet<string> = new Set(CODECARBON_COLUMNS);
const TRACKER_SET: ReadonlySet<string> = new Set(TRACKER_COLUMNS);

/** Decide what an append does with a file whose header has this plan. */
export function layoutOf(plan: ColumnPlan): Layout {
  const header = plan.header;
  const add = CODECARBON_COLUMNS.filter((c) => !header.includes(c));
  const foreign = header.some((c) => !CC_SET.has(c) && !TRACKER_SET.has(c));
  const ours = header.some((c) => TRACKER_SET.has(c));
  if (ours && !foreign) return { kind: 'migrate', add, columns: [...header.filter((c) => !TRACKER_SET.has(c)), ...add] };
  if (add.length > 0) return { kind: 'widen', add, columns: [...header, ...add] };
  return { kind: 'append', add, columns: header };
}

/** The rewritten file (before the new rows) and the sidecar lines a migration moves out. */
export interface Rewrite {
  parts: Buffer[];
  sidecarLines: string;
}

/**
 * Parse a whole file (latin1 text of its bytes) and check every record's field count, before
 * anything is changed. Returns the records, the header first.
 */
export function parseChecked(text: string, file: string): CsvRecord[] {
  const parsed = parseCsv(text, file);
  const decoder = new RecordDecoder(file, null);
  parsed.records.forEach((r, i) => {
    if (i === 0) decoder.header(r.fields, r.line);
    else decoder.check(r.fields, r.line);
  });
  return parsed.records;
}

/** `widen`: the header extended by the missing columns, every line copied and padded. */
function widen(buf: Buffer, records: CsvRecord[], add: readonly string[]): Buffer[] {
  const header = records[0] as CsvRecord;
  const pad = Buffer.from(','.repeat(add.length), 'latin1');
  const parts: Buffer[] = [buf.subarray(0, header.end), Buffer.from(`,${add.join(',')}`, 'latin1'), buf.subarray(header.end, header.next)];
  let prev = header.next;
  for (let i = 1; i < records.length; i++) {
    const r = records[i] as CsvRecord;
    parts.push(buf.subarray(prev, r.end), pad, buf.subarray(r.end, r.next));
    prev = r.next;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

/** `migrate`: rows without our columns (values re-quoted as the writer quotes them), ours to lines of the sidecar. */
function migrate(buf: Buffer, records: CsvRecord[], plan: ColumnPlan, layout: Layout, eol: string, sidecar: SidecarIndex): Rewrite {
  const header = records[0] as CsvRecord;
  const keep: number[] = [];
  const ourAt: [TrackerColumn, number][] = [];
  plan.header.forEach((name, i) => {
    if (TRACKER_SET.has(name)) ourAt.push([name as TrackerColumn, i]);
    else keep.push(i);
  });
  const numeric = keep.map((i) => NUMERIC_COLUMNS.has(plan.header[i] as Column));
  const runIdAt = plan.header.indexOf('run_id');
  const pad = ','.repeat(layout.add.length);
  const lines: string[] = [layout.columns.map((c) => quoteField(c, false)).join(',') + eol];
  // One entry per row (in order) for each run that has none yet and has a value of ours.
  const moved = new Map<string, { lines: string[]; any: boolean }>();
  for (let r = 1; r < records.length; r++) {
    const fields = (records[r] as CsvRecord).fields;
    lines.push(keep.map((i, j) => quoteField(fields[i] as string, !numeric[j])).join(',') + pad + eol);
    const runId = runIdAt < 0 ? '' : decodeField((fields[runIdAt] as string).trim());
    if (runId === '' || sidecar.has(runId)) continue;
    const ours = new Map<TrackerColumn, string>();
    for (const [col, i] of ourAt) ours.set(col, decodeField(fields[i] as string));
    const run = moved.get(runId) ?? { lines: [], any: false };
    run.lines.push(sidecarLineFromFields(runId, ours));
    run.any ||= [...ours.values()].some((v) => v !== '');
    moved.set(runId, run);
  }
  // Lines are latin1 text of the original bytes: written back as latin1, non-UTF-8 bytes survive.
  const parts = [buf.subarray(0, header.start), Buffer.from(lines.join(''), 'latin1')];
  return { parts, sidecarLines: [...moved.values()].flatMap((run) => (run.any ? run.lines : [])).join('') };
}

/**
 * Build the rewrite of a whole file for `widen` or `migrate`. Parses and checks everything
 * first: a malformed file throws a {@link StoreError} and nothing is written.
 */
export function buildRewrite(buf: Buffer, file: string, layout: Layout, eol: string, sidecar: SidecarIndex): Rewrite {
  const text = buf.toString('latin1');
  const records = parseChecked(text, file);
  const plan = new RecordDecoder(file, null).header((records[0] as CsvRecord).fields, (records[0] as CsvRecord).line);
  if (layout.kind === 'widen') return { parts: widen(buf, records, layout.add), sidecarLines: '' };
  return migrate(buf, records, plan, layout, eol, sidecar);
}
