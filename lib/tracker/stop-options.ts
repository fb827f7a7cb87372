/** Options of `EnergyTracker.stop()` and their validation. */
import { rejectUnknownOptions } from '../options-check.js';
import type { RunStatus } from '../store/schema.js';

/** Options of `stop()`. */
export interface StopOptions {
  /** How the run ended: `'completed'` (default), `'interrupted'`, `'failed'` or `'killed'` (e.g. a command that died of SIGKILL). */
  status?: RunStatus;
  /** Store the run. Default: the tracker's `save` option; `false` discards this run. */
  save?: boolean;
  /** Where the summary goes (when `printSummary` is on). Default `'stdout'`. */
  summaryTo?: 'stdout' | 'stderr';
}

const STOP_OPTIONS = new Set(['status', 'save', 'summaryTo']);

/** Validate `stop()`'s options (TypeError/RangeError naming the option) and apply defaults. */
export function resolveStopOptions(options: StopOptions | undefined): Required<Omit<StopOptions, 'save'>> & { save: boolean | null } {
  if (options === undefined) return { status: 'completed', save: null, summaryTo: 'stdout' };
  rejectUnknownOptions('stop()', options, [...STOP_OPTIONS]);
  const status: RunStatus = options.status ?? 'completed';
  if (status !== 'completed' && status !== 'interrupted' && status !== 'failed' && status !== 'killed') {
    throw new RangeError(`stop(): status must be 'completed', 'interrupted', 'failed' or 'killed', got ${String(status)}`);
  }
  if (options.save !== undefined && typeof options.save !== 'boolean') throw new TypeError('stop(): option save must be a boolean');
  const summaryTo = options.summaryTo ?? 'stdout';
  if (summaryTo !== 'stdout' && summaryTo !== 'stderr') {
    throw new RangeError(`stop(): option summaryTo must be 'stdout' or 'stderr', got ${String(summaryTo)}`);
  }
  return { status, save: options.save ?? null, summaryTo };
}
