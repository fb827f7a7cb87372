/**
 * The common path of the decoder (lines without quotes decoded straight from the text, see
 * `row-plan.ts`) against the general path (fields split, then `RecordDecoder.record`), on random
 * files: numbers in every notation, text with UTF-8 and invalid bytes, spaces, empty fields,
 * foreign and missing columns in any order, experiment_id triples, sidecar entries, errors.
 */
import { expect } from 'chai';
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAll } from '../../lib/store/chunks.js';
import { RecordDecoder } from '../../lib/store/decoder.js';
import { ALL_COLUMNS, NUMERIC_COLUMNS } from '../../lib/store/index.js';
import type { LoadedRecord } from '../../lib/store/index.js';
import { decodeCsv } from '../../lib/store/reader.js';
import { readSidecar } from '../../lib/store/sidecar.js';
import { tempDir } from './helpers.js';
import { mulberry32 } from '../helpers/random.js';

const random = mulberry32;

const NUMBERS = ['0', '-0', '+5', '.5', '5.', '007', '1e-5', '1.5E+3', '2e400', '12.5', '0.000012345678901234', '0.00004189606758838662',
  '10.142857142857142', '123456789012345678901234', '9007199254740993', '0.1234567890123456789012345', 'nan', 'NaN', 'inf', '-inf', 'Infinity',
  '', '42', '-8.61', '3.14159', '1_000', '0x10', 'abc', '1e', '--1', ' 7', '8 ', '1.2.3'];
const TEXTS = ['', 'Germany', 'DEU', 'Linux-6.8.0-x86_64', 'Intel(R) Core(TM) i7', 'München', 'Zürich\xa0', ' padded', 'tab\t', 'p___u___h',
  'proj___with___under___alice___node1', '___', 'a___b', "'=x", 'x'.repeat(40)];

/** Bytes of a random file (latin1 text: a value may hold invalid UTF-8 bytes) and whether it may hold errors. */
function randomFile(rand: () => number, errors: boolean): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const columns = ALL_COLUMNS.filter((c) => c === 'timestamp' || c === 'project_name' || rand() < 0.85) as string[];
  if (rand() < 0.3) columns.push('foreign_column');
  for (let i = columns.length - 1; i > 0 && rand() < 0.5; i--) {
    const j = Math.floor(rand() * (i + 1));
    [columns[i], columns[j]] = [columns[j] as string, columns[i] as string];
  }
  const lines = [columns.join(',')];
  const rows = 1 + Math.floor(rand() * 40);
  for (let n = 0; n < rows; n++) {
    const cells = columns.map((c) => {
      if (c === 'run_id') return rand() < 0.3 ? `run-${n % 4}` : `run-${n}`;
      if (c === 'tracker_version') return rand() < 0.5 ? '' : '0.1.0';
      if (NUMERIC_COLUMNS.has(c as (typeof ALL_COLUMNS)[number])) {
        const v = rand() < 0.5 ? pick(['0', '12.5', '42', '']) : pick(NUMBERS);
        return errors || /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan|[+-]?inf(?:inity)?)?$/i.test(v.trim()) ? v : '1';
      }
      const t = rand() < 0.6 ? pick(['Germany', 'node1', 'alice', '']) : pick(TEXTS);
      // Raw bytes: UTF-8 of the text, sometimes a lone invalid byte.
      return Buffer.from(t, 'utf8').toString('latin1') + (rand() < 0.05 ? '\xff' : '');
    });
    lines.push(cells.join(','));
    if (rand() < 0.05) lines.push('');
  }
  if (rand() < 0.2) lines.push(`${'x,'.repeat(columns.length - 2)}x,x`); // one field too many
  return `${lines.join(rand() < 0.2 ? '\r\n' : '\n')}\n`;
}

function general(file: string, sidecar: ReturnType<typeof readSidecar>): LoadedRecord[] | string {
  try {
    return decodeCsv(file, readFileSync(file), sidecar).rows;
  } catch (err) {
    return (err as Error).message;
  }
}

function common(file: string, sidecar: ReturnType<typeof readSidecar>, chunk: number): LoadedRecord[] | string {
  const fd = openSync(file, 'r');
  try {
    return decodeAll(fd, fstatSync(fd).size, new RecordDecoder(file, sidecar), chunk).rows;
  } catch (err) {
    return (err as Error).message;
  } finally {
    closeSync(fd);
  }
}

describe('store: the common decoding path', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('gives the records (or the error) of the general path, in 400 random files', () => {
    const file = join(dir, 'emissions.csv');
    const sideFile = join(dir, 'emissions.let.jsonl');
    for (let seed = 1; seed <= 400; seed++) {
      const rand = random(seed);
      writeFileSync(file, Buffer.from(randomFile(rand, seed % 4 === 0), 'latin1'));
      writeFileSync(
        sideFile,
        rand() < 0.5 ? '' : ['{"run_id":"run-1","user":"bob","wall_energy":"inf"}', '{"run_id":"run-2","tracker_version":"0.2.0","hostname":""}', '{"run_id":"run-1","carbon_intensity":3}'].join('\n') + '\n',
      );
      const sidecar = readSidecar(sideFile, () => undefined);
      const expected = general(file, sidecar);
      const chunk = 1 + Math.floor(rand() * 3000);
      expect(common(file, sidecar, chunk), `seed ${seed}, chunk ${chunk}`).to.deep.equal(expected);
    }
  });

  it('numbers: the same value as Number() for decimals of every length (sign of zero included)', () => {
    const rand = random(99);
    const file = join(dir, 'emissions.csv');
    const values: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const digits = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 10)).join('');
      const point = Math.floor(rand() * (digits.length + 1));
      values.push(`${rand() < 0.3 ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`.replace(/^(-?)\.$/, '$10'));
    }
    writeFileSync(file, `timestamp,project_name,duration\n${values.map((v) => `t,p,${v}`).join('\n')}\n`);
    const rows = common(file, new Map(), 1 << 16) as LoadedRecord[];
    expect(rows.map((r) => r.duration)).to.deep.equal(values.map(Number));
    expect(rows.map((r) => Object.is(r.duration, -0))).to.deep.equal(values.map((v) => Object.is(Number(v), -0)));
  });
});
