/**
 * CPU TDP lookup in CodeCarbon's table (`data/cpu-tdp-index.txt`, generated from CodeCarbon's
 * `cpu_power.csv` with a lookup index, see cpu-tdp-index.ts; MIT licence in
 * `data/LICENSE-codecarbon`).
 *
 * The matcher reproduces CodeCarbon 3.x `TDP._get_matching_cpu` (codecarbon/core/cpu.py),
 * non-greedy, in this order:
 *
 * 1. exact match of the raw model name, case-insensitive (`fuzz.ratio` = 100 after `lower()`);
 * 2. exact match after CodeCarbon's stripping: remove `(R)`, cut at ` CPU @ `, remove ` CPU`,
 *    remove ` @ N.NNGHz` (case-sensitive, as CodeCarbon does; `(TM)` is *not* removed there);
 * 3. **(ours)** exact match of both sides under {@link normalizeCpuModel}, which also removes
 *    `(TM)`, collapses white space and ignores case;
 * 4. token-set match of the stripped name from step 2 (`fuzz.token_set_ratio` = 100 with
 *    rapidfuzz's `default_process`): after replacing every non-alphanumeric character by a
 *    space and lower-casing, the word set of the table name is a subset of the model's word
 *    set or the other way round. Accepted only when exactly one table row qualifies;
 *    several rows mean "ambiguous", which CodeCarbon (non-greedy) treats as unknown.
 *
 * Differences from CodeCarbon, on purpose:
 * - step 3 is an addition: it can only turn a name CodeCarbon would have resolved by step 4,
 *   or found ambiguous in step 4, into the table row that is equal to it apart from `(TM)`,
 *   spacing and case;
 * - rows whose TDP is unusable in the source (`27.29.5`, `0.0`: `unparsable-tdp` in the index's header)
 *   are matched like any row but give the unknown-CPU default (CodeCarbon's `float()` would
 *   raise on the first kind and treat `0.0` as "no power" and use the default);
 * - unknown CPUs get 4 W per logical CPU as CodeCarbon does, but we take the CPU count given by
 *   the caller (CodeCarbon uses psutil's count or the SLURM allocation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import { codecarbonStripCpuModel, cpuModelWords as tokenSet, normalizeCpuModel } from './cpu-model-name.js';
import { TDP_INDEX_FORMAT, TdpIndex } from './cpu-tdp-index.js';

export { codecarbonStripCpuModel, normalizeCpuModel } from './cpu-model-name.js';

/** CodeCarbon's `DEFAULT_POWER_PER_CORE`: watts per logical CPU (thread) for an unknown CPU. */
export const DEFAULT_WATTS_PER_THREAD = 4;

/** One row of the TDP table: the CPU name as written in CodeCarbon's CSV and its TDP (W), null when unusable. */
export type TdpEntry = readonly [name: string, tdpWatts: number | null];

/** A TDP table: its rows in the source's order, duplicates included (ties depend on the order). */
export interface TdpTable {
  source: string;
  license: string;
  count: number;
  entries: readonly TdpEntry[];
}

/** How a CPU model name was matched to a table row. */
export type CpuMatchKind = 'exact' | 'stripped' | 'normalised' | 'token-set';

/** Result of matching a model name against the table. */
export interface CpuMatch {
  /** The table row's name. */
  name: string;
  /** The table row's TDP in W, null when the source value is unusable. */
  tdpWatts: number | null;
  /** Which step matched. */
  kind: CpuMatchKind;
}

/** Result of {@link lookupCpuTdp}. */
export interface CpuTdpLookup {
  /** TDP to use, W: the table's value, or 4 W × logical CPUs for an unknown CPU. */
  tdpWatts: number;
  /** The table row matched (also set when its TDP was unusable and the default was used), else null. */
  matchedName: string | null;
  /** `table` when the TDP comes from the table, `default-per-thread` otherwise. */
  source: 'table' | 'default-per-thread';
  /** Which matching step found `matchedName`; null when nothing matched. */
  matchKind: CpuMatchKind | null;
}

const INDEX_PATH = join(PACKAGE_ROOT, 'data', 'cpu-tdp-index.txt');
let packagedIndex: TdpIndex | null = null;
let packagedTable: TdpTable | null = null;
/** The index each table read from an index file was built from: {@link matchCpuModel} searches it. */
const indexOfTable = new WeakMap<TdpTable, TdpIndex>();

/** The packaged table's index, `data/cpu-tdp-index.txt` (read once per process). */
function packaged(): TdpIndex {
  return (packagedIndex ??= TdpIndex.fromFile(INDEX_PATH));
}

function tableOfIndex(index: TdpIndex): TdpTable {
  const metadata = index.metadata();
  const table: TdpTable = { source: metadata.get('source') ?? '', license: metadata.get('license') ?? '', count: index.count, entries: index.entries() };
  indexOfTable.set(table, index);
  return table;
}

/**
 * Load a TDP table. Without a path, the table packaged with this module
 * (`data/cpu-tdp-index.txt`, cached after the first call). With a path, either such an index
 * file (scripts/build-tdp-table.ts writes one) or a JSON file `{"source", "license",
 * "entries": [[name, tdpWatts | null], …]}`. Throws if the file is missing or malformed.
 *
 * The lookups ({@link matchCpuModel}, {@link lookupCpuTdp}) do not need the table loaded: without
 * a table they search the packaged index directly.
 */
export function loadTdpTable(path?: string): TdpTable {
  if (path === undefined) return (packagedTable ??= tableOfIndex(packaged()));
  const bytes = readFileSync(path);
  if (bytes.subarray(0, TDP_INDEX_FORMAT.length + 1).toString('latin1') === `${TDP_INDEX_FORMAT}\n`) {
    return tableOfIndex(new TdpIndex(bytes, path));
  }
  const parsed = JSON.parse(bytes.toString('utf8')) as Partial<TdpTable>;
  if (!Array.isArray(parsed.entries)) throw new Error(`TDP table ${path} has no entries array`);
  return {
    source: String(parsed.source ?? ''),
    license: String(parsed.license ?? ''),
    count: parsed.entries.length,
    entries: parsed.entries,
  };
}

// The row loops below run once over the ~4,900 rows in a process, mostly before the JIT has
// compiled them: plain loops, no closure per row.

/** Whether `text` contains every one of `words`. */
function containsAll(text: string, words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) if (!text.includes(words[i]!)) return false;
  return true;
}

/** Whether `text` contains one of `words`. */
function containsAny(text: string, words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) if (text.includes(words[i]!)) return true;
  return false;
}

/** Whether every ASCII letter or digit of `text` is in `chars` (other characters are not judged). */
function asciiAlnumWithin(text: string, chars: ReadonlySet<string>): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
    if (alnum && !chars.has(text[i]!)) return false;
  }
  return true;
}

function isSubset(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const t of a) if (!b.has(t)) return false;
  return true;
}

/**
 * The table's names prepared for the matching steps, on demand: the lower-case names (steps 1,
 * 2, and the pre-filter below) for the whole table at the first lookup; the normalised name and
 * the word set of a row only when a lookup reaches step 3 or 4 with a name that could match
 * that row. A row can only match in step 3 if its lower-case name contains every word of the
 * normalised model name (normalisation only removes text), and in step 4 if it contains one of
 * the model's words (a subset relation between non-empty word sets shares a word), so the other
 * rows are skipped without being normalised or tokenised: the results are those of a full scan.
 */
class PreparedTable {
  private lowerNames: string[] | null = null;
  private readonly normalisedNames: Array<string | undefined>;
  private readonly tokenSets: Array<Set<string> | undefined>;
  constructor(private readonly entries: readonly TdpEntry[]) {
    this.normalisedNames = new Array<string | undefined>(entries.length);
    this.tokenSets = new Array<Set<string> | undefined>(entries.length);
  }
  get lower(): string[] {
    if (this.lowerNames === null) {
      const lower = new Array<string>(this.entries.length);
      for (let k = 0; k < lower.length; k++) lower[k] = this.entries[k]![0].toLowerCase();
      this.lowerNames = lower;
    }
    return this.lowerNames;
  }
  normalised(i: number): string {
    return (this.normalisedNames[i] ??= normalizeCpuModel(this.entries[i]![0]));
  }
  tokens(i: number): Set<string> {
    return (this.tokenSets[i] ??= tokenSet(this.entries[i]![0]));
  }
}
const prepared = new WeakMap<readonly TdpEntry[], PreparedTable>();

function prepare(entries: readonly TdpEntry[]): PreparedTable {
  let p = prepared.get(entries);
  if (!p) {
    p = new PreparedTable(entries);
    prepared.set(entries, p);
  }
  return p;
}

/** Options of {@link matchCpuModel}. */
export interface MatchOptions {
  /** Skip our step 3 (full normalisation) and match exactly as CodeCarbon does. Default false. */
  codecarbonOnly?: boolean;
}

/**
 * Match a raw CPU model name (as in `/proc/cpuinfo` or `os.cpus()[0].model`) to a table row
 * with CodeCarbon's rules (see the module comment). Returns null when nothing matches or
 * the token-set step finds several rows.
 *
 * @param table The table to search; default: the packaged one. The packaged table and tables
 *   read from index files are searched through their index (cpu-tdp-index.ts), other tables
 *   by a scan of their rows; both give the same results.
 */
export function matchCpuModel(modelName: string, table?: TdpTable, options: MatchOptions = {}): CpuMatch | null {
  const index = table === undefined ? packaged() : indexOfTable.get(table);
  if (index !== undefined) return index.match(modelName, options.codecarbonOnly === true);
  return scanCpuModel(modelName, table!, options);
}

/** {@link matchCpuModel} by a scan of the table's rows, prepared on demand (see PreparedTable). */
function scanCpuModel(modelName: string, table: TdpTable, options: MatchOptions): CpuMatch | null {
  const entries = table.entries;
  if (modelName.trim() === '' || entries.length === 0) return null;
  const p = prepare(entries);
  const hit = (i: number, kind: CpuMatchKind): CpuMatch => ({ name: entries[i]![0], tdpWatts: entries[i]![1], kind });

  // 1. exact, case-insensitive (first row wins, as extractOne returns the first best).
  let i = p.lower.indexOf(modelName.toLowerCase());
  if (i >= 0) return hit(i, 'exact');

  // 2. exact after CodeCarbon's stripping.
  const stripped = codecarbonStripCpuModel(modelName);
  i = p.lower.indexOf(stripped.toLowerCase());
  if (i >= 0) return hit(i, 'stripped');

  // 3. (ours) exact under full normalisation.
  const normalised = normalizeCpuModel(modelName);
  if (normalised !== '' && options.codecarbonOnly !== true) {
    const needles = normalised.split(' ');
    const lower = p.lower;
    for (let k = 0; k < entries.length; k++) {
      if (containsAll(lower[k]!, needles) && p.normalised(k) === normalised) return hit(k, 'normalised');
    }
  }

  // 4. token-set ratio 100: one word set contains the other; unique hit only (non-greedy).
  const words = tokenSet(stripped);
  if (words.size === 0) return null;
  const wordList = [...words];
  const wordChars = new Set(wordList.join(''));
  const lower = p.lower;
  let found = -1;
  for (let k = 0; k < entries.length; k++) {
    const name = lower[k]!;
    if (!containsAny(name, wordList)) continue; // shares no word: cannot match
    // Only rows that could pass one of the two subset tests are tokenised: the model's words
    // within the row's needs every one of them in the row's name; the row's words within the
    // model's needs every ASCII letter or digit of the row's name in one of the model's words.
    if (!containsAll(name, wordList) && !asciiAlnumWithin(name, wordChars)) continue;
    const t = p.tokens(k);
    if (t.size === 0) continue;
    if (isSubset(t, words) || isSubset(words, t)) {
      if (found >= 0) return null; // ambiguous
      found = k;
    }
  }
  return found >= 0 ? hit(found, 'token-set') : null;
}

/**
 * The TDP to use for a CPU: the table's value when the model matches (see {@link matchCpuModel}),
 * else CodeCarbon's default of 4 W per logical CPU.
 *
 * @param modelName Raw model name, e.g. `Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz`.
 * @param logicalCpus Logical CPUs (threads) of the machine; values below 1 count as 1.
 * @param table The table to search; default: the packaged one (`data/cpu-tdp-index.txt`).
 */
export function lookupCpuTdp(modelName: string, logicalCpus: number, table?: TdpTable): CpuTdpLookup {
  const match = matchCpuModel(modelName, table);
  if (match && match.tdpWatts !== null && match.tdpWatts > 0) {
    return { tdpWatts: match.tdpWatts, matchedName: match.name, source: 'table', matchKind: match.kind };
  }
  const threads = Number.isFinite(logicalCpus) ? Math.max(1, Math.floor(logicalCpus)) : 1;
  return {
    tdpWatts: DEFAULT_WATTS_PER_THREAD * threads,
    matchedName: match ? match.name : null,
    source: 'default-per-thread',
    matchKind: match ? match.kind : null,
  };
}
