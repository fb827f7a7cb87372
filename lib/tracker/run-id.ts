/**
 * Run ids: random (version 4) UUIDs, as CodeCarbon's `uuid.uuid4()` and `crypto.randomUUID()`
 * make them.
 *
 * The 16 random bytes come from the kernel's CSPRNG through `/dev/urandom` (one read, tens of
 * µs) where there is one; loading node:crypto only for `randomUUID` cost ~3 ms, a tenth of what
 * a cold `import` + first `start()` + `stop()` adds to a bare Node process
 * (bench/coldstart.bench.ts). Where `/dev/urandom` cannot be read (Windows), `crypto.randomUUID()`.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** A random version 4 UUID, lower-case, in the 8-4-4-4-12 form. */
export function randomRunId(): string {
  const bytes = Buffer.alloc(16);
  if (!fillFromUrandom(bytes)) return process.getBuiltinModule('node:crypto').randomUUID();
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
    return readSync(fd, bytes, 0, bytes.length, null) === bytes.length;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
