/**
 * Writing the TDP index file (its format: cpu-tdp-index.ts, which reads it). Used by
 * scripts/build-tdp-table.ts for `data/cpu-tdp-index.txt`, and by tests for small tables.
 */
import { cpuModelWords, normalizeCpuModel } from './cpu-model-name.js';
import { MAX_WORDS_PER_NAME, TDP_INDEX_FORMAT, fnv1a } from './cpu-tdp-index.js';
import type { TdpEntry } from './cpu-tdp.js';

/** Keys per bucket, on average, of the hash tables. */
const LOAD_FACTOR = 2;

/** The table an index is built from. */
export interface TdpIndexSource {
  source: string;
  license: string;
  /** Rows whose source TDP was unusable, as `name,value` (kept in the header for the record). */
  unparsableTdp?: readonly string[];
  entries: readonly TdpEntry[];
}

function checkLineText(what: string, text: string): void {
  if (/[\t\n\r]/.test(text)) throw new Error(`TDP index: ${what} ${JSON.stringify(text)} holds a tab, line feed or carriage return`);
}

/** Digits of `n` in base 36. */
const base36Width = (n: number): number => Math.max(1, n.toString(36).length);
const fixed = (n: number, width: number): string => n.toString(36).padStart(width, '0');

/** The hash table of `keys` (in insertion order) as bucket contents, each entry made by `entry`. */
function hashTable<V>(keys: ReadonlyMap<string, V>, entry: (key: string, value: V) => string): string[] {
  const buckets: string[][] = Array.from({ length: Math.max(1, Math.ceil(keys.size / LOAD_FACTOR)) }, () => []);
  for (const [key, value] of keys) buckets[fnv1a(Buffer.from(key, 'utf8')) % buckets.length]!.push(entry(key, value));
  return buckets.map((bucket) => bucket.join(''));
}

/** The text of the index file of a table (see the module comment). Throws on a name the format cannot hold. */
export function buildTdpIndex(table: TdpIndexSource): string {
  checkLineText('source', table.source);
  checkLineText('license', table.license);
  const count = table.entries.length;
  const rowWidth = base36Width(Math.max(0, count - 1));
  const rows: string[] = [];
  const wordCounts: string[] = [];
  const wordSets: Array<Set<string>> = [];
  const postings = new Map<string, number[]>();
  const normalised = new Map<string, number>();
  const lower = new Map<string, number>();
  table.entries.forEach(([name, tdpWatts], row) => {
    if (name === '') throw new Error(`TDP index: row ${row} has an empty name`);
    checkLineText(`row ${row}'s name`, name);
    if (tdpWatts !== null && !Number.isFinite(tdpWatts)) throw new Error(`TDP index: row ${row} (${name}) has TDP ${tdpWatts}`);
    rows.push(`${name}\t${tdpWatts === null ? '-' : String(tdpWatts)}\n`);
    const words = cpuModelWords(name);
    if (words.size > MAX_WORDS_PER_NAME) throw new Error(`TDP index: row ${row} (${name}) has more than ${MAX_WORDS_PER_NAME} words`);
    wordCounts.push(String.fromCharCode(48 + words.size));
    wordSets.push(words);
    for (const word of words) {
      const list = postings.get(word);
      if (list) list.push(row);
      else postings.set(word, [row]);
    }
    const norm = normalizeCpuModel(name);
    if (norm !== '' && !normalised.has(norm)) normalised.set(norm, row);
    const low = name.toLowerCase();
    if (!lower.has(low)) lower.set(low, row);
  });
  const anchored = new Map<string, number[]>();
  wordSets.forEach((words, row) => {
    let anchor: string | undefined;
    for (const word of words) if (anchor === undefined || postings.get(word)!.length < postings.get(anchor)!.length) anchor = word;
    if (anchor === undefined) return; // no words: never matches in step 4
    const list = anchored.get(anchor);
    if (list) list.push(row);
    else anchored.set(anchor, [row]);
  });
  const rowList = (list: readonly number[]): string => list.map((row) => fixed(row, rowWidth)).join('');
  const tables = [
    hashTable(lower, (_key, row) => fixed(row, rowWidth)),
    hashTable(normalised, (_key, row) => fixed(row, rowWidth)),
    hashTable(postings, (word, list) => `${word}\t${rowList(list)}\t${rowList(anchored.get(word) ?? [])}\n`),
  ];
  const rowsText = rows.join('');
  const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
  // One width for every offset: enough for the longest part the offsets point into.
  const width = base36Width(Math.max(bytes(rowsText), ...tables.map((buckets) => bytes(buckets.join('')))));
  const offsets = (lengths: number[]): string => {
    let at = 0;
    const out = [fixed(0, width)];
    for (const length of lengths) out.push(fixed((at += length), width));
    return out.join('');
  };
  // Each part ends with one line feed (the multi-line parts end with their last line's).
  const parts: string[] = [
    `source\t${table.source}\nlicense\t${table.license}\nunparsable-tdp\t${JSON.stringify(table.unparsableTdp ?? [])}\n`,
    `${wordCounts.join('')}\n`,
    `${offsets(rows.map(bytes))}\n`,
    rowsText === '' ? '\n' : rowsText,
    ...tables.flatMap((buckets) => {
      const content = buckets.join('');
      return [`${offsets(buckets.map(bytes))}\n`, content.endsWith('\n') ? content : `${content}\n`];
    }),
  ];
  const starts: number[] = [0];
  for (const part of parts) starts.push(starts[starts.length - 1]! + bytes(part));
  const layout = [width, rowWidth, count, ...tables.map((buckets) => buckets.length), ...starts];
  return `${TDP_INDEX_FORMAT}\nlayout\t${layout.join(',')}\n${parts.join('')}`;
}

