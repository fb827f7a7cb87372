import { utimesSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import { StoreError } from './csv.js';

/** How the store waits for and judges the cross-process lock on `emissions.csv`. */
export interface LockOptions {
  /**
   * A lock whose directory (`emissions.csv.lock`) was not touched for this long is taken to be
   * left by a dead writer and is broken. Default: env `LET_LOCK_STALE_MS`, else 10,000 ms;
   * at least 2,000 ms (proper-lockfile's minimum).
   */
  lockStaleMs?: number;
  /** Give up waiting for the lock after this long. Default: env `LET_LOCK_TIMEOUT_MS`, else 30,000 ms. */
  lockTimeoutMs?: number;
}

/** A lock held by this process. */
export interface HeldLock {
  /** Path of the lock directory. */
  readonly lockPath: string;
  /** Touch the lock so that others do not judge it stale during a long operation. */
  refresh(): void;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for `ms` milliseconds (the store's API is synchronous). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

function envMs(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a non-negative number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

function checkMs(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * Run `fn` while holding the lock on `file` (a directory `<file>.lock` made with an atomic
 * mkdir by proper-lockfile, which works across processes and across hosts sharing the
 * directory over NFS; staleness is judged by its mtime). Waits with exponential backoff and
 * jitter; throws a {@link StoreError} naming the file when the lock cannot be had in time.
 * The lock's parent directory must exist.
 */
export function withLock<T>(file: string, fn: (lock: HeldLock) => T, options: LockOptions = {}): T {
  const stale = Math.max(checkMs('lockStaleMs', options.lockStaleMs) ?? envMs('LET_LOCK_STALE_MS') ?? 10_000, 2000);
  const timeout = checkMs('lockTimeoutMs', options.lockTimeoutMs) ?? envMs('LET_LOCK_TIMEOUT_MS') ?? 30_000;
  const lockPath = `${file}.lock`;
  const deadline = Date.now() + timeout;
  let delay = 1;
  let release: () => void;
  for (;;) {
    try {
      release = lockfile.lockSync(file, {
        realpath: false,
        stale,
        lockfilePath: lockPath,
        // The lock is held only inside this synchronous call, so proper-lockfile's refresh
        // timer never runs while it is held; a compromise cannot be observed asynchronously.
        onCompromised: () => undefined,
      });
      break;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ELOCKED') {
        throw new StoreError(file, null, 'LET_LOCK_FAILED', `cannot create the lock ${lockPath}: ${e.message}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreError(
          file,
          null,
          'LET_LOCK_TIMEOUT',
          `timed out after ${timeout} ms waiting for the lock ${lockPath}, held by another writer ` +
            `(it is broken automatically once untouched for ${stale} ms; remove that directory by hand only if no writer is running)`,
        );
      }
      sleepSync(Math.min(left, Math.max(1, Math.round(delay * (0.5 + Math.random())))));
      delay = Math.min(delay * 2, 50);
    }
  }
  const held: HeldLock = {
    lockPath,
    refresh() {
      const now = new Date();
      try {
        utimesSync(lockPath, now, now);
      } catch {
        // Best effort: a failure shows up as a stolen lock, which the caller cannot repair.
      }
    },
  };
  try {
    return fn(held);
  } finally {
    try {
      release();
    } catch {
      // Already released or broken by another process as stale: nothing left to release.
    }
  }
}
