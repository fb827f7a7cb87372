/**
 * File primitives of the store: opening only regular files (a FIFO never blocks, a symlink is
 * never written through), reading whole files as bytes, appending with roll-back, atomic
 * replacement that keeps owner, group and mode, and moving a torn last line aside.
 *
 * Text is handled as latin1 strings where bytes must survive: one character per byte, so the
 * offsets of a parse are byte offsets and a rewrite copies non-UTF-8 bytes exactly.
 */
import {
  chownSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StoreError } from './csv.js';

/** A lock that can be told the holder is still busy (see `lock.ts`). */
export interface Refreshable {
  refresh(): void;
}

const NONBLOCK = constants.O_NONBLOCK ?? 0;
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function checkRegular(fd: number, file: string): Stats {
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new StoreError(file, null, 'LET_NOT_A_FILE', `is ${kindOf(st)}; the store reads and writes only regular files`);
  }
  return st;
}

/**
 * Open an existing file for reading; null when it does not exist. Opens non-blocking before
 * looking at it, so a FIFO is refused instead of blocking; follows symbolic links (reading
 * through one changes nothing).
 * @throws {@link StoreError} `LET_NOT_A_FILE` for anything but a regular file.
 */
export function openForRead(file: string): { fd: number; stats: Stats } | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return { fd, stats: checkRegular(fd, file) };
}

/**
 * Open (creating it when `create`) a file for appending and in-place repair. Never follows a
 * symbolic link: a rewrite would replace the link, and an append would change a file outside
 * the store. Returns null when it does not exist and `create` is false.
 * @throws {@link StoreError} `LET_SYMLINK` or `LET_NOT_A_FILE`.
 */
export function openForWrite(file: string, create: boolean): { fd: number; stats: Stats } | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_APPEND | NONBLOCK | NOFOLLOW | (create ? constants.O_CREAT : 0), 0o666);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !create) return null;
    if (code === 'EISDIR') throw new StoreError(file, null, 'LET_NOT_A_FILE', 'is a directory; the store reads and writes only regular files');
    if (code === 'ELOOP') {
      throw new StoreError(
        file,
        null,
        'LET_SYMLINK',
        'is a symbolic link; the store does not write through links (point outputDir at the directory that holds the real file)',
      );
    }
    throw err;
  }
  let stats = checkRegular(fd, file);
  if (create && stats.size === 0) stats = ownLikeDirectory(fd, file, stats);
  return { fd, stats };
}

/**
 * As root (`sudo -E` to read RAPL), a store file just created in a directory owned by a user
 * is given to that user, so that their runs without sudo can still write to it.
 */
function ownLikeDirectory(fd: number, file: string, stats: Stats): Stats {
  if (process.getuid?.() !== 0 || stats.uid !== 0) return stats;
  const dir = statSync(dirname(file));
  if (dir.uid === 0) return stats;
  fchownSync(fd, dir.uid, dir.gid);
  return fstatSync(fd);
}

/**
 * Create a directory (and its parents). As root, the directories created are given to the
 * owner of the first existing parent when that is a user (see {@link openForWrite}).
 */
export function makeDirectory(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined || process.getuid?.() !== 0) return;
  const parent = statSync(dirname(first));
  if (parent.uid === 0) return;
  for (let d = dir; d.length >= first.length; d = dirname(d)) {
    chownSync(d, parent.uid, parent.gid);
    if (d === first) break;
  }
}

/** Read a whole open file from offset 0. */
export function readAll(fd: number, size = fstatSync(fd).size): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** Read a byte range of an open file. */
export function readRange(fd: number, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, start + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Write all of `data` at the current position (the end, for an O_APPEND descriptor). */
export function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/**
 * Append `data` and fsync; when that fails (ENOSPC, EIO…), cut the file back to `size` so no
 * partial row is left, and rethrow.
 */
export function appendOrRollBack(fd: number, size: number, data: Buffer): void {
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, size);
      fsyncSync(fd);
    } catch {
      // The original error says what went wrong; a reader reports any torn tail left.
    }
    throw err;
  }
}

/** `<file>.<tag>-<pid>-<random>`: a name no other process or call picks. */
export function uniqueName(file: string, tag: string): string {
  return `${file}.${tag}-${process.pid}-${process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex')}`;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems do not allow fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Give a new file the owner, group and mode of the one it replaces (owner only as root). */
function copyOwnership(fd: number, like: Stats): void {
  const uid = process.getuid?.();
  if (uid === 0) fchownSync(fd, like.uid, like.gid);
  else if (uid !== undefined && like.uid === uid && process.getgid?.() !== like.gid) {
    try {
      fchownSync(fd, like.uid, like.gid);
    } catch {
      // Not a member of that group: the file keeps the default group.
    }
  }
  fchmodSync(fd, like.mode & 0o7777);
}

/** Unlink a file that may be absent (other errors are thrown). */
export function unlinkIfThere(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Replace `file` atomically with `parts` (temp file beside it with a unique name, fsync,
 * rename, fsync of the directory). The new file keeps the owner, group (as root) and mode of
 * `like`, the file it replaces; without it, it gets `mode` less the umask. On any failure (an
 * error thrown by `parts` too: a generator may make them as they are written, and stop the
 * replacement by throwing) the temp file is removed and `file` is as before.
 */
export function atomicReplace(file: string, parts: Iterable<Buffer>, like: Stats | null, lock: Refreshable | null, mode = 0o666): void {
  const tmp = join(dirname(file), `.${basename(uniqueName(file, 'tmp'))}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, like ? like.mode & 0o777 : mode);
  try {
    if (like) copyOwnership(fd, like);
    let i = 0;
    for (const part of parts) {
      writeAll(fd, part);
      if (lock && (i++ & 0xfff) === 0xfff) lock.refresh();
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing to clean up.
    }
    throw err;
  }
  closeSync(fd);
  lock?.refresh();
  try {
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing to clean up.
    }
    throw err;
  }
  fsyncDir(dirname(file));
}

/**
 * Move the bytes from `cut` to the end of an open file aside to a new
 * `<file>.torn-<pid>-<random>` and cut the file there. When the copy cannot be written, the
 * file is left unchanged. Returns the name of the file holding the fragment.
 */
export function moveTailAside(file: string, fd: number, cut: number, size: number): string {
  const fragment = readRange(fd, cut, size - cut);
  const aside = uniqueName(file, 'torn');
  const tfd = openSync(aside, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
  try {
    writeAll(tfd, fragment);
    fsyncSync(tfd);
  } catch (err) {
    closeSync(tfd);
    try {
      unlinkSync(aside);
    } catch {
      // Nothing to clean up.
    }
    throw err;
  }
  closeSync(tfd);
  ftruncateSync(fd, cut);
  fsyncSync(fd);
  return aside;
}

/** Whether a directory can be written by its group or by others (as ssh checks `~/.ssh`). */
export function writableByOthers(dir: string): boolean {
  try {
    const st = statSync(dir);
    return (st.mode & 0o022) !== 0;
  } catch {
    return false;
  }
}
