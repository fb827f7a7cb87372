/**
 * Reading a CSV file piece by piece from its descriptor: bytes in chunks (latin1 text, one
 * character per byte), cut at the last line break outside quotes, each part decoded by the
 * one record decoder. Used by loadResults (all at once) and streamResults (a part at a time),
 * so a large file is never held as one Buffer plus one string.
 */
import { isAscii } from 'node:buffer';
import { readSync } from 'node:fs';
import type { TornTail } from './csv.js';
import { RecordDecoder, decodeText } from './decoder.js';
import type { LoadedRecord } from './schema.js';

/** Whether the first line end in bytes[0, len) is a lone CR (old Mac); null while undecided. */
export function lineEndIsCrOnly(bytes: Buffer, len: number): boolean | null {
  for (let i = 0; i < len; i++) {
    const c = bytes[i];
    if (c === 10) return false;
    if (c === 13) return i + 1 === len ? null : bytes[i + 1] !== 10;
  }
  return null;
}

/** CR as LF in bytes[from, to) (a file whose lines end in CR only). */
function crAsLf(bytes: Buffer, from: number, to: number): void {
  for (let i = bytes.indexOf(13, from); i >= 0 && i < to; i = bytes.indexOf(13, i + 1)) bytes[i] = 10;
}

/**
 * One part of a file: `text` (latin1, one character per byte) is `bytes[0, text.length)`, whose
 * first byte is at `offset` in the file and whose first line is line `line` (1-based). Returns
 * the torn last record (only the last part can have one).
 */
export type PartVisitor = (text: string, bytes: Buffer, line: number, offset: number) => TornTail | null;

/**
 * Read the first `size` bytes of an open file, `chunkSize` bytes at a time, and hand each part
 * (up to the last line break outside quotes) to `visit`; yields after each part, returns the
 * torn last record (if any). `start` > 0 (a record boundary) reads from there.
 *
 * The bytes not yet visited (a record cut by the chunk's end) move to the buffer's start and
 * the next read follows them; each part is one flat latin1 string, and its bytes stay in the
 * buffer while it is visited (copy what must outlive the call). A file whose lines end in CR
 * only is handed over with its CRs as LFs (the same offsets).
 */
export function* visitParts(fd: number, size: number, chunkSize: number, visit: PartVisitor, start = 0): Generator<void, TornTail | null, undefined> {
  let buf = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size - start, 1)));
  let len = 0; // bytes in buf: the carried part, then what was read
  let pos = start;
  let crOnly: boolean | null = null;
  let scanned = 0; // how far buf has been scanned for quotes
  let inQuote = false;
  let boundary = 0; // offset in buf just after the last line break outside quotes
  let line = 1; // line number of buf's first line
  const parse = (end: number): TornTail | null => {
    const part = buf.toString('latin1', 0, end);
    const torn = visit(part, buf, line, pos - len);
    for (let i = part.indexOf('\n'); i >= 0; i = part.indexOf('\n', i + 1)) line++;
    return torn;
  };
  while (pos < size) {
    if (len === buf.length) {
      const grown = Buffer.allocUnsafe(buf.length * 2); // one record longer than a chunk
      buf.copy(grown, 0, 0, len);
      buf = grown;
    }
    const n = readSync(fd, buf, len, Math.min(buf.length - len, size - pos), pos);
    if (n === 0) break;
    pos += n;
    const from = len;
    len += n;
    if (crOnly === null) {
      crOnly = lineEndIsCrOnly(buf, len);
      if (crOnly) {
        // Decided only now: what was carried (no line end but maybe a last CR) is rescanned.
        crAsLf(buf.subarray(0, from), 0, from);
        scanned = 0;
        inQuote = false;
      }
    }
    if (crOnly) crAsLf(buf.subarray(0, len), from, len);
    // From quote to quote (native indexOf), not byte by byte: the last line break outside
    // quotes in the new bytes is the boundary.
    const bytes = buf.subarray(0, len);
    for (let i = scanned; ; ) {
      const q = bytes.indexOf(34, i);
      const segmentEnd = q < 0 ? len : q;
      if (!inQuote && segmentEnd > i) {
        const nl = bytes.lastIndexOf(10, segmentEnd - 1);
        if (nl >= i) boundary = nl + 1;
      }
      if (segmentEnd === len) break;
      inQuote = !inQuote;
      i = q + 1;
    }
    scanned = len;
    if (boundary === 0) continue;
    parse(boundary);
    buf.copyWithin(0, boundary, len);
    len -= boundary;
    scanned -= boundary;
    boundary = 0;
    yield;
  }
  return len > 0 ? parse(len) : null;
}

/**
 * Decode the first `size` bytes of an open file, `chunkSize` bytes at a time (see
 * {@link visitParts}), handing each data record to `onRecord`; yields after each part, returns
 * the torn last record (if any). `start` > 0 (a record boundary) decodes from there with a
 * decoder that already has the header's plan; line numbers then count from `start`'s line as 1.
 * Text values are copied from the bytes, never sliced from the part's text.
 * @throws {@link StoreError} when a malformed record is reached (the records before it were handed on).
 */
export function decodeChunks(
  fd: number,
  size: number,
  decoder: RecordDecoder,
  chunkSize: number,
  onRecord: (record: LoadedRecord) => void,
  start = 0,
): Generator<void, TornTail | null, undefined> {
  return visitParts(
    fd,
    size,
    chunkSize,
    (part, bytes, line) => {
      decoder.ascii = isAscii(bytes.subarray(0, part.length));
      return decodeText(part, decoder, (r) => onRecord(decoder.record(r.fields, r.line)), line, onRecord, bytes);
    },
    start,
  );
}

/** Decode the first `size` bytes of an open file at once: its records and torn last record. */
export function decodeAll(fd: number, size: number, decoder: RecordDecoder, chunkSize = 1 << 20): { rows: LoadedRecord[]; torn: TornTail | null } {
  const rows: LoadedRecord[] = [];
  const parts = decodeChunks(fd, size, decoder, chunkSize, (r) => rows.push(r));
  for (;;) {
    const step = parts.next();
    if (step.done) return { rows, torn: step.value };
  }
}
