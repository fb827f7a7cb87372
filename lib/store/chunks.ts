/**
 * Reading a CSV file piece by piece from its descriptor: bytes in chunks (latin1 text, one
 * character per byte), cut at the last line break outside quotes, each part decoded by the
 * one record decoder. Used by loadResults (all at once) and streamResults (a part at a time),
 * so a large file is never held as one Buffer plus one string.
 */
import { readSync } from 'node:fs';
import type { TornTail } from './csv.js';
import { RecordDecoder, decodeText } from './decoder.js';
import type { LoadedRecord } from './schema.js';

const NON_ASCII = /[^\x00-\x7f]/;

/** Whether text's first line end is a lone CR (old Mac); null while undecided. */
function lineEndIsCrOnly(text: string): boolean | null {
  const at = text.search(/[\r\n]/);
  if (at < 0 || (text[at] === '\r' && at + 1 === text.length)) return null;
  return text[at] === '\r' && text[at + 1] !== '\n';
}

/**
 * Decode the first `size` bytes of an open file, `chunkSize` bytes at a time, handing each
 * data record to `onRecord`; yields after each part, returns the torn last record (if any).
 * `start` > 0 (a record boundary) decodes from there with a decoder that already has the
 * header's plan; line numbers then count from `start`'s line as 1.
 * @throws {@link StoreError} when a malformed record is reached (the records before it were handed on).
 */
export function* decodeChunks(
  fd: number,
  size: number,
  decoder: RecordDecoder,
  chunkSize: number,
  onRecord: (record: LoadedRecord) => void,
  start = 0,
): Generator<void, TornTail | null, undefined> {
  const buf = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size - start, 1)));
  let pos = start;
  let crOnly: boolean | null = null;
  let carry = '';
  let scanned = 0; // how far carry has been scanned for quotes
  let inQuote = false;
  let boundary = 0; // offset in carry just after the last line break outside quotes
  let line = 1; // line number of carry's first line
  const parse = (part: string): TornTail | null => {
    decoder.ascii = !NON_ASCII.test(part);
    return decodeText(part, decoder, (r) => onRecord(decoder.record(r.fields, r.line)), line);
  };
  while (pos < size) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n === 0) break;
    pos += n;
    let chunk = buf.toString('latin1', 0, n);
    if (crOnly === null) {
      crOnly = lineEndIsCrOnly(carry + chunk);
      if (crOnly) {
        // Decided only now: what was carried (no line end but maybe a last CR) is rescanned.
        carry = carry.replace(/\r/g, '\n');
        scanned = 0;
        inQuote = false;
      }
    }
    if (crOnly) chunk = chunk.replace(/\r/g, '\n');
    carry += chunk;
    // From quote to quote with indexOf (native), not character by character: the last line
    // break outside quotes in the new text is the boundary.
    for (let i = scanned; ; ) {
      const q = carry.indexOf('"', i);
      const segmentEnd = q < 0 ? carry.length : q;
      if (!inQuote && segmentEnd > i) {
        const nl = carry.lastIndexOf('\n', segmentEnd - 1);
        if (nl >= i) boundary = nl + 1;
      }
      if (q < 0) break;
      inQuote = !inQuote;
      i = q + 1;
    }
    scanned = carry.length;
    if (boundary === 0) continue;
    const part = carry.slice(0, boundary);
    carry = carry.slice(boundary);
    scanned -= boundary;
    boundary = 0;
    parse(part);
    for (let i = part.indexOf('\n'); i >= 0; i = part.indexOf('\n', i + 1)) line++;
    yield;
  }
  return carry.length > 0 ? parse(carry) : null;
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
