/**
 * The store: `emissions.csv`, CodeCarbon-compatible, appended safely across processes and
 * hosts, and queried synchronously.
 */
export * from './schema.js';
export { defaultOutputDir, emissionsFile, EMISSIONS_FILE_NAME } from './paths.js';
export { appendRecord, loadResults, deleteResults, streamResults } from './store.js';
export type { LoadOptions, StoreOptions, StoreWarning, StreamOptions } from './store.js';
export type { LockOptions } from './lock.js';
export { StoreError, parseCsv, quoteField, formatNumber, parseNumber } from './csv.js';
export type { CsvRecord, ParsedCsv, TornTail, StoreErrorCode } from './csv.js';
export { formatRecordRow, formatHeader, splitExperimentId, joinExperimentId, parseTimestamp } from './records.js';
export type { ExperimentKey } from './records.js';
