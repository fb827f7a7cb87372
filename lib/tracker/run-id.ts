/**
 * Run ids: random (version 4) UUIDs, as CodeCarbon's `uuid.uuid4()` and `crypto.randomUUID()`
 * make them.
 *
 * The random bytes come from the kernel's CSPRNG through `/dev/urandom`, read 64 ids at a time
 * (one open and read per 64 runs, as `crypto.randomUUID()` keeps entropy for 128): loading
 * node:crypto only for `randomUUID` cost ~3 ms, a tenth of what a cold `import` + first
 * `start()` + `stop()` adds to a bare Node process (bench/coldstart.bench.ts), and a read per
 * run cost more than the rest of a `start()` + `stop()` without saving (bench/tracker.bench.ts).
 * Bytes handed out are wiped from the pool. Where `/dev/urandom` cannot be read (Windows),
 * `crypto.randomUUID()`.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Ids whose bytes one read of /dev/urandom takes. */
const IDS_PER_READ = 64;
const pool = Buffer.alloc(16 * IDS_PER_READ);
let nextId = IDS_PER_READ; // the pool is empty

/** A random version 4 UUID, lower-case, in the 8-4-4-4-12 form. */
export function randomRunId(): string {
  if (nextId === IDS_PER_READ) {
    if (!fillFromUrandom(pool)) return process.getBuiltinModule('node:crypto').randomUUID();
    nextId = 0;
  }
  const start = 16 * nextId++;
  const bytes = Buffer.from(pool.subarray(start, start + 16));
  pool.fill(0, start, start + 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Fill `bytes` from /dev/urandom; false when it cannot be opened or gives fewer bytes. */
function fillFromUrandom(bytes: Buffer): boolean {
  if (process.platform === 'win32') return false;
  let fd: number | null = null;
  try {
    fd = openSync('/dev/urandom', 'r');
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, null);
      if (n <= 0) return false;
      filled += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
