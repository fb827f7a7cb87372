/**
 * Fingerprints of the bytes the aggregates cover, and what changed since: 'unchanged',
 * 'extended' (the same file, longer, the covered bytes untouched) or 'rewritten' (anything else:
 * the aggregates are recomputed from scratch).
 *
 * A fingerprint holds the covered length, the file's identity and modification time when it was
 * taken (device, inode, mtime in ns), SHA-256 of the first and of the last 4 KiB of the covered
 * bytes, and a 64-bit checksum of all covered bytes that can be continued over appended bytes
 * without reading the covered ones again.
 *
 * How sure each answer is (the trade-off between reading nothing and reading everything):
 * - 'unchanged': identity, length and mtime as recorded and both 4 KiB samples equal (two small
 *   reads). An edit in the middle that keeps the length and puts the old mtime back is missed.
 *   When only the mtime differs (`touch`, a same-size edit), the whole covered prefix is read
 *   and its checksum compared: unchanged or rewritten.
 * - 'extended', cheap: the writer that appended passes the state the file had right before its
 *   append, taken under the store's lock (see {@link FileState}); when that state is the
 *   fingerprint's, the covered bytes are what the aggregates saw, and only the samples are read.
 * - 'extended', proven: any other growth (a writer that does not update the aggregates:
 *   CodeCarbon, which rewrites the whole file even to add a row, an old version of this package,
 *   a hand edit) reads the covered prefix once and compares its checksum: equal → extended (only
 *   the new rows are parsed), different → rewritten. Never parsed, but read: O(size), once.
 * - 'rewritten': another inode (rename over the file), shorter than covered (truncation), a
 *   sample or the checksum differs, the file appeared or disappeared.
 * The checksum is for detecting accidental change, not an adversary.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Bytes sampled at the start and at the end of the covered bytes. */
export const SAMPLE_BYTES = 4096;

/** Identity, length and modification time of a file, from `stat`. */
export interface FileState {
  /** Device and inode, decimal (bigint stat: inodes may exceed 2^53). */
  dev: string;
  ino: string;
  size: number;
  /** Modification time, ns since the epoch, decimal. */
  mtimeNs: string;
}

/** What the aggregates know about one file; `null` state = the file did not exist. */
export interface FileFingerprint {
  /** The file as it was when the covered bytes were read; null when it did not exist. */
  state: FileState | null;
  /** Bytes covered from the start of the file (a whole number of lines). */
  covered: number;
  /** SHA-256 (hex) of bytes [0, min(covered, 4096)): the header and the first rows. */
  head: string;
  /** SHA-256 (hex) of bytes [max(0, covered - 4096), covered). */
  tail: string;
  /** {@link PrefixChecksum} of bytes [0, covered), 16 hex digits. */
  checksum: string;
}

/** How a file changed since its fingerprint was taken. */
export type FileChange = 'unchanged' | 'extended' | 'rewritten';

/** `stat` of `file`, or null when it does not exist. */
export function fileState(file: string): FileState | null {
  try {
    const st = statSync(file, { bigint: true });
    return { dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function sameState(a: FileState | null, b: FileState | null): boolean {
  if (a === null || b === null) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

function sameFile(a: FileState, b: FileState): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * A 64-bit checksum of a byte stream that can be continued (two 32-bit lanes: FNV-1a and a
 * multiply-xorshift lane), so covering appended bytes does not re-read the covered ones.
 */
export class PrefixChecksum {
  private a: number;
  private b: number;

  constructor(saved?: string) {
    if (saved === undefined) {
      this.a = 0x811c9dc5;
      this.b = 0x9e3779b9;
    } else {
      if (!/^[0-9a-f]{16}$/.test(saved)) throw new TypeError(`checksum must be 16 hex digits, got ${JSON.stringify(saved)}`);
      this.a = parseInt(saved.slice(0, 8), 16) | 0;
      this.b = parseInt(saved.slice(8), 16) | 0;
    }
  }

  update(bytes: Uint8Array, length = bytes.length): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < length; i++) {
      const byte = bytes[i]!;
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b + byte, 0x85ebca6b);
      b ^= b >>> 15;
    }
    this.a = a;
    this.b = b;
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

/** Reads [start, end) of an open file in 1 MiB pieces, handing each to `use`. */
function readRange(fd: number, start: number, end: number, use: (bytes: Buffer, length: number) => void): void {
  const buffer = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, end - start)));
  let position = start;
  while (position < end) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
    if (n === 0) throw new Error(`file ended at byte ${position}, before the ${end} bytes expected`);
    use(buffer, n);
    position += n;
  }
}

function sha256Of(fd: number, start: number, end: number): string {
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
  readRange(fd, start, end, (bytes, n) => hash.update(bytes.subarray(0, n)));
  return hash.digest('hex');
}

function samples(fd: number, covered: number): { head: string; tail: string } {
  return { head: sha256Of(fd, 0, Math.min(covered, SAMPLE_BYTES)), tail: sha256Of(fd, Math.max(0, covered - SAMPLE_BYTES), covered) };
}

function checksumOf(fd: number, start: number, end: number, from?: string): string {
  const sum = new PrefixChecksum(from);
  readRange(fd, start, end, (bytes, n) => sum.update(bytes, n));
  return sum.digest();
}

/** Opens `file` for reading, runs `use`, closes it. */
function withFile<T>(file: string, use: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The fingerprint of the first `covered` bytes of `file`, whose state was `state` when they
 * were read. Continues `previous` (reading only the bytes after it) when `previous` covers a
 * prefix of them; else reads them all.
 */
export function takeFingerprint(file: string, state: FileState | null, covered: number, previous?: FileFingerprint): FileFingerprint {
  if (state === null || covered === 0) {
    const empty = process.getBuiltinModule('node:crypto').createHash('sha256').digest('hex');
    return { state, covered: 0, head: empty, tail: empty, checksum: new PrefixChecksum().digest() };
  }
  return withFile(file, (fd) => {
    const continued = previous !== undefined && previous.covered > 0 && previous.covered <= covered;
    const checksum = continued ? checksumOf(fd, previous.covered, covered, previous.checksum) : checksumOf(fd, 0, covered);
    return { state, covered, ...samples(fd, covered), checksum };
  });
}

/**
 * How `file` changed since `fingerprint` was taken. `before`: the file's state right before the
 * caller's own append, taken under the store's lock; when it equals the fingerprint's, growth
 * is trusted to be that append (see the module comment).
 */
export function classifyChange(fingerprint: FileFingerprint, file: string, before?: FileState | null): FileChange {
  const now = fileState(file);
  const then = fingerprint.state;
  if (now === null || then === null) {
    if (now === null && then === null) return 'unchanged';
    // Created since: trusted only when the caller saw it absent (it created it).
    return now !== null && then === null && before === null ? 'extended' : 'rewritten';
  }
  if (!sameFile(now, then) || now.size < fingerprint.covered) return 'rewritten';
  return withFile(file, (fd) => {
    const { head, tail } = samples(fd, fingerprint.covered);
    if (head !== fingerprint.head || tail !== fingerprint.tail) return 'rewritten';
    if (sameState(now, then)) return 'unchanged';
    const trusted = before !== undefined && sameState(before, then);
    if (trusted && now.size > fingerprint.covered) return 'extended';
    // Someone else wrote: read the covered bytes once to prove they are the same.
    if (checksumOf(fd, 0, fingerprint.covered) !== fingerprint.checksum) return 'rewritten';
    return now.size === fingerprint.covered ? 'unchanged' : 'extended';
  });
}
