/**
 * The packaged CPU TDP table with the index its lookup uses: `data/cpu-tdp-index.txt`, written
 * by scripts/build-tdp-table.ts (with `buildTdpIndex`, cpu-tdp-index-build.ts) from CodeCarbon's
 * `cpu_power.csv`.
 *
 * Why an index: a process that estimates its CPU's energy looks its CPU up once. Parsing the
 * whole table (~4,900 rows) and running the matching steps over every row, before the JIT has
 * compiled anything, cost ~5 ms of a ~90 ms cold start. With the index, a lookup reads the file
 * into one buffer and touches only the few rows and lists its keys lead to: no other row is
 * decoded or transformed. The results are those of `matchCpuModel`'s scan of the same table
 * (cpu-tdp.ts describes the steps; test/estimate/cpu-tdp-index.test.ts compares the two).
 *
 * The format: UTF-8 text. Two lines, then parts at the byte offsets the second line gives
 * (counted from the byte after it); each part ends with a line feed. Numbers inside the parts
 * are base 36, of a fixed number of digits: W for offsets, R for row numbers (rows count from 0).
 *
 *     lamarr-energy-tracker cpu-tdp-index 1
 *     layout<TAB><W>,<R>,<rows>,<buckets of lower>,<of normalised>,<of words>,<start of each part>…,<end>
 *
 * - metadata: lines `source<TAB>…`, `license<TAB>…`, `unparsable-tdp<TAB><JSON array of the
 *   source rows "name,value" whose TDP is unusable>`;
 * - word-counts: one character per row, '0' + the number of words of its name (step 4);
 * - row-offsets: per row and one more, the offset of its line in `rows`;
 * - rows: per row, in the source's order, `<name><TAB><TDP in W, or ->` (no name holds a tab,
 *   line feed or carriage return; the build refuses such a name);
 * - lower-buckets, lower: a hash table (see below) of the first row of each distinct
 *   lower-case name (steps 1 and 2);
 * - normalised-buckets, normalised: the same for the first row of each distinct
 *   `normalizeCpuModel` name, except '' (step 3);
 * - words-buckets, words: per distinct word of the rows' word sets (step 4), a line
 *   `<word><TAB><rows holding it><TAB><rows anchored at it>`, each list ascending, R digits a
 *   row. A row is anchored at its rarest word (the one with the fewest rows; the first of them
 *   in the name on a tie): a row whose words are all among a model's words is anchored at one
 *   of the model's words, so these short lists give every such row.
 *
 * A hash table `X` of n buckets: `X-buckets` holds n + 1 offsets into `X`, bucket b spanning
 * [offset b, offset b + 1). A key (lower-case name, normalised name or word) goes to bucket
 * FNV-1a-32(its UTF-8 bytes) mod n. A bucket of `lower` or `normalised` holds rows (in row
 * order); the lookup compares the key with each row's name transformed again, so that only the
 * rows of one bucket are decoded. A bucket of `words` holds whole lines.
 */
import { readFileSync } from 'node:fs';
import { codecarbonStripCpuModel, cpuModelWords, normalizeCpuModel } from './cpu-model-name.js';
import type { CpuMatch, CpuMatchKind, TdpEntry } from './cpu-tdp.js';

/** First line of an index file. */
export const TDP_INDEX_FORMAT = 'lamarr-energy-tracker cpu-tdp-index 1';

/** The parts of an index file after its layout line, in file order (see the module comment). */
export const PARTS = [
  'metadata',
  'word-counts',
  'row-offsets',
  'rows',
  'lower-buckets',
  'lower',
  'normalised-buckets',
  'normalised',
  'words-buckets',
  'words',
] as const;
/** The name of a part of an index file. */
export type Part = (typeof PARTS)[number];
/** Numbers of the layout line before the part starts: W, R, rows, and the three bucket counts. */
export const LAYOUT_NUMBERS = 6;
/** Word counts are stored as one character from '0' on, kept ASCII (one byte in UTF-8). */
export const MAX_WORDS_PER_NAME = 'z'.charCodeAt(0) - '0'.charCodeAt(0);

/** FNV-1a, 32 bits, of `bytes`: the hash that puts a key in its bucket. */
export function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/** Where a word's lists lie: `n` rows from `at`, `anchoredN` rows from `anchoredAt`. */
interface WordLists {
  at: number;
  n: number;
  anchoredAt: number;
  anchoredN: number;
}

/** An index file, read; {@link TdpIndex.match} looks a CPU model up in it. */
export class TdpIndex {
  /** Number of rows of the table. */
  readonly count: number;
  private readonly width: number;
  private readonly rowWidth: number;
  private readonly buckets: Readonly<Record<'lower' | 'normalised' | 'words', number>>;
  private readonly start: Readonly<Record<Part, number>>;

  /**
   * @param bytes The index file's content (see the module comment).
   * @param origin Named in errors, e.g. the file's path.
   */
  constructor(private readonly bytes: Buffer, private readonly origin: string) {
    // Read with plain loops: this runs once per process, before anything is compiled.
    let at = TDP_INDEX_FORMAT.length;
    let valid = bytes[at] === 10;
    for (let i = 0; valid && i < at; i++) valid = bytes[i] === TDP_INDEX_FORMAT.charCodeAt(i);
    if (!valid) throw this.error(`does not start with "${TDP_INDEX_FORMAT}"`);
    const layoutKey = '\nlayout\t';
    for (let i = 0; valid && i < layoutKey.length; i++) valid = bytes[at + i] === layoutKey.charCodeAt(i);
    if (!valid) throw this.error('has no layout line after its first line');
    at += layoutKey.length;
    const numbers: number[] = [];
    for (let n = 0, digits = 0; ; at++) {
      const c = bytes[at];
      if (c !== undefined && c >= 48 && c <= 57 && digits < 15) {
        n = n * 10 + (c - 48);
        digits++;
      } else if ((c === 44 || c === 10) && digits > 0) {
        numbers.push(n);
        n = 0;
        digits = 0;
        if (c === 10) break;
      } else throw this.error('has a malformed layout line');
    }
    const body = at + 1;
    if (numbers.length !== LAYOUT_NUMBERS + PARTS.length + 1) throw this.error(`has ${numbers.length} layout numbers, not ${LAYOUT_NUMBERS + PARTS.length + 1}`);
    const [width, rowWidth, count, lower, normalised, words] = numbers as [number, number, number, number, number, number];
    if (body + numbers[numbers.length - 1]! !== bytes.length) throw this.error(`is ${bytes.length} bytes long, its layout says ${body + numbers[numbers.length - 1]!}`);
    const start = {} as Record<Part, number>;
    for (let k = 0; k < PARTS.length; k++) start[PARTS[k]!] = body + numbers[LAYOUT_NUMBERS + k]!;
    // The fixed-size parts (each with its line feed) must have the sizes the counts give.
    const size = (k: number): number => numbers[LAYOUT_NUMBERS + k + 1]! - numbers[LAYOUT_NUMBERS + k]! - 1;
    const expected: Array<[Part, number]> = [
      ['word-counts', count],
      ['row-offsets', (count + 1) * width],
      ['lower-buckets', (lower + 1) * width],
      ['normalised-buckets', (normalised + 1) * width],
      ['words-buckets', (words + 1) * width],
    ];
    for (const [part, bytesOfPart] of expected) {
      const actual = size(PARTS.indexOf(part));
      if (actual !== bytesOfPart) throw this.error(`has a ${part} part of ${actual} bytes, not ${bytesOfPart}`);
    }
    if (width < 1 || rowWidth < 1 || lower < 1 || normalised < 1 || words < 1) throw this.error('has a malformed layout line');
    this.count = count;
    this.width = width;
    this.rowWidth = rowWidth;
    this.buckets = { lower, normalised, words };
    this.start = start;
  }

  /** Read an index file. Throws if it is missing or not an index. */
  static fromFile(path: string): TdpIndex {
    return new TdpIndex(readFileSync(path), path);
  }

  /** The metadata lines: `source`, `license`, `unparsable-tdp`. */
  metadata(): Map<string, string> {
    const text = this.bytes.toString('utf8', this.start.metadata, this.start['word-counts'] - 1);
    return new Map(text.split('\n').map((line) => [line.slice(0, line.indexOf('\t')), line.slice(line.indexOf('\t') + 1)]));
  }

  /** Every row of the table, in order. */
  entries(): TdpEntry[] {
    const entries: TdpEntry[] = [];
    for (let row = 0; row < this.count; row++) entries.push(this.row(row));
    return entries;
  }

  /**
   * The row a CPU model name matches, with the steps and results of `matchCpuModel` (see
   * cpu-tdp.ts); null when nothing matches or step 4 finds several rows.
   *
   * @param codecarbonOnly Skip step 3, as `MatchOptions.codecarbonOnly`.
   */
  match(modelName: string, codecarbonOnly = false): CpuMatch | null {
    if (modelName.trim() === '' || this.count === 0) return null;
    // 1. exact, case-insensitive; 2. exact after CodeCarbon's stripping (first row wins).
    let row = this.firstRow('lower', modelName.toLowerCase());
    if (row >= 0) return this.hit(row, 'exact');
    const stripped = codecarbonStripCpuModel(modelName);
    row = this.firstRow('lower', stripped.toLowerCase());
    if (row >= 0) return this.hit(row, 'stripped');
    // 3. (ours) exact under full normalisation.
    if (!codecarbonOnly) {
      const normalised = normalizeCpuModel(modelName);
      row = normalised === '' ? -1 : this.firstRow('normalised', normalised);
      if (row >= 0) return this.hit(row, 'normalised');
    }
    row = this.tokenSetRow(cpuModelWords(stripped));
    return row >= 0 ? this.hit(row, 'token-set') : null;
  }

  /**
   * Step 4: the one row whose word set is within `words` or holds all of them; -1 when there is
   * none or more than one. Such a row either holds the model's rarest word and all the others
   * (found in that word's list), or has all its words among the model's (anchored at one of
   * them); whether a row holds a word is a binary search in the word's list.
   */
  private tokenSetRow(words: ReadonlySet<string>): number {
    const lists: WordLists[] = [];
    let allFound = true;
    for (const word of words) {
      const found = this.wordLists(word);
      if (found) lists.push(found);
      else allFound = false;
    }
    if (lists.length === 0) return -1;
    const wordCounts = this.start['word-counts'];
    let first = -1;
    let second = -1;
    // Rows holding every word of the model.
    if (allFound) {
      let rarest = lists[0]!;
      for (const list of lists) if (list.n < rarest.n) rarest = list;
      for (let i = 0; i < rarest.n && second < 0; i++) {
        const row = this.fixedAt(rarest.at + i * this.rowWidth, this.rowWidth);
        if (this.bytes[wordCounts + row]! - 48 < words.size) continue;
        let holdsAll = true;
        for (let k = 0; k < lists.length && holdsAll; k++) holdsAll = lists[k] === rarest || this.holds(lists[k]!, row);
        if (!holdsAll) continue;
        if (first < 0) first = row;
        else second = row;
      }
    }
    // Rows whose words are all among the model's.
    for (let k = 0; k < lists.length && second < 0; k++) {
      const anchored = lists[k]!;
      for (let i = 0; i < anchored.anchoredN && second < 0; i++) {
        const row = this.fixedAt(anchored.anchoredAt + i * this.rowWidth, this.rowWidth);
        const rowWords = this.bytes[wordCounts + row]! - 48;
        if (row === first || rowWords > words.size) continue;
        let held = 0;
        for (const list of lists) if (list === anchored || this.holds(list, row)) held++;
        if (held !== rowWords) continue;
        if (first < 0) first = row;
        else second = row;
      }
    }
    return second >= 0 ? -1 : first; // several rows: ambiguous
  }

  private error(what: string): Error {
    return new Error(`TDP index ${this.origin}: ${what}`);
  }

  /** A base-36 number of `width` digits at `at`. */
  private fixedAt(at: number, width: number): number {
    let n = 0;
    for (let i = at; i < at + width; i++) {
      const c = this.bytes[i]!;
      n = n * 36 + (c <= 57 ? c - 48 : c - 87);
    }
    return n;
  }

  /** The byte range of the bucket of `key` in hash table `table`. */
  private bucket(table: 'lower' | 'normalised' | 'words', key: Buffer): [number, number] {
    const width = this.width;
    const offsets = this.start[`${table}-buckets`] + (fnv1a(key) % this.buckets[table]) * width;
    return [this.start[table] + this.fixedAt(offsets, width), this.start[table] + this.fixedAt(offsets + width, width)];
  }

  /** First row whose lower-case or normalised name is `key`, or -1 (comparing the rows of key's bucket). */
  private firstRow(table: 'lower' | 'normalised', key: string): number {
    const [from, to] = this.bucket(table, Buffer.from(key, 'utf8'));
    const rowWidth = this.rowWidth;
    for (let at = from; at < to; at += rowWidth) {
      const row = this.fixedAt(at, rowWidth);
      const name = this.name(row);
      if ((table === 'lower' ? name.toLowerCase() : normalizeCpuModel(name)) === key) return row;
    }
    return -1;
  }

  /** Where the lists of `word` lie, or null when no row holds it. */
  private wordLists(word: string): WordLists | null {
    const key = Buffer.from(word, 'utf8');
    const [from, to] = this.bucket('words', key);
    const bytes = this.bytes;
    for (let line = from; line < to; ) {
      const end = bytes.indexOf(10, line);
      if (end < 0 || end >= to) throw this.error(`has a line of words bucket [${from}, ${to}) that does not end in it`);
      const tab = line + key.length;
      if (bytes[tab] === 9 && key.compare(bytes, line, tab) === 0) {
        const second = bytes.indexOf(9, tab + 1);
        if (second < 0 || second > end) throw this.error(`has a malformed line for word ${JSON.stringify(word)}`);
        return { at: tab + 1, n: (second - tab - 1) / this.rowWidth, anchoredAt: second + 1, anchoredN: (end - second - 1) / this.rowWidth };
      }
      line = end + 1;
    }
    return null;
  }

  /** Whether `row` is in the (ascending) list of rows. */
  private holds(list: WordLists, row: number): boolean {
    let low = 0;
    let high = list.n - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = this.fixedAt(list.at + middle * this.rowWidth, this.rowWidth);
      if (value === row) return true;
      if (value < row) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  /** Byte range of row `row`'s line, without its line feed. */
  private rowRange(row: number): [number, number] {
    const at = this.start['row-offsets'] + row * this.width;
    return [this.start.rows + this.fixedAt(at, this.width), this.start.rows + this.fixedAt(at + this.width, this.width) - 1];
  }

  private name(row: number): string {
    const [from] = this.rowRange(row);
    return this.bytes.toString('utf8', from, this.bytes.indexOf(9, from));
  }

  private row(row: number): TdpEntry {
    const [from, to] = this.rowRange(row);
    const tab = this.bytes.indexOf(9, from);
    if (tab <= from || tab >= to) throw this.error(`has a malformed row ${row}`);
    const tdp = this.bytes.toString('latin1', tab + 1, to);
    const tdpWatts = tdp === '-' ? null : Number(tdp);
    if (tdpWatts !== null && !Number.isFinite(tdpWatts)) throw this.error(`has TDP ${JSON.stringify(tdp)} in row ${row}`);
    return [this.bytes.toString('utf8', from, tab), tdpWatts];
  }

  private hit(row: number, kind: CpuMatchKind): CpuMatch {
    const [name, tdpWatts] = this.row(row);
    return { name, tdpWatts, kind };
  }
}
