/**
 * Notifications of the runs that trackers of this process finish: `EnergyTracker.stop()` calls
 * {@link notifyRunStopped} with the record it built (stored or not), and listeners such as the
 * Prometheus metrics count the energy of tracked runs per project. Listeners run synchronously
 * on the JavaScript thread, in registration order; one that throws is reported as a process
 * warning and never disturbs the tracker or the other listeners.
 */
import type { EmissionsRecord } from '../store/schema.js';

/** Called with the record of each finished run. */
export type RunStoppedListener = (record: Readonly<EmissionsRecord>) => void;

const listeners = new Set<RunStoppedListener>();

/** Listen to the runs finished by this process's trackers; returns a function that stops listening. */
export function onRunStopped(listener: RunStoppedListener): () => void {
  if (typeof listener !== 'function') throw new TypeError('onRunStopped(listener): listener must be a function');
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Tell every listener about a finished run (called by `EnergyTracker.stop()`). */
export function notifyRunStopped(record: Readonly<EmissionsRecord>): void {
  for (const listener of [...listeners]) {
    try {
      listener(record);
    } catch (error) {
      process.emitWarning(`lamarr-energy-tracker: a run listener failed: ${(error as Error)?.message ?? String(error)}`, {
        code: 'LET_RUN_LISTENER_FAILED',
      });
    }
  }
}
