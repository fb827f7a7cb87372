/**
 * Who holds a lock, and whether that holder still lives: the text a holder writes into its
 * lock file, and the liveness test the lock-file fallback (lock-fallback.ts) and the
 * timeout message (lock.ts) use. Runs on the calling JavaScript thread; synchronous.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** What a holder writes into its lock file. */
export interface LockHolderInfo {
  /** Process id of the holder. */
  pid: number;
  /** Host name of the holder (for people). */
  host: string;
  /**
   * The holder's host, boot and pid namespace (`<hostname>/<boot_id>/<pid namespace>`): two
   * holders with the same key see the same pids, so one can test whether the other lives.
   */
  hostKey: string;
  /** Start time of the holder's process (field 22 of /proc/<pid>/stat), null where unknown. */
  start: string | null;
  /** When it took the lock (ISO 8601, the holder's clock). */
  since: string;
  /** `fcntl` (kernel lock) or `file` (lock-file fallback). */
  method: 'fcntl' | 'file';
  /** A random value of this holding (the fallback tells lock files apart by it). */
  nonce: string;
  /** Worker thread id of the holder (0: main thread). */
  thread: number;
}

function readSmall(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

let selfKey: string | null = null;
let selfHost: string | null = null;

/** This process's host key (see {@link LockHolderInfo.hostKey}); read once per process. */
export function hostKey(): string {
  if (selfKey === null) {
    let ns = '';
    try {
      ns = readlinkSync('/proc/self/ns/pid');
    } catch {
      // Not Linux, or /proc not mounted: the host name and boot id must do.
    }
    selfHost = hostname();
    selfKey = `${selfHost}/${readSmall('/proc/sys/kernel/random/boot_id') ?? ''}/${ns}`;
  }
  return selfKey;
}

let nonceBase: string | null = null;
let nonceCount = 0;

/** A value no other holding shares: 128 random bits drawn once per thread, and a counter. */
export function newNonce(): string {
  nonceBase ??= process.getBuiltinModule('node:crypto').randomBytes(16).toString('hex');
  return `${nonceBase}-${(nonceCount++).toString(36)}`;
}

interface ProcStat {
  state: string;
  start: string;
}

/** State and start time (fields 3 and 22) of /proc/<pid>/stat, or null when unreadable. */
function procStat(pid: number): ProcStat | null {
  const text = readSmall(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  return state !== undefined && start !== undefined ? { state, start } : null;
}

let selfStart: string | null | undefined;

/** This process's start time (see {@link LockHolderInfo.start}). */
export function processStart(): string | null {
  if (selfStart === undefined) selfStart = procStat(process.pid)?.start ?? null;
  return selfStart;
}

/** The text this thread writes as holder. */
export function holderText(method: 'fcntl' | 'file', nonce: string): string {
  const key = hostKey();
  const info: LockHolderInfo = {
    pid: process.pid,
    host: selfHost ?? hostname(),
    hostKey: key,
    start: processStart(),
    since: new Date().toISOString(),
    method,
    nonce,
    thread: process.getBuiltinModule('node:worker_threads').threadId, // loaded here, not on import
  };
  return `${JSON.stringify(info)}\n`;
}

/** Parse a holder text; null when it is not one (empty, half-written, written by hand). */
export function parseHolder(text: string | null): LockHolderInfo | null {
  if (text === null || text.trim() === '') return null;
  try {
    const v = JSON.parse(text) as Partial<LockHolderInfo>;
    if (typeof v !== 'object' || v === null) return null;
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return null;
    if (typeof v.host !== 'string' || typeof v.hostKey !== 'string' || typeof v.since !== 'string') return null;
    if (v.start !== null && typeof v.start !== 'string') return null;
    if (v.method !== 'fcntl' && v.method !== 'file') return null;
    if (typeof v.nonce !== 'string' || typeof v.thread !== 'number') return null;
    return v as LockHolderInfo;
  } catch {
    return null;
  }
}

/**
 * Whether the holder lives: `dead` only when provably so (same host key, and its pid is gone,
 * a zombie, or now another process with a different start time); `unknown` for a holder on
 * another host (or another pid namespace); else `alive`. A holder that is this very process
 * (another worker thread) counts as alive: a worker terminated while it held a lock file
 * leaves it held until this process ends (the kernel lock has no such limit).
 */
export function holderLiveness(info: LockHolderInfo): 'alive' | 'dead' | 'unknown' {
  if (info.hostKey !== hostKey()) return 'unknown';
  if (info.pid === process.pid) return info.start === null || info.start === processStart() ? 'alive' : 'dead';
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
    // EPERM: it exists, owned by another user.
  }
  const now = procStat(info.pid);
  if (now === null) return 'alive'; // no /proc: the pid exists, which is all we can tell
  if (now.state === 'Z' || now.state === 'X') return 'dead';
  if (info.start !== null && now.start !== info.start) return 'dead';
  return 'alive';
}

/** How `path` looked when read: its text, identity and modification time. */
export interface LockFileView {
  text: string;
  ino: number;
  dev: number;
  mtimeMs: number;
  size: number;
}

/**
 * Read a small lock file without following a symbolic link and without opening anything that
 * is not a regular file (a FIFO would block). Null when it does not exist; throws an Error
 * with code `ENOTREG` when it is not a regular file.
 */
export function readLockFile(path: string): LockFileView | null {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return null;
  if (!st.isFile()) throw notRegular(path, st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : st.isFIFO() ? 'a FIFO' : 'not a regular file');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) throw notRegular(path, 'not a regular file');
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { text: buf.toString('utf8', 0, n), ino: fst.ino, dev: fst.dev, mtimeMs: fst.mtimeMs, size: fst.size };
  } finally {
    closeSync(fd);
  }
}

/** The error for a lock path that is not a regular file. */
export function notRegular(path: string, what: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`the lock file ${path} is ${what}; it must be a regular file`);
  err.code = 'ENOTREG';
  err.path = path;
  return err;
}

/** A holder in words, for error messages. */
export function describeHolder(info: LockHolderInfo | null): string {
  if (info === null) return 'another writer (it did not say which)';
  const thread = info.thread > 0 ? ` (worker thread ${info.thread})` : '';
  return `pid ${info.pid}${thread} on host ${info.host} since ${info.since}`;
}
