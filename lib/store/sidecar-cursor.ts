/**
 * Reading the sidecar forward, one entry at a time, from an open descriptor: 64 KiB of bytes at
 * a time as latin1 text, so memory does not grow with the file. Each line is parsed by a
 * scanner for the shape our writer produces (`JSON.stringify` of `run_id` then our columns in
 * TRACKER_COLUMNS order, some possibly missing) without building an object; any other line
 * (escapes, spaces, other key orders, unknown keys, wrong types) goes through `JSON.parse` and
 * the same checks as `readSidecar`, so both give the same entries and the same problems.
 */
import { readSync } from 'node:fs';
import { parseNumber } from './csv.js';
import { NUMERIC_COLUMNS, TRACKER_COLUMNS } from './schema.js';
import type { Column } from './schema.js';
import { holdsAt } from './row-plan.js';
import { parseSidecarLine } from './sidecar.js';
import type { SidecarProblem } from './sidecar.js';

/** Our fields of one entry in TRACKER_COLUMNS order; `undefined` where the entry lacks the key. */
export type SidecarValues = (string | number | null | undefined)[];

const NUMERIC = TRACKER_COLUMNS.map((c) => NUMERIC_COLUMNS.has(c as Column));
/** `"<key>":` of each column, as JSON.stringify writes it after a comma. */
const KEY_TOKENS = TRACKER_COLUMNS.map((c) => `,"${c}":`);
const RUN_ID_TOKEN = '{"run_id":"';
const NON_ASCII = /[^\x00-\x7f]/;
const QUOTE = 34;
const BACKSLASH = 92;

/** A latin1 run of UTF-8 bytes as the text it holds. */
function utf8(latin1: string): string {
  return NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

/** Whether text[from, to) is a JSON number (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`). */
function isJsonNumber(text: string, from: number, to: number): boolean {
  let i = from;
  if (text.charCodeAt(i) === 45) i++;
  const first = text.charCodeAt(i);
  if (first === 48) i++;
  else if (first >= 49 && first <= 57) while (i < to && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  else return false;
  if (i < to && text.charCodeAt(i) === 46) {
    const d = ++i;
    while (i < to && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i === d) return false;
  }
  if (i < to && (text.charCodeAt(i) | 32) === 101) {
    i++;
    if (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45) i++;
    const d = i;
    while (i < to && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i === d) return false;
  }
  return i === to;
}

/**
 * Bytes read at a time: text below V8's large-object size (128 KiB) dies young, where a
 * 1 MiB string waits for a full collection (tens of MiB held at the peak of a long read).
 */
const READ_SIZE = 1 << 16;

/** How many line ends are remembered. */
const TAILS = 256;

/** Where a cursor reads. */
export interface SidecarCursorOptions {
  /** The sidecar, open for reading (not closed by the cursor). */
  fd: number;
  /** Bytes to read: lines beyond are not seen; a last line without its `\n` is torn and ignored. */
  size: number;
  /** The sidecar's path, for problems. */
  file: string;
  /** Called for each unusable line, in order. */
  onProblem: (p: SidecarProblem) => void;
}

/** Reads a sidecar's usable entries in file order (see the module doc). */
export class SidecarCursor {
  /** run_id of the current entry ('' when {@link done}). */
  runId = '';
  /** Values of the current entry (reused from entry to entry: copy what must be kept). */
  readonly values: SidecarValues = new Array<string | number | null | undefined>(TRACKER_COLUMNS.length).fill(undefined);
  /** No entry left. */
  done = false;
  /** Once {@link done}: the offset after the last whole line (a torn last line is not covered). */
  complete = 0;
  private pos = 0;
  /** File offset where the text ends. */
  private textEnd = 0;
  private text = '';
  private at = 0;
  /** Position of the next backslash in text at or after `at` (text.length: none), once searched. */
  private backslash = -1;
  private line = 0;
  private buf: Buffer;
  /** Repeated text values (hosts, users, methods) shared, per column. */
  private readonly interned = TRACKER_COLUMNS.map(() => new Map<string, string>());
  /** Line ends (after the run_id) seen first, with their values. */
  private readonly tails = new Map<string, SidecarValues>();
  private tailHits = 0;
  private tailMisses = 0;
  /** The previous text value's bytes (latin1) and value, per column. */
  private readonly previous: string[] = TRACKER_COLUMNS.map(() => '\u0100'); // matches no byte
  private readonly previousValue: string[] = TRACKER_COLUMNS.map(() => '');

  private readonly fd: number;
  private readonly size: number;
  private readonly file: string;
  private readonly onProblem: (p: SidecarProblem) => void;

  /** Opens on the first entry (or {@link done}). */
  constructor(opts: SidecarCursorOptions) {
    this.fd = opts.fd;
    this.size = opts.size;
    this.file = opts.file;
    this.onProblem = opts.onProblem;
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(opts.size, READ_SIZE)));
    this.advance();
  }

  /** Move to the next usable entry (or set {@link done}). */
  advance(): void {
    for (;;) {
      let nl = this.text.indexOf('\n', this.at);
      while (nl < 0) {
        if (this.pos >= this.size) {
          this.complete = this.textEnd - (this.text.length - this.at);
          this.done = true;
          this.runId = '';
          this.text = '';
          return;
        }
        // The unread tail moves to the buffer's start and the next bytes follow it, so the
        // text is one flat string (no concatenation).
        const carry = this.text.length - this.at;
        if (carry === this.buf.length) {
          const grown = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(grown);
          this.buf = grown;
        } else this.buf.copyWithin(0, this.text.length - carry, this.text.length);
        const n = readSync(this.fd, this.buf, carry, Math.min(this.buf.length - carry, this.size - this.pos), this.pos);
        if (n === 0) {
          this.pos = this.size;
          continue;
        }
        this.pos += n;
        this.textEnd = this.pos;
        this.text = this.buf.toString('latin1', 0, carry + n);
        this.at = 0;
        this.backslash = -1;
        nl = this.text.indexOf('\n', carry);
      }
      const start = this.at;
      this.at = nl + 1;
      this.line++;
      if (this.scan(start, nl) || this.parseSlow(start, nl)) return;
    }
  }

  /** The fast scanner; false when the line needs the general path (nothing reported). */
  private scan(start: number, end: number): boolean {
    const text = this.text;
    if (!holdsAt(text, start, RUN_ID_TOKEN)) return false;
    const idFrom = start + RUN_ID_TOKEN.length;
    const idTo = text.indexOf('"', idFrom);
    if (idTo < 0 || idTo >= end || idTo === idFrom) return false;
    if (this.backslash < start) {
      // Searched once per backslash, not once per line (text is a whole chunk).
      this.backslash = text.indexOf('\\', start);
      if (this.backslash < 0) this.backslash = text.length;
    }
    if (this.backslash < end) return false;
    for (let i = idFrom; i < idTo; i++) if (text.charCodeAt(i) < 32 || text.charCodeAt(i) > 126) return false;
    const values = this.values;
    // A line whose text after the run_id was seen before (the first TAILS distinct ones are
    // kept) has its values: our fields repeat from run to run (host, user, version, methods).
    // Not looked up once most lines missed (fields that change with every run).
    const useTails = this.tailMisses < 1024 || this.tailMisses < 4 * this.tailHits;
    const known = useTails ? this.tails.get(text.slice(idTo, end)) : undefined;
    if (known !== undefined) {
      this.tailHits++;
      for (let j = 0; j < values.length; j++) values[j] = known[j];
      this.runId = text.slice(idFrom, idTo);
      return true;
    }
    if (useTails) this.tailMisses++;
    values.fill(undefined);
    let p = idTo + 1;
    let k = 0;
    while (p < end - 1) {
      while (k < KEY_TOKENS.length && !holdsAt(text, p, KEY_TOKENS[k] as string)) k++;
      if (k === KEY_TOKENS.length) return false;
      p += (KEY_TOKENS[k] as string).length;
      const c = text.charCodeAt(p);
      let to: number;
      if (c === QUOTE) {
        to = text.indexOf('"', p + 1);
        if (to < 0 || to >= end) return false;
        const prev = this.previous[k] as string;
        if (to - p - 1 === prev.length && holdsAt(text, p + 1, prev)) {
          values[k] = this.previousValue[k];
          p = to + 1;
          k++;
          continue;
        }
        const v = this.text.slice(p + 1, to);
        const col = this.interned[k] as Map<string, string>;
        let shared = col.get(v);
        if (shared === undefined) {
          for (let i = p + 1; i < to; i++) if (text.charCodeAt(i) < 32) return false;
          shared = utf8(v);
          if (NUMERIC[k] && parseNumber(shared.trim()) === undefined) return false;
          if (col.size < 4096) col.set(v, shared);
        }
        this.previous[k] = v;
        this.previousValue[k] = shared;
        values[k] = shared;
        to++;
      } else if (c === 110 && text.startsWith('null', p)) {
        if (!NUMERIC[k]) return false;
        values[k] = null;
        to = p + 4;
      } else {
        if (!NUMERIC[k]) return false;
        to = p;
        while (to < end && text.charCodeAt(to) !== 44 && text.charCodeAt(to) !== 125) to++;
        if (!isJsonNumber(text, p, to)) return false;
        values[k] = Number(text.slice(p, to));
      }
      p = to;
      k++;
    }
    if (p !== end - 1 || text.charCodeAt(p) !== 125) return false;
    this.runId = text.slice(idFrom, idTo);
    if (this.tails.size < TAILS) this.tails.set(this.buf.toString('latin1', idTo, end), values.slice());
    return true;
  }

  /** `JSON.parse` and the checks of `readSidecar`; false for a skipped line (reported unless blank). */
  private parseSlow(start: number, end: number): boolean {
    const parsed = parseSidecarLine(utf8(this.text.slice(start, end)));
    if (parsed === null) return false;
    if (typeof parsed === 'string') {
      this.onProblem({ file: this.file, line: this.line, problem: parsed });
      return false;
    }
    const entry = parsed as Record<string, string | number | null | undefined>;
    this.runId = entry.run_id as string;
    TRACKER_COLUMNS.forEach((col, k) => {
      this.values[k] = Object.hasOwn(entry, col) ? entry[col] : undefined;
    });
    return true;
  }
}

/**
 * A 53-bit hash of a string's UTF-16 code units (two 32-bit FNV-1a variants, 32 + 21 bits), as
 * an exact double: with a million runs in the sidecar, a run_id absent from it collides with
 * one of them about once in 10^10 rows (a collision costs only the fallback to the index).
 */
export function hashRunId(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x6b43a9b5;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}

/**
 * Hashes of every run_id a sidecar may hold, sorted: a run whose hash is absent has no entry
 * (a hash present may be another run's: callers treat it as "maybe"). 8 bytes per entry.
 */
export function runIdHashes(opts: SidecarCursorOptions): Float64Array {
  let hashes = new Float64Array(1024);
  let n = 0;
  const cursor = new SidecarCursor(opts);
  for (; !cursor.done; cursor.advance()) {
    if (n === hashes.length) {
      const grown = new Float64Array(n * 2);
      grown.set(hashes);
      hashes = grown;
    }
    hashes[n++] = hashRunId(cursor.runId);
  }
  return hashes.slice(0, n).sort();
}

/** Whether a sorted hash list holds `h`. */
export function hasHash(sorted: Float64Array, h: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v === h) return true;
    if (v < h) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
