/**
 * The store: `emissions.csv`, CodeCarbon-compatible, appended safely across processes and
 * hosts, and queried synchronously.
 *
 * Design notes:
 * - Lock (lock.ts): a kernel open-file-description lock on `emissions.csv.let-lock`, never
 *   broken while its holder lives and released by the kernel when it dies; where the addon
 *   cannot load, a lock file broken only when its holder is provably dead (or, on another
 *   host, unchanged for `lockStaleMs`). Polled with backoff up to `lockTimeoutMs`. Readers
 *   take no lock, except to look again at a torn last line (a writer may be mid-append).
 * - Rows: one `write()` per row plus `fsync`. A last line without a line end is torn: readers
 *   report it and skip it; the next writer moves it to `emissions.csv.torn-<time>-<pid>` and
 *   cuts it off (so a hand-edited file whose last row lacks its line end has that row moved
 *   aside, not lost).
 * - Other tools' files: new rows follow the file's column order; missing columns of ours are
 *   added by an atomic rewrite that copies every existing line byte for byte and appends
 *   empty fields. Rows sharing a `run_id` (CodeCarbon's periodic flushes) are all kept and all
 *   returned.
 * - Formula guard: text starting with `=`, `+`, `-`, `@`, tab, CR (or `'`, the guard itself)
 *   is written as `"'…"`; the reader removes the `'` only from such quoted fields.
 *   Numeric columns are never guarded.
 */
export * from './schema.js';
export { defaultOutputDir, emissionsFile, EMISSIONS_FILE_NAME } from './paths.js';
export { appendRecord, loadResults, deleteResults, streamResults } from './store.js';
export type { LoadOptions, StoreOptions, StoreWarning, StreamOptions } from './store.js';
export { loadResultsFromStores, resolveStoreDirs, mergeStores, recordOf } from './stores.js';
export type { StoresFilters, MergeOptions, MergeResult } from './stores.js';
export type { LockOptions } from './lock.js';
export { StoreError, parseCsv, quoteField, formatNumber, parseNumber } from './csv.js';
export type { CsvRecord, ParsedCsv, TornTail, StoreErrorCode } from './csv.js';
export { formatRecordRow, formatHeader, splitExperimentId, joinExperimentId, parseTimestamp } from './records.js';
export type { ExperimentKey } from './records.js';
