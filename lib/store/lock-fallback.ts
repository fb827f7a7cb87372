/**
 * The lock-file fallback, for where the native addon (and its kernel lock) cannot be used:
 * `<file>.let-xlock`, a file that appears whole or not at all (written under a temporary name,
 * then `link(2)`ed into place, which fails when the name exists, over NFS too), holding the
 * holder's pid, host, process start time and a random nonce (lock-holder.ts).
 *
 * A waiter breaks it only when its holder is provably dead: same host key (host, boot, pid
 * namespace) and its pid is gone or now belongs to a process with another start time. For a
 * holder on another host, whose life cannot be seen from here, it is broken when the file has
 * not changed (content, inode, mtime) for `staleMs` as timed by the waiter's own clock (so
 * clock skew between hosts does not matter); the holder refreshes it in `HeldLock.refresh()`.
 *
 * Breaking never lets two holders in: to remove the lock instance with nonce N, a breaker must
 * first take the breaker lock `<lock>.break-N` (itself a lock of this kind, broken by the same
 * rule). Inside it, it reads the lock again and removes it only if it is still the very
 * instance judged dead (same text and inode). Only breakers of N remove an instance with nonce
 * N, and at most one holds `<lock>.break-N` at a time, so the instance removed is always the
 * dead one, never a newer holder's.
 *
 * Limits: a holder on another host paused longer than `staleMs` (or whose long operation does
 * not call refresh in time) is taken for dead and a second writer gets in (its next refresh
 * throws, so it does not rename over the other's work, but a race remains). A worker thread
 * terminated while holding it leaves it held until its process ends. A process killed between
 * writing its temporary file and removing it, or inside a break, leaves a small file behind.
 *
 * Runs on the calling JavaScript thread; synchronous.
 */
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { holderLiveness, holderText, newNonce, parseHolder, readLockFile } from './lock-holder.js';
import type { LockFileView } from './lock-holder.js';

/** A lock file held by this thread. */
export interface FileLockHandle {
  readonly path: string;
  readonly fd: number;
  readonly ino: number;
  readonly dev: number;
  readonly text: string;
}

/** What a waiter has seen of a lock it cannot judge by liveness: since when it is unchanged. */
export type StaleWatch = Map<string, { key: string; seenAt: number }>;

const MAX_BREAK_DEPTH = 3;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Test hook: `LET_TEST_LOCK_BREAK_DELAY_MS` widens the window between judging a holder dead
 * and breaking its lock, so that the race tests make concurrent breakers meet.
 */
function breakDelayForTests(): number {
  const raw = process.env.LET_TEST_LOCK_BREAK_DELAY_MS;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,4}$/.test(raw)) throw new RangeError(`LET_TEST_LOCK_BREAK_DELAY_MS must be a whole number of milliseconds below 10000, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function viewKey(v: LockFileView): string {
  return `${v.dev}:${v.ino}:${v.mtimeMs}:${v.size}:${v.text}`;
}

/** Create the lock whole, or find it taken. Returns the handle or null (exists). */
function create(path: string): FileLockHandle | null {
  const nonce = newNonce();
  const text = holderText('file', nonce);
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${nonce}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  let linked = false;
  try {
    writeSync(fd, text, 0, 'utf8');
    try {
      linkSync(tmp, path);
      linked = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Over NFS a link can succeed with its reply lost: the link count tells.
      if (code !== 'EEXIST' && fstatSync(fd).nlink === 2) linked = true;
      else if (code !== 'EEXIST') throw err;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
    if (!linked) closeSync(fd);
  }
  if (!linked) return null;
  const st = fstatSync(fd);
  return { path, fd, ino: st.ino, dev: st.dev, text };
}

/** Whether `path` still names the file of `lock` (not broken and replaced). */
export function fileLockStillHeld(lock: FileLockHandle): boolean {
  try {
    const st = lstatSync(lock.path);
    return st.ino === lock.ino && st.dev === lock.dev;
  } catch {
    return false;
  }
}

/** Touch the lock (rewrite the same text: its mtime changes), so others see its holder live. */
export function refreshFileLock(lock: FileLockHandle): void {
  writeSync(lock.fd, lock.text, 0, 'utf8');
}

/** Remove the lock if it is still ours, and close it. */
export function releaseFileLock(lock: FileLockHandle): void {
  try {
    if (fileLockStillHeld(lock)) unlinkSync(lock.path);
  } catch {
    // Already removed: a breaker took it for dead (see the limits above).
  } finally {
    closeSync(lock.fd);
  }
}

/**
 * Judge the lock as seen in `view`: true when it may be broken (holder provably dead, or on
 * another host and unchanged for `staleMs` of this waiter's clock).
 */
function breakable(view: LockFileView, staleMs: number, watch: StaleWatch, path: string): boolean {
  const info = parseHolder(view.text);
  if (info !== null) {
    const life = holderLiveness(info);
    if (life === 'dead') return true;
    if (life === 'alive') return false;
  }
  const key = viewKey(view);
  const now = performance.now();
  const seen = watch.get(path);
  if (seen === undefined || seen.key !== key) {
    watch.set(path, { key, seenAt: now });
    return false;
  }
  return now - seen.seenAt >= staleMs;
}

/** Remove the instance seen in `view` under its breaker lock. True when it is gone. */
function breakLock(path: string, view: LockFileView, staleMs: number, watch: StaleWatch, depth: number): boolean {
  if (depth >= MAX_BREAK_DEPTH) return false;
  const generation = parseHolder(view.text)?.nonce ?? `ino-${view.ino}`;
  const breaker = tryOnce(`${path}.break-${generation}`, staleMs, watch, depth + 1);
  if (breaker === null) return false;
  try {
    const again = readLockFile(path);
    if (again === null) return true;
    if (again.text !== view.text || again.ino !== view.ino || again.dev !== view.dev) return false;
    unlinkSync(path);
    watch.delete(path);
    return true;
  } finally {
    releaseFileLock(breaker);
  }
}

/**
 * One attempt without waiting: the handle, or null when a live (or not yet stale) holder has
 * it. Throws an Error with code `ENOTREG` when `path` is not a regular file, and the file
 * system's errors (EACCES, EROFS, ENOSPC) as they come.
 */
export function tryOnce(path: string, staleMs: number, watch: StaleWatch, depth = 0): FileLockHandle | null {
  for (let round = 0; round < 3; round++) {
    const taken = create(path);
    if (taken !== null) return taken;
    const view = readLockFile(path);
    if (view === null) continue; // released meanwhile: try again now
    if (!breakable(view, staleMs, watch, path)) return null;
    const delay = breakDelayForTests();
    if (delay > 0) Atomics.wait(pause, 0, 0, delay);
    if (!breakLock(path, view, staleMs, watch, depth)) return null;
  }
  return null;
}
