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
 *   yields to them, and the signal's default action kills the process at once. That run is
 *   kept too, by its in-flight checkpoint (see `lib/store/inflight.ts`): the next tracker,
 *   `loadResults` or CLI call stores it as `killed`.
 */

/** The signals that interrupt a run. */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What the handler needs of a tracker. */
export interface InterruptibleRun {
  readonly running: boolean;
  stop(options: { status: 'interrupted' }): unknown;
}

const active = new Set<InterruptibleRun>();
const installed = new Map<NodeJS.Signals, () => void>();

function onSignal(signal: NodeJS.Signals): void {
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
  if (userHandlers === 0) process.kill(process.pid, signal);
}

function install(): void {
  for (const signal of INTERRUPT_SIGNALS) {
    const handler = (): void => onSignal(signal);
    installed.set(signal, handler);
    process.prependListener(signal, handler);
  }
}

function uninstall(): void {
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
