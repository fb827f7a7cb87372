import type { EmissionsRecord } from '../store/schema.js';

/**
 * Thrown by `stop()` when the run was measured but could not be appended to `emissions.csv`
 * (a malformed file, a lock that cannot be taken, a read-only directory). The record is on
 * `error.record`, and `stop()` wrote its JSON to stderr before throwing, so the result is not lost.
 */
export class RunNotStoredError extends Error {
  /** The measured run, exactly as it would have been stored. */
  readonly record: EmissionsRecord;
  /** The file it could not be stored in. */
  readonly file: string;
  constructor(record: EmissionsRecord, file: string, cause: unknown) {
    super(
      `EnergyTracker.stop(): the run was measured but could not be stored in ${file}: ${(cause as Error)?.message ?? String(cause)}. ` +
        'The record is on error.record (and was printed to stderr as JSON).',
      { cause },
    );
    this.name = 'RunNotStoredError';
    this.record = record;
    this.file = file;
  }
}
