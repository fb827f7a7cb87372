/**
 * The store's cross-process lock on `emissions.csv`.
 *
 * Kernel lock (`fcntl`, the default where the native addon loads on Linux): an exclusive
 * open-file-description lock (F_OFD_SETLK) on `<file>.let-lock`, a regular file that stays in
 * place (distinct from 0.1.0's `<file>.lock` directory). Nothing can break it while its holder
 * lives (paused, slow, or on another NFS client); the kernel releases it when the holder's
 * process ends in any way, so a crashed holder costs no wait; a worker thread that is
 * terminated releases its locks in the addon's env cleanup hook. The holder writes its pid,
 * host and start time into the file, which names it in the timeout error.
 *
 * Lock-file fallback (`file`, where the addon cannot load or has no kernel lock):
 * `<file>.let-xlock`, broken only when its holder is provably dead, or, for a holder on
 * another host, unchanged for `lockStaleMs` (lock-fallback.ts says how, and its limits).
 * The two kinds exclude each other between processes of one host (two installs of the
 * package, one without its addon): each announces itself, then looks for a live holder of
 * the other kind and backs off. Between hosts, every writer must use the same kind.
 *
 * Waiting is a loop of non-blocking attempts with exponential backoff and jitter (1 to 50 ms)
 * until `lockTimeoutMs`; it installs no signal handler, so Ctrl-C ends a waiting process as
 * any other. Runs on the calling JavaScript thread; synchronous (the store's API is).
 */
import { tryLoadNativeBinding } from '../native/loader.js';
import type { NativeBinding } from '../native/types.js';
import { StoreError } from './csv.js';
import { fileLockStillHeld, refreshFileLock, releaseFileLock, tryOnce } from './lock-fallback.js';
import type { StaleWatch } from './lock-fallback.js';
import { describeHolder, holderLiveness, holderText, newNonce, parseHolder, readLockFile } from './lock-holder.js';

/** Suffix of the kernel lock's file (`emissions.csv.let-lock`); the file is never removed. */
export const LOCK_FILE_SUFFIX = '.let-lock';
/** Suffix of the fallback's lock file (`emissions.csv.let-xlock`), present only while held. */
export const FALLBACK_LOCK_SUFFIX = '.let-xlock';

/** Which lock the store takes. */
export type LockMethod = 'auto' | 'fcntl' | 'file';

/** How the store waits for its cross-process lock. */
export interface LockOptions {
  /** Give up waiting for the lock after this long. Default: env `LET_LOCK_TIMEOUT_MS`, else 30,000 ms. */
  lockTimeoutMs?: number;
  /**
   * Lock-file fallback only: a lock file whose holder is on another host (so its life cannot
   * be checked) is broken when it has not changed for this long. Default: env
   * `LET_LOCK_STALE_MS`, else 10,000 ms. Not used by the kernel lock, which needs no guess.
   */
  lockStaleMs?: number;
  /**
   * `fcntl` (kernel lock, needs the native addon on Linux), `file` (lock-file fallback), or
   * `auto` (`fcntl` where available, else `file`). Default: env `LET_LOCK_METHOD`, else `auto`.
   * All writers sharing a store across hosts must use the same kind.
   */
  lockMethod?: LockMethod;
}

/** A lock held by this thread. */
export interface HeldLock {
  /** Path of the lock file. */
  readonly lockPath: string;
  /** The kind of lock held. */
  readonly method: 'fcntl' | 'file';
  /**
   * Check that the lock is still this holder's, and (lock-file fallback) mark it live for
   * waiters on other hosts. Throws a {@link StoreError} (`LET_LOCK_FAILED`) when the lock
   * file was removed or replaced meanwhile: the caller must not go on writing.
   */
  refresh(): void;
}

/** The lock settings read from the environment (each validated when read). */
export interface LockEnvironment {
  timeoutMs?: number;
  staleMs?: number;
  method?: LockMethod;
}

const MAX_MS = 2 ** 31 - 1;

function envMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_MS) {
    throw new RangeError(`${name} must be a whole number of milliseconds from 0 to ${MAX_MS}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/**
 * Read and validate `LET_LOCK_TIMEOUT_MS`, `LET_LOCK_STALE_MS` and `LET_LOCK_METHOD`.
 * Throws a RangeError naming the variable and its value when one is malformed; the tracker
 * calls this when it is created, so a bad value fails before a run is measured.
 */
export function lockEnvironment(env: NodeJS.ProcessEnv = process.env): LockEnvironment {
  const out: LockEnvironment = {};
  const timeoutMs = envMs(env, 'LET_LOCK_TIMEOUT_MS');
  const staleMs = envMs(env, 'LET_LOCK_STALE_MS');
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (staleMs !== undefined) out.staleMs = staleMs;
  const method = env.LET_LOCK_METHOD;
  if (method !== undefined && method !== '') {
    if (method !== 'auto' && method !== 'fcntl' && method !== 'file') {
      throw new RangeError(`LET_LOCK_METHOD must be auto, fcntl or file, got ${JSON.stringify(method)}`);
    }
    out.method = method;
  }
  return out;
}

function checkMs(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_MS) {
    throw new RangeError(`${name} must be a number of milliseconds from 0 to ${MAX_MS}, got ${String(value)}`);
  }
  return value;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for `ms` milliseconds (the store's API is synchronous). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

type KernelBinding = Required<Pick<NativeBinding, 'lockTry' | 'lockRelease' | 'lockStillHeld' | 'lockHolder'>>;

/** The addon's kernel lock, when it loads and has one; loaded on first use. */
function kernelLock(): KernelBinding | null {
  const { binding } = tryLoadNativeBinding();
  if (binding === null || binding.lockSupported !== true) return null;
  const { lockTry, lockRelease, lockStillHeld, lockHolder } = binding;
  if (typeof lockTry !== 'function' || typeof lockRelease !== 'function' || typeof lockStillHeld !== 'function' || typeof lockHolder !== 'function') {
    return null;
  }
  return binding as KernelBinding;
}

/** One way of taking the lock: `attempt` returns the holding or null (busy). */
interface Backend {
  method: 'fcntl' | 'file';
  lockPath: string;
  attempt(): Holding | null;
  holder(): string;
}

interface Holding {
  refresh(): void;
  release(): void;
}

/** A live holder of the other kind on this host (see the module comment), as text read from `path`. */
function otherKindHeld(path: string): boolean {
  let view;
  try {
    view = readLockFile(path);
  } catch {
    return false; // not a regular file: that kind refuses it and takes no lock there
  }
  const info = view === null ? null : parseHolder(view.text);
  return info !== null && holderLiveness(info) === 'alive';
}

function lostError(file: string, lockPath: string): StoreError {
  return new StoreError(file, null, 'LET_LOCK_FAILED', `the lock file ${lockPath} was removed or replaced while this writer held it; stopped before changing ${file}`);
}

function fcntlBackend(file: string, binding: KernelBinding): Backend {
  const lockPath = `${file}${LOCK_FILE_SUFFIX}`;
  const fallbackPath = `${file}${FALLBACK_LOCK_SUFFIX}`;
  return {
    method: 'fcntl',
    lockPath,
    attempt() {
      const handle = binding.lockTry(lockPath, holderText('fcntl', newNonce()));
      if (handle === null) return null;
      if (otherKindHeld(fallbackPath)) {
        binding.lockRelease(handle);
        return null;
      }
      return {
        refresh() {
          if (!binding.lockStillHeld(handle, lockPath)) throw lostError(file, lockPath);
        },
        release() {
          binding.lockRelease(handle);
        },
      };
    },
    holder: () => describeHolder(parseHolder(binding.lockHolder(lockPath)) ?? parseHolder(readLockFile(fallbackPath)?.text ?? null)),
  };
}

function fileBackend(file: string, staleMs: number): Backend {
  const lockPath = `${file}${FALLBACK_LOCK_SUFFIX}`;
  const kernelPath = `${file}${LOCK_FILE_SUFFIX}`;
  const watch: StaleWatch = new Map();
  return {
    method: 'file',
    lockPath,
    attempt() {
      const lock = tryOnce(lockPath, staleMs, watch);
      if (lock === null) return null;
      if (otherKindHeld(kernelPath)) {
        releaseFileLock(lock);
        return null;
      }
      return {
        refresh() {
          if (!fileLockStillHeld(lock)) throw lostError(file, lockPath);
          refreshFileLock(lock);
        },
        release() {
          releaseFileLock(lock);
        },
      };
    },
    holder: () => {
      let text: string | null = null;
      try {
        text = readLockFile(lockPath)?.text ?? readLockFile(kernelPath)?.text ?? null;
      } catch {
        // Named in the error as unknown.
      }
      return describeHolder(parseHolder(text));
    },
  };
}

function lockFailed(file: string, lockPath: string, err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'ENOLCK' ? ' (this file system has no fcntl locks: set LET_LOCK_METHOD=file on every host sharing the store)' : '';
  const message = e.code === 'ENOTREG' ? e.message : `cannot take the lock ${lockPath}: ${e.message}${hint}`;
  return new StoreError(file, null, 'LET_LOCK_FAILED', message);
}

/**
 * Run `fn` while holding the store's lock on `file` (see the module comment for the kinds of
 * lock). Waits with exponential backoff and jitter; throws a {@link StoreError}
 * `LET_LOCK_TIMEOUT` naming the file and the holder (pid, host, since when) when the lock
 * cannot be had in time, and `LET_LOCK_FAILED` when the lock file cannot be used (not a
 * regular file, no permission, read-only directory). The lock's directory must exist.
 */
export function withLock<T>(file: string, fn: (lock: HeldLock) => T, options: LockOptions = {}): T {
  const fromEnv = lockEnvironment();
  const timeout = checkMs('lockTimeoutMs', options.lockTimeoutMs) ?? fromEnv.timeoutMs ?? 30_000;
  const stale = checkMs('lockStaleMs', options.lockStaleMs) ?? fromEnv.staleMs ?? 10_000;
  const wanted = options.lockMethod ?? fromEnv.method ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'fcntl' && wanted !== 'file') {
    throw new RangeError(`lockMethod must be auto, fcntl or file, got ${JSON.stringify(wanted)}`);
  }
  const kernel = wanted === 'file' ? null : kernelLock();
  if (wanted === 'fcntl' && kernel === null) {
    const why = tryLoadNativeBinding().error?.message ?? 'the native addon has no kernel lock on this platform';
    throw new StoreError(file, null, 'LET_LOCK_FAILED', `the fcntl lock was asked for (lockMethod / LET_LOCK_METHOD) but is not available: ${why}`);
  }
  const backend = kernel !== null ? fcntlBackend(file, kernel) : fileBackend(file, stale);
  const deadline = performance.now() + timeout;
  let delay = 1;
  let holding: Holding | null = null;
  for (;;) {
    try {
      holding = backend.attempt();
    } catch (err) {
      throw lockFailed(file, backend.lockPath, err);
    }
    if (holding !== null) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      const after = backend.method === 'fcntl' ? 'a kernel lock, released when its holder ends: nothing to remove by hand' : `a lock file, broken once its holder is dead, or on another host and unchanged for ${stale} ms`;
      throw new StoreError(
        file,
        null,
        'LET_LOCK_TIMEOUT',
        `timed out after ${timeout} ms waiting for the lock ${backend.lockPath}, held by ${backend.holder()} (${after})`,
      );
    }
    sleepSync(Math.min(left, Math.max(1, Math.round(delay * (0.5 + Math.random())))));
    delay = Math.min(delay * 2, 50);
  }
  const held = holding;
  const lock: HeldLock = { lockPath: backend.lockPath, method: backend.method, refresh: () => held.refresh() };
  try {
    return fn(lock);
  } finally {
    held.release();
  }
}
