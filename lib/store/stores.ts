/**
 * Many hosts' stores as one: a lab's `emissions.csv` files (ours, CodeCarbon's in any layout,
 * the Python package's), read together and deduplicated by `run_id`, and merged into one
 * CodeCarbon-compatible store.
 *
 * A store is a directory holding `emissions.csv` (a path to the file itself is accepted too). A
 * directory without `emissions.csv` whose subdirectories hold stores (`lab/host-a/emissions.csv`,
 * `lab/host-b/emissions.csv`) stands for all of them, in name order.
 *
 * Built on the public {@link loadResults} and {@link appendRecord}: every row is parsed, typed and
 * written exactly as a single store's would be.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ALL_COLUMNS, type EmissionsRecord, type LoadedRecord, type ResultFilters } from './schema.js';
import { EMISSIONS_FILE_NAME, defaultOutputDir, emissionsFile } from './paths.js';
import { appendRecords, type StoreOptions } from './append.js';
import { loadResults, type LoadOptions } from './query.js';

/** Filters over one store or several: `outputDir` may name several stores or a directory of stores. */
export type StoresFilters = Omit<ResultFilters, 'outputDir'> & {
  /** One store, several, or a directory holding one store per host. Default `~/.let`. */
  outputDir?: string | readonly string[];
};

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The store directories named by `locations`, in order, each once: a store directory as is; a
 * path to an `emissions.csv` as its directory; a directory of per-host stores as each
 * subdirectory holding `emissions.csv`, in name order.
 *
 * A single location that does not exist is kept (an empty store, as {@link loadResults} reads
 * it); among several, it is an error.
 *
 * @throws RangeError naming the location that is not a store, a store file, or a directory of stores.
 */
export function resolveStoreDirs(locations: string | readonly string[] = defaultOutputDir()): string[] {
  const list = typeof locations === 'string' ? [locations] : [...locations];
  if (list.length === 0) return [defaultOutputDir()];
  const dirs: string[] = [];
  for (const location of list) {
    if (typeof location !== 'string' || location.trim() === '') throw new TypeError('a store location must be a non-empty string');
    const path = dirname(emissionsFile(location)); // absolute, `~` expanded
    if (!existsSync(path)) {
      if (list.length === 1) return [path];
      throw new RangeError(`store ${location}: no such file or directory`);
    }
    if (!isDirectory(path)) {
      if (basename(path) !== EMISSIONS_FILE_NAME) {
        throw new RangeError(`store ${location}: a file that is not ${EMISSIONS_FILE_NAME}; name its directory or a directory of stores`);
      }
      dirs.push(dirname(path));
    } else if (existsSync(join(path, EMISSIONS_FILE_NAME))) {
      dirs.push(path);
    } else {
      const hosts = readdirSync(path)
        .sort()
        .map((name) => join(path, name))
        .filter((sub) => isDirectory(sub) && existsSync(join(sub, EMISSIONS_FILE_NAME)));
      if (hosts.length === 0 && list.length > 1) {
        throw new RangeError(`store ${location}: holds no ${EMISSIONS_FILE_NAME}, neither directly nor in a subdirectory`);
      }
      dirs.push(...(hosts.length > 0 ? hosts : [path]));
    }
  }
  return [...new Set(dirs)];
}

/** How rich a row is: the number of fields it fills (to keep the fullest copy of a run). */
function filled(record: EmissionsRecord): number {
  let count = 0;
  for (const column of ALL_COLUMNS) {
    const value = record[column];
    if (value !== null && value !== '') count++;
  }
  return count;
}

/**
 * Like {@link loadResults}, over one store or several (see {@link resolveStoreDirs}), with the
 * same filters. A run found in several stores (a copied or merged file) is returned once: all
 * its rows from the store whose rows fill the most fields (ties: the first store given), so a
 * copy in CodeCarbon's layout never hides ours. Rows of one file that share a `run_id`
 * (CodeCarbon's periodic flushes) are all kept, as {@link loadResults} returns them. Rows
 * without a `run_id` are never merged. Order: store by store, each in file order.
 *
 * @throws as {@link loadResults} (naming the malformed file), and {@link resolveStoreDirs}.
 */
export function loadResultsFromStores(filters: StoresFilters = {}, options: LoadOptions = {}): LoadedRecord[] {
  const { outputDir, ...rowFilters } = filters;
  const dirs = resolveStoreDirs(outputDir ?? defaultOutputDir());
  if (dirs.length === 1) return loadResults({ ...rowFilters, outputDir: dirs[0]! }, options);
  const all = dirs.map((dir) => loadResults({ outputDir: dir }, options));
  const filtered = Object.values(rowFilters).some((value) => value !== undefined);
  if (!filtered) return dedupRuns(all);
  // Which copy of a run is kept does not depend on the filters: choose among all rows, then
  // keep the matching rows of the chosen copies.
  const keep = new Set(dedupRuns(all).map((record) => `${record.source_file}\u0000${record.source_line}`));
  return dirs.flatMap((dir) =>
    loadResults({ ...rowFilters, outputDir: dir }, { ...options, onWarning: () => {} }).filter((record) => keep.has(`${record.source_file}\u0000${record.source_line}`)),
  );
}

/** One list from several stores' rows: each run_id's rows from the store with the richest copy. */
function dedupRuns(perStore: LoadedRecord[][]): LoadedRecord[] {
  if (perStore.length === 1) return perStore[0]!;
  const best = new Map<string, { store: number; score: number }>();
  perStore.forEach((records, store) => {
    const scores = new Map<string, number>();
    for (const record of records) {
      if (record.run_id === '') continue;
      scores.set(record.run_id, (scores.get(record.run_id) ?? 0) + filled(record));
    }
    for (const [runId, score] of scores) {
      const previous = best.get(runId);
      if (previous === undefined || score > previous.score) best.set(runId, { store, score });
    }
  });
  const merged: LoadedRecord[] = [];
  perStore.forEach((records, store) => {
    for (const record of records) {
      if (record.run_id === '' || best.get(record.run_id)!.store === store) merged.push(record);
    }
  });
  return merged;
}

/** Options of {@link mergeStores}. */
export interface MergeOptions extends StoreOptions {
  /**
   * Add to a target that already holds rows (runs it already has are skipped). Default false:
   * a target with rows is refused, so that a merge is never mixed into a store by mistake.
   */
  append?: boolean;
}

/** What {@link mergeStores} did. */
export interface MergeResult {
  /** The store directories read, in order. */
  sources: string[];
  /** The file written. */
  target: string;
  /** Rows written. */
  written: number;
  /** Distinct runs written. */
  runs: number;
  /** Rows skipped: copies of runs found in another source, or already in the target. */
  duplicates: number;
}

/** Rows per {@link appendRecords} call of {@link mergeStores}. */
export const MERGE_BATCH_ROWS = 5000;

/** The record part of a loaded row (without where it was read from). */
export function recordOf(row: LoadedRecord): EmissionsRecord {
  const { source_file: _file, source_line: _line, written_by: _writer, ...record } = row;
  return record;
}

/**
 * Merge several stores into one CodeCarbon-compatible store at `target` (a directory): every
 * run once (as {@link loadResultsFromStores} chooses it), with every field it had (our columns
 * included), in source order, written by {@link appendRecords} in batches of
 * {@link MERGE_BATCH_ROWS} rows (one lock and one fsync per file each; a merge cut short leaves
 * whole batches, and `append` resumes it without copying a run twice).
 *
 * @throws RangeError when the target is one of the sources, or already holds rows and `append`
 *   is not set; the errors of {@link loadResultsFromStores} and {@link appendRecord}.
 */
export function mergeStores(sources: string | readonly string[], target: string, options: MergeOptions = {}): MergeResult {
  const { append = false, ...storeOptions } = options;
  if (typeof target !== 'string' || target.trim() === '') throw new TypeError('mergeStores: target must be a non-empty directory path');
  const targetDir = dirname(emissionsFile(target));
  const dirs = resolveStoreDirs(sources);
  if (dirs.includes(targetDir)) throw new RangeError(`merge target ${target} is also one of the sources`);
  const existing = loadResults({ outputDir: targetDir });
  if (existing.length > 0 && !append) {
    throw new RangeError(`merge target ${join(targetDir, EMISSIONS_FILE_NAME)} already holds ${existing.length} row(s); merge into an empty directory, or pass --append`);
  }
  const have = new Set(existing.map((row) => row.run_id).filter((id) => id !== ''));
  const perStore = dirs.map((dir) => loadResults({ outputDir: dir }));
  const total = perStore.reduce((sum, records) => sum + records.length, 0);
  const rows = dedupRuns(perStore);
  let written = 0;
  const runs = new Set<string>();
  let batch: EmissionsRecord[] = [];
  for (const row of rows) {
    if (row.run_id !== '' && have.has(row.run_id)) continue;
    batch.push(recordOf(row));
    written++;
    runs.add(row.run_id === '' ? `\u0000${written}` : row.run_id);
    if (batch.length === MERGE_BATCH_ROWS) {
      appendRecords(batch, targetDir, storeOptions);
      batch = [];
    }
  }
  appendRecords(batch, targetDir, storeOptions);
  return { sources: dirs, target: join(targetDir, EMISSIONS_FILE_NAME), written, runs: runs.size, duplicates: total - written };
}
