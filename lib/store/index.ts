/**
 * The store: `emissions.csv` with exactly CodeCarbon 3.2.x's 38 columns, our own fields in the
 * sidecar `emissions.let.jsonl` beside it, appended safely across processes and hosts, and
 * queried synchronously (or streamed).
 *
 * Design notes:
 * - Files (`files.ts`): only regular files are read or written (opened non-blocking before
 *   fstat, so a FIFO is refused instead of hanging); writes never follow a symbolic link;
 *   rewrites go to a uniquely named temp file that takes the owner, group (as root) and mode
 *   of the file it replaces, then fsync and rename. Rewrites work on bytes (latin1 text, one
 *   character per byte), so non-UTF-8 bytes survive.
 * - Lock (`lock.ts`): a kernel open-file-description lock on `emissions.csv.let-lock`, never
 *   broken while its holder lives and released by the kernel when it dies; where the addon
 *   cannot load, a lock file broken only when its holder is provably dead (or, on another
 *   host, unchanged for `lockStaleMs`). Polled with backoff up to `lockTimeoutMs`. Every write
 *   holds it; readers take none, except to look again at a torn last line (a writer may be
 *   mid-append).
 * - Append (`append.ts`): the sidecar line (+ fsync), then the CSV row (+ fsync); a failure
 *   cuts both files back to their previous sizes. A torn last line is moved aside to
 *   `emissions.csv.torn-<pid>-<random>` and cut off, after the file's header was checked.
 * - Layouts (`layout.ts`): rows follow the file's own column order; a file missing some of
 *   CodeCarbon's columns (CodeCarbon drops the columns empty in every row; 2.x layouts) gets
 *   them back by an atomic rewrite that copies every line and extends it; a 0.1.0 file (38 +
 *   our 8 columns) is migrated: our columns move to the sidecar (sidecar written first, then
 *   the CSV renamed, so a migration killed halfway loses nothing and is simply redone).
 * - Sidecar (`sidecar.ts`): one JSON object per run, `{"run_id":…, <TRACKER_COLUMNS>…}`, the
 *   entries of a run go to its rows in order (rows beyond them take its last entry); entries of
 *   runs in no CSV (a failed append) are ignored.
 * - Reading (`decoder.ts`, `reader.ts`, `query.ts`): one decoder turns every file's rows into
 *   records; CodeCarbon's backups (`emissions.csv.bak`, `emissions.csv_N.bak`) are read too,
 *   deduplicated by run_id (the newer file wins), with a `LET_BACKUPS_READ` warning;
 *   `repairStore` (`repair.ts`) merges them back and archives them.
 * - Formula guard: text starting with `=`, `+`, `-`, `@`, tab, CR (or `'`, the guard itself)
 *   is written as `"'…"`; the reader removes the `'` only from such quoted fields.
 *   Numeric columns are never guarded.
 */
export * from './schema.js';
export { defaultOutputDir, emissionsFile, EMISSIONS_FILE_NAME, SIDECAR_FILE_NAME, sidecarFileOf } from './paths.js';
export { appendRecord, appendRecords } from './append.js';
export type { StoreOptions } from './append.js';
export { loadResults, streamResults } from './query.js';
export { deleteResults } from './delete.js';
export type { LoadOptions, StreamOptions } from './query.js';
export { repairStore } from './repair.js';
export type { RepairResult } from './repair.js';
export type { StoreWarning, StoreWarningCode, WarningOptions } from './warnings.js';
export { loadResultsFromStores, resolveStoreDirs, mergeStores, recordOf } from './stores.js';
export type { StoresFilters, MergeOptions, MergeResult } from './stores.js';
export type { LockOptions } from './lock.js';
export { StoreError, parseCsv, quoteField, formatNumber, parseNumber } from './csv.js';
export type { CsvRecord, ParsedCsv, TornTail, StoreErrorCode } from './csv.js';
export { formatRecordRow, formatHeader, splitExperimentId, joinExperimentId, parseTimestamp } from './records.js';
export type { ExperimentKey } from './records.js';
/** Create a folder of the store (as root in a user's store, it goes to that user). */
export { makeDirectory } from './files.js';
