/**
 * Ctrl-C safe runs: while any tracker is active, SIGINT, SIGTERM and SIGHUP store each active
 * run with `run_status` `interrupted`, then the signal takes its normal course.
 *
 * - The handlers are installed when the first tracker starts. When the last one stops they are
 *   kept for the sampler's idle window (`LET_SAMPLER_IDLE_MS`, default 2000 ms, as the sampler:
 *   lib/native/sampler-pool.ts), so that back-to-back runs do not pay for installing them again,
 *   then removed. While no tracker runs, a signal is handled exactly as without us: where the
 *   process has no other listener for it, the native handler gives it its default action at once
 *   (the process dies of it, even with a blocked event loop); otherwise our handler stands aside
 *   and the other listeners decide. A listener added or removed for one of these signals during
 *   the idle window ends the window (our handlers are removed: at once for a removed one, on
 *   the next tick for an added one, see onNewListener). With `LET_SAMPLER_IDLE_MS=0`,
 *   or where the native watchdog is not armed (no addon), they are removed when the last tracker
 *   stops. Importing the package installs nothing, and nothing here keeps the process alive
 *   (Node's signal handles and the idle timer are unref'd).
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
import { samplerIdleCloseMs } from '../native/sampler-pool.js';
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
/** No run is active; the handlers are kept until {@link idleSinceMs} + the idle window. */
let idle = false;
let idleSinceMs = 0;
/** Not re-armed for every run: when it fires, it removes the handlers or waits for the rest of the window. */
let idleTimer: NodeJS.Timeout | null = null;

const signalNumber = (signal: NodeJS.Signals): number => osConstants.signals[signal] ?? 0;

/**
 * Whether `listener` keeps the process alive on its signal, as a user's handler does. A
 * listener that raises the signal again itself (signal-exit, which some libraries install on
 * import) lets the process die of it, so it does not count.
 */
function keepsProcessAlive(listener: unknown): boolean {
  return typeof listener === 'function' && !/process\.kill\(\s*process\.pid/.test(Function.prototype.toString.call(listener));
}

/**
 * A listener added by the user for a watched signal: their handler decides from now on (the
 * watchdog stops watching that signal). During the idle window, the native handler also stops
 * acting for that signal at once, and our handlers go on the next tick, once the listener is
 * in: removing ours while 'newListener' runs would leave the signal with no listener at that
 * moment, and Node would stop watching it for good (it starts watching a signal only when its
 * first listener is announced). A run started before that tick keeps them.
 */
function onNewListener(event: string | symbol, listener: unknown): void {
  if (typeof event !== 'string' || !installed.has(event as NodeJS.Signals)) return;
  if (watchdog !== null && keepsProcessAlive(listener)) watchdog.disarmSignal(signalNumber(event as NodeJS.Signals));
  if (idle) {
    watchdog?.setSignalWatchdogIdle?.(atOnceSignals(event));
    process.nextTick(endIdleWindow);
  }
}

/** The signals that only we listen to (`except` is about to get another listener). */
function atOnceSignals(except?: string): number[] {
  const signals: number[] = [];
  for (const signal of INTERRUPT_SIGNALS) if (signal !== except && process.listenerCount(signal) === 1) signals.push(signalNumber(signal));
  return signals;
}

function endIdleWindow(): void {
  if (idle) uninstall();
}

/** A listener of someone else's removed during the idle window: our handlers go at once too. */
function onRemoveListener(event: string | symbol, listener: unknown): void {
  if (idle && typeof event === 'string' && installed.has(event as NodeJS.Signals) && listener !== installed.get(event as NodeJS.Signals)) uninstall();
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
  const binding = tryLoadNativeBinding().binding;
  const loaded = binding !== null && onMainThread(binding) ? binding : null;
  const watched = INTERRUPT_SIGNALS.filter((signal) => !unwatched.includes(signal)).map(signalNumber);
  if (loaded !== null && typeof loaded.armSignalWatchdog === 'function' && watched.length > 0 && loaded.armSignalWatchdog(watched, SIGNAL_GRACE_MS)) {
    watchdog = loaded;
    process.on('newListener', onNewListener);
    process.on('removeListener', onRemoveListener);
  }
}

function uninstall(): void {
  idle = false;
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = null;
  // Disarm first: it puts libuv's handler back while libuv still watches the signal.
  if (watchdog !== null) {
    process.off('newListener', onNewListener);
    process.off('removeListener', onRemoveListener);
    watchdog.disarmSignalWatchdog();
    watchdog = null;
  }
  for (const [signal, handler] of installed) process.off(signal, handler);
  installed.clear();
}

/** Idle timer (JS thread): remove the handlers once the idle window has passed. */
function onIdleTimer(): void {
  idleTimer = null;
  if (!idle) return;
  const remainingMs = idleSinceMs + samplerIdleCloseMs() - performance.now();
  if (remainingMs > 0) armIdleTimer(remainingMs);
  else uninstall();
}

function armIdleTimer(ms: number): void {
  idleTimer = setTimeout(onIdleTimer, Math.ceil(ms));
  idleTimer.unref(); // never keeps the process alive
}

/**
 * Whether the handlers may be kept while no run is active: only where a signal can then be
 * handled exactly as without us, i.e. the native watchdog acts at once (main thread), or where
 * signals never reach `process` listeners (a worker).
 */
function canIdle(): boolean {
  return watchdog !== null ? typeof watchdog.setSignalWatchdogIdle === 'function' : !onMainThread(tryLoadNativeBinding().binding);
}

/** Whether this is the main thread: asked of the addon where it can answer (node:worker_threads costs ~1.5 ms to load). */
function onMainThread(binding: NativeBinding | null): boolean {
  return typeof binding?.isMainThread === 'function' ? binding.isMainThread() : process.getBuiltinModule('node:worker_threads').isMainThread;
}

/** A tracker started: make sure the handlers are installed (or taken back from the idle window). */
export function runStarted(run: InterruptibleRun): void {
  if (idle) {
    // Runs are active again before this one counts: a signal from now on waits for JavaScript.
    idle = false;
    watchdog?.setSignalWatchdogIdle?.(null);
  }
  active.add(run);
  if (installed.size === 0) install();
}

/** A tracker stopped: when it was the last one, keep the handlers for the idle window, or remove them. */
export function runEnded(run: InterruptibleRun): void {
  active.delete(run);
  if (active.size !== 0 || installed.size === 0 || idle) return;
  const idleMs = samplerIdleCloseMs();
  if (idleMs === 0 || !canIdle()) {
    uninstall();
    return;
  }
  // A signal that has no listener but ours takes its default action at once; the others go to
  // their listeners (our handler stands aside: no run to store, see onSignal).
  watchdog?.setSignalWatchdogIdle?.(atOnceSignals());
  idle = true;
  idleSinceMs = performance.now();
  if (idleTimer === null) armIdleTimer(idleMs);
}
