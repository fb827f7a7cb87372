/**
 * A small synchronous RFC 4180 CSV reader and writer for `emissions.csv`.
 *
 * It is synchronous because the store's API is (the tracker's `stop()` is), and it gives what
 * the store needs from a parse: the physical line of every record (for error messages), the
 * offsets of every record (so rewrites copy existing rows byte for byte: the store parses
 * latin1 text, one character per byte), whether a field was quoted (unquoted fields are
 * trimmed, as CodeCarbon files in the wild are space-padded; quoted fields are kept exactly),
 * and the recognition of a torn last record left by a writer killed mid-append.
 */

/** An error about one CSV file, naming the file, the 1-based line and the problem. */
export class StoreError extends Error {
  /** The file concerned. */
  readonly file: string;
  /** 1-based line number, or null where the problem is not on one line. */
  readonly line: number | null;
  /** Short machine-readable kind of problem. */
  readonly code: StoreErrorCode;

  constructor(file: string, line: number | null, code: StoreErrorCode, problem: string) {
    super(line === null ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'StoreError';
    this.file = file;
    this.line = line;
    this.code = code;
  }
}

/** Kinds of {@link StoreError}. */
export type StoreErrorCode =
  | 'LET_CSV_FIELD_COUNT'
  | 'LET_CSV_UNTERMINATED_QUOTE'
  | 'LET_CSV_BAD_QUOTE'
  | 'LET_CSV_NOT_A_NUMBER'
  | 'LET_CSV_NO_HEADER'
  | 'LET_CSV_DUPLICATE_COLUMN'
  | 'LET_CSV_BAD_TIMESTAMP'
  | 'LET_CSV_CR_ONLY'
  | 'LET_NOT_A_FILE'
  | 'LET_FILE_CHANGED'
  | 'LET_SYMLINK'
  | 'LET_LOCK_TIMEOUT'
  | 'LET_LOCK_FAILED';

/** One complete record of a CSV text. */
export interface CsvRecord {
  /** Field values: unquoted fields trimmed, quoted fields exact (quotes and `""` removed). */
  fields: string[];
  /** 1-based physical line on which the record starts. */
  line: number;
  /** Offset (in the parsed string) of the record's first character. */
  start: number;
  /** Offset just after the record's last character, before its line terminator. */
  end: number;
  /** Offset just after its line terminator. */
  next: number;
}

/** A last record not ended by a line terminator: a write cut short. */
export interface TornTail {
  /** 1-based line on which the fragment starts. */
  line: number;
  /** Offset of its first character. */
  start: number;
  /** The fragment itself. */
  text: string;
}

/** Result of {@link parseCsv}. */
export interface ParsedCsv {
  /** Complete records, the header first; blank lines are skipped. */
  records: CsvRecord[];
  /** The torn last record, if the text does not end with a line terminator. */
  torn: TornTail | null;
  /** Line terminator of the first record (`\n` unless it used `\r\n`). */
  eol: '\n' | '\r\n';
  /** Offset where content starts (1 after a UTF-8 byte order mark, else 0). */
  bodyStart: number;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/**
 * Parse CSV text. Complete records end with `\n` (or `\r\n`); a final record without one is
 * returned as {@link ParsedCsv.torn}, as is an unterminated quoted field that starts on the
 * last line. An unterminated quote that swallows later lines, or a character after a closing
 * quote, throws a {@link StoreError} naming `file` and the line.
 *
 * Lenient where files in the wild need it: spaces around fields and around quoted fields are
 * ignored, blank lines are skipped, a `"` inside an unquoted field is kept literally, and a
 * leading UTF-8 byte order mark is skipped.
 *
 * A quoted field written by {@link quoteField} with a formula guard (a `'` before a leading
 * `=`, `+`, `-`, `@`, tab, CR or `'`) is returned without the guard.
 */
export function parseCsv(text: string, file = '<csv>'): ParsedCsv {
  const records: CsvRecord[] = [];
  const rest = visitCsv(text, file, (r) => {
    records.push(r);
  });
  return { records, ...rest };
}

/**
 * Like {@link parseCsv}, but hands each complete record to `visit` as it is parsed instead of
 * collecting them (so a large file's records need not all be held at once). `firstLine` is the
 * line number of the text's first line, for parsing a file piece by piece (a byte order mark
 * is only skipped when it is 1).
 */
export function visitCsv(
  text: string,
  file: string,
  visit: (record: CsvRecord, index: number) => void,
  firstLine = 1,
  /** Offered each line without quotes first (text[start, end)); true when it took the line. */
  takeLine?: (start: number, end: number, line: number) => boolean,
): Omit<ParsedCsv, 'records'> {
  const len = text.length;
  const bodyStart = firstLine === 1 ? bomLength(text) : 0;
  let count = 0;
  const records = {
    get length(): number {
      return count;
    },
    push(r: CsvRecord): void {
      visit(r, count++);
    },
  };
  let torn: TornTail | null = null;
  let eol: '\n' | '\r\n' = '\n';
  let pos = bodyStart;
  let line = firstLine;
  // Position of the next quote at or after pos (len when none): searched once per quote, not per line.
  let quoteAt = -1;

  while (pos < len) {
    const start = pos;
    const startLine = line;
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl === -1 ? len : nl;
    if (quoteAt < pos) {
      quoteAt = text.indexOf('"', pos);
      if (quoteAt === -1) quoteAt = len;
    }

    if (quoteAt >= lineEnd) {
      // Fast path: no quote on this line.
      if (nl === -1) {
        torn = { line, start, text: text.slice(start) };
        break;
      }
      const end = lineEnd > pos && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      if (records.length === 0 && end !== lineEnd) eol = '\r\n';
      pos = nl + 1;
      line++;
      if (isBlank(text, start, end)) continue;
      if (takeLine !== undefined && takeLine(start, end, startLine)) {
        count++;
        continue;
      }
      const raw = text.slice(start, end).split(',');
      for (let i = 0; i < raw.length; i++) raw[i] = trimSpaces(raw[i] as string);
      records.push({ fields: raw, line: startLine, start, end, next: pos });
      continue;
    }

    // Slow path: a state machine over the record, which may span lines inside quotes.
    const fields: string[] = [];
    let end = -1;
    let isTorn = false;
    for (;;) {
      // Skip leading spaces of the field.
      while (pos < len && isSpace(text.charCodeAt(pos))) pos++;
      if (pos < len && text.charCodeAt(pos) === QUOTE) {
        const quoteLine = line;
        pos++;
        let value = '';
        let chunkStart = pos;
        let closed = false;
        while (pos < len) {
          const c = text.charCodeAt(pos);
          if (c === QUOTE) {
            if (pos + 1 < len && text.charCodeAt(pos + 1) === QUOTE) {
              value += text.slice(chunkStart, pos + 1);
              pos += 2;
              chunkStart = pos;
              continue;
            }
            value += text.slice(chunkStart, pos);
            pos++;
            closed = true;
            break;
          }
          if (c === LF) line++;
          pos++;
        }
        if (!closed) {
          if (text.indexOf('\n', start) === -1) {
            isTorn = true;
            break;
          }
          throw new StoreError(
            file,
            quoteLine,
            'LET_CSV_UNTERMINATED_QUOTE',
            'unterminated quoted field (the opening quote is never closed)',
          );
        }
        fields.push(unguard(value));
        while (pos < len && isSpace(text.charCodeAt(pos))) pos++;
        if (pos >= len) {
          isTorn = true;
          break;
        }
        const c = text.charCodeAt(pos);
        if (c === COMMA) {
          pos++;
          continue;
        }
        if (c === LF || (c === CR && pos + 1 < len && text.charCodeAt(pos + 1) === LF)) {
          end = pos;
          break;
        }
        if (c === CR && pos + 1 >= len) {
          isTorn = true;
          break;
        }
        throw new StoreError(
          file,
          line,
          'LET_CSV_BAD_QUOTE',
          `unexpected character ${JSON.stringify(text[pos])} after a closing quote (expected a comma or the end of the line)`,
        );
      }
      // Unquoted field: up to the next comma or end of line.
      const fieldStart = pos;
      while (pos < len) {
        const c = text.charCodeAt(pos);
        if (c === COMMA || c === LF) break;
        pos++;
      }
      if (pos >= len) {
        isTorn = true;
        break;
      }
      let fieldEnd = pos;
      if (text.charCodeAt(pos) === LF && fieldEnd > fieldStart && text.charCodeAt(fieldEnd - 1) === CR) fieldEnd--;
      fields.push(trimSpaces(text.slice(fieldStart, fieldEnd)));
      if (text.charCodeAt(pos) === COMMA) {
        pos++;
        continue;
      }
      end = fieldEnd;
      break;
    }
    if (isTorn) {
      torn = { line: startLine, start, text: text.slice(start) };
      break;
    }
    // pos is at the terminator (LF, or CR LF).
    if (text.charCodeAt(pos) === CR) pos++;
    if (records.length === 0 && text.charCodeAt(end) === CR) eol = '\r\n';
    pos++; // the LF
    line++;
    records.push({ fields, line: startLine, start, end, next: pos });
  }
  return { torn, eol, bodyStart };
}

/** Length of a leading byte order mark: 1 in decoded text, 3 in latin1 text of UTF-8 bytes. */
export function bomLength(text: string): number {
  if (text.charCodeAt(0) === 0xfeff) return 1;
  if (text.charCodeAt(0) === 0xef && text.charCodeAt(1) === 0xbb && text.charCodeAt(2) === 0xbf) return 3;
  return 0;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

function trimSpaces(s: string): string {
  if (s.length === 0) return s;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if (first !== SPACE && first !== TAB && last !== SPACE && last !== TAB) return s;
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Characters that make a spreadsheet treat a cell as a formula (plus `'`, our guard itself). */
const GUARDED_FIRST = new Set(['=', '+', '-', '@', '\t', '\r', "'"]);

/** Remove our formula guard: a `'` followed by a character that needed guarding. */
function unguard(value: string): string {
  if (value.length >= 2 && value.charCodeAt(0) === 39 && GUARDED_FIRST.has(value[1] as string)) {
    return value.slice(1);
  }
  return value;
}

/**
 * Format one text value as a CSV field that a spreadsheet will not execute and that
 * {@link parseCsv} reads back exactly: a value starting with `=`, `+`, `-`, `@`, tab, CR or
 * `'` gets a `'` prefix and is quoted; a value with a comma, quote, line break or leading or
 * trailing space is quoted (quotes doubled).
 */
export function quoteField(value: string, guardFormula = true): string {
  let v = value;
  let mustQuote = false;
  if (guardFormula && v.length > 0 && GUARDED_FIRST.has(v[0] as string)) {
    v = `'${v}`;
    mustQuote = true;
  }
  if (
    mustQuote ||
    /[",\r\n]/.test(v) ||
    (v.length > 0 && (isSpace(v.charCodeAt(0)) || isSpace(v.charCodeAt(v.length - 1))))
  ) {
    return `"${v.replace(/"/g, '""')}"`;
  }
  return v;
}

/** Format a number for a numeric column: `''` for null/undefined/NaN, `inf`/`-inf` as Python writes. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

const NAN_RE = /^[+-]?nan$/i;
const INF_RE = /^([+-]?)inf(?:inity)?$/i;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Whether `s` is decimal or exponent notation, `/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/`,
 * scanned without a regex (the common path of every numeric field).
 */
function isDecimal(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++; // + -
  let digits = 0;
  while (i < n && isDigit(s.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    while (i < n && isDigit(s.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i === n) return true;
  c = s.charCodeAt(i);
  if (c !== 101 && c !== 69) return false; // e E
  i++;
  c = s.charCodeAt(i);
  if (c === 43 || c === 45) i++;
  if (i >= n) return false;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  return i === n;
}

/**
 * Parse a numeric field: `''` → null; decimal and exponent notation → number; Python's
 * `nan` → null and `inf`/`-inf` → ±Infinity. Anything else returns undefined (not a number).
 */
export function parseNumber(raw: string): number | null | undefined {
  if (raw === '') return null;
  if (isDecimal(raw)) return Number(raw);
  if (NAN_RE.test(raw)) return null;
  const inf = INF_RE.exec(raw);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return undefined;
}
