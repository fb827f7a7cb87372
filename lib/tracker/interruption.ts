/**
 * Ctrl-C safe runs: while any tracker is active, SIGINT, SIGTERM and SIGHUP store each active
 * run with `run_status` `interrupted`, then the signal takes its normal course.
 *
 * - The handlers are installed when the first tracker starts and removed when the last one
 *   stops, so a process without an active tracker handles signals exactly as without us.
 * - They are prepended, so the runs are stored before any handler of the user's runs (which
 *   may call `process.exit()`).
 * - When the user has a handler of their own for that signal, it runs and decides (the
 *   process does not die of the signal, as Node does whenever a handler exists). Otherwise,
 *   once the runs are stored, our handler is removed and the signal raised again
 *   (`process.kill(process.pid, signal)`): the process dies of it, and its parent sees that.
 * - JavaScript handlers run on the event loop: a synchronous, CPU-bound workload never
 *   yields to them, so the signal would wait for the workload to end. The native signal
 *   watchdog (native/signal_watchdog.h) ends the process with the signal's default action when
 *   JavaScript has not handled it within {@link SIGNAL_GRACE_MS}, as it would end without a
 *   tracker. That run is kept by its in-flight checkpoint (see `lib/store/inflight.ts`): the
 *   next tracker, `loadResults` or CLI call stores it as `killed`. (Checkpoints are written on
 *   the event loop too: a long synchronous loop should call `tracker.checkpoint()` now and then.)
 *   The watchdog does not watch a signal for which the user has a handler of their own: that
 *   handler decides, whenever it runs.
 */

import { constants as osConstants } from 'node:os';
import { tryLoadNativeBinding } from '../native/loader.js';
import type { NativeBinding } from '../native/types.js';

/** How long a watched signal may wait for its JavaScript handler before the watchdog acts, ms. */
export const SIGNAL_GRACE_MS = 1000;

/** The signals that interrupt a run. */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What the handler needs of a tracker. */
export interface InterruptibleRun {
  readonly running: boolean;
  stop(options: { status: 'interrupted' }): unknown;
}

const active = new Set<InterruptibleRun>();
const installed = new Map<NodeJS.Signals, () => void>();
let watchdog: NativeBinding | null = null;

const signalNumber = (signal: NodeJS.Signals): number => osConstants.signals[signal] ?? 0;

/**
 * Whether `listener` keeps the process alive on its signal, as a user's handler does. A
 * listener that raises the signal again itself (signal-exit, which some libraries install on
 * import) lets the process die of it, so it does not count.
 */
function keepsProcessAlive(listener: unknown): boolean {
  return typeof listener === 'function' && !/process\.kill\(\s*process\.pid/.test(Function.prototype.toString.call(listener));
}

/** A listener added by the user for a watched signal: their handler decides from now on. */
function onNewListener(event: string | symbol, listener: unknown): void {
  if (watchdog !== null && typeof event === 'string' && installed.has(event as NodeJS.Signals) && keepsProcessAlive(listener)) {
    watchdog.disarmSignal(signalNumber(event as NodeJS.Signals));
  }
}

function onSignal(signal: NodeJS.Signals): void {
  watchdog?.signalHandled(signalNumber(signal));
  const ours = installed.get(signal);
  const userHandlers = process.listeners(signal).filter((listener) => listener !== ours).length;
  for (const run of [...active]) {
    if (!run.running) continue;
    try {
      run.stop({ status: 'interrupted' });
    } catch (error) {
      // stop() already printed the unsaved record (RunNotStoredError); the signal goes on.
      process.stderr.write(`lamarr-energy-tracker: on ${signal}: ${(error as Error).message}\n`);
    }
  }
  active.clear();
  uninstall();
  if (userHandlers !== 0) return;
  process.kill(process.pid, signal);
  // Without listeners the signal has killed the process by now. A library that started
  // listening while the runs were stored (signal-exit, which some libraries load) gets it on
  // the next turn of the event loop and raises it again itself; should nothing end the
  // process within a second, exit as a shell reports a death by that signal.
  setTimeout(() => process.exit(128 + (osConstants.signals[signal] ?? 0)), 1000);
}

function install(): void {
  const unwatched: NodeJS.Signals[] = [];
  for (const signal of INTERRUPT_SIGNALS) {
    if (process.listeners(signal).some(keepsProcessAlive)) unwatched.push(signal); // the user's handler decides
    const handler = (): void => onSignal(signal);
    installed.set(signal, handler);
    process.prependListener(signal, handler);
  }
  // Signals reach only the main thread's listeners; the watchdog is armed from there.
  const loaded = process.getBuiltinModule('node:worker_threads').isMainThread ? tryLoadNativeBinding().binding : null;
  const watched = INTERRUPT_SIGNALS.filter((signal) => !unwatched.includes(signal)).map(signalNumber);
  if (loaded !== null && typeof loaded.armSignalWatchdog === 'function' && watched.length > 0 && loaded.armSignalWatchdog(watched, SIGNAL_GRACE_MS)) {
    watchdog = loaded;
    process.on('newListener', onNewListener);
  }
}

function uninstall(): void {
  // Disarm first: it puts libuv's handler back while libuv still watches the signal.
  if (watchdog !== null) {
    process.off('newListener', onNewListener);
    watchdog.disarmSignalWatchdog();
    watchdog = null;
  }
  for (const [signal, handler] of installed) process.off(signal, handler);
  installed.clear();
}

/** A tracker started: make sure the handlers are installed. */
export function runStarted(run: InterruptibleRun): void {
  active.add(run);
  if (installed.size === 0) install();
}

/** A tracker stopped: remove the handlers when it was the last one. */
export function runEnded(run: InterruptibleRun): void {
  active.delete(run);
  if (active.size === 0) uninstall();
}
