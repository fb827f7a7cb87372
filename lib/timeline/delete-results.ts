/**
 * `deleteResults` as the package exports it: the store's rows (lib/store's deleteResults) and
 * then the power timelines of the runs no longer stored, so a deleted run leaves no file behind.
 * It lives here, above the store, because the timelines depend on the store and not the reverse.
 */
import { deleteResults as deleteStoredRuns, type StoreOptions } from '../store/index.js';
import type { ResultFilters } from '../store/schema.js';
import { pruneTimelines } from './store.js';

/**
 * Deletes the stored runs matching `filters` (all of them without filters) from `emissions.csv`,
 * CodeCarbon's backups and `emissions.let.jsonl`, then the power timelines of runs no longer
 * stored. Returns how many runs were deleted.
 */
export function deleteResults(filters?: ResultFilters, options: StoreOptions = {}): number {
  return deleteRunsAndTimelines(filters, options).runs;
}

/** What `deleteRunsAndTimelines` deleted. */
export interface DeletedRuns {
  /** Runs deleted from the store. */
  runs: number;
  /** Power timelines deleted with them. */
  timelines: number;
}

/** `deleteResults`, also saying how many timelines went (the CLI's `delete` reports both). */
export function deleteRunsAndTimelines(filters?: ResultFilters, options: StoreOptions = {}): DeletedRuns {
  const runs = deleteStoredRuns(filters, options);
  // filters was checked by the store's deleteResults: outputDir, when given, is a string.
  const timelines = runs > 0 ? pruneTimelines(filters?.outputDir !== undefined ? { outputDir: filters.outputDir } : {}) : 0;
  return { runs, timelines };
}
