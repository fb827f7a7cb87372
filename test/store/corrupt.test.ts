import { expect } from 'chai';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_COLUMNS, StoreError, appendRecord, deleteResults, loadResults } from '../../lib/store/index.js';
import type { StoreWarning } from '../../lib/store/index.js';
import { makeRecord, tempDir } from './helpers.js';

/** A small CodeCarbon-like file (no tracker columns, so an append must rewrite it). */
const HEADER = 'timestamp,project_name,run_id,experiment_id,duration,energy_consumed,cpu_model';
const row = (i: number, extra = ''): string => `2026-01-0${i}T10:00:00,codecarbon,run-${i},exp,${i}.5,0.00${i},CPU ${i}${extra}`;

interface Case {
  name: string;
  text: string;
  line: number;
  problem: RegExp;
  code: StoreError['code'];
}

const cases: Case[] = [
  {
    name: 'a row with too few fields in the middle',
    text: [HEADER, row(1), '2026-01-02T10:00:00,codecarbon,run-2,exp,2.5,0.002', row(3)].join('\n') + '\n',
    line: 3,
    problem: /expected 7 fields \(as in the header\), found 6/,
    code: 'LET_CSV_FIELD_COUNT',
  },
  {
    name: 'a row with too many fields in the middle',
    text: [HEADER, row(1), row(2, ',surplus'), row(3)].join('\n') + '\n',
    line: 3,
    problem: /expected 7 fields \(as in the header\), found 8/,
    code: 'LET_CSV_FIELD_COUNT',
  },
  {
    name: 'an unterminated quote that is not on the last line',
    text: [HEADER, row(1), '2026-01-02T10:00:00,codecarbon,run-2,exp,2.5,0.002,"CPU 2', row(3), row(4)].join('\n') + '\n',
    line: 3,
    problem: /unterminated quoted field/,
    code: 'LET_CSV_UNTERMINATED_QUOTE',
  },
  {
    name: 'text after a closing quote',
    text: [HEADER, row(1), row(2), '2026-01-03T10:00:00,codecarbon,run-3,exp,3.5,0.003,"CPU" 3', row(4)].join('\n') + '\n',
    line: 4,
    problem: /after a closing quote/,
    code: 'LET_CSV_BAD_QUOTE',
  },
  {
    name: 'a non-numeric value in a numeric column',
    text: [HEADER, row(1), row(2), '2026-01-03T10:00:00,codecarbon,run-3,exp,fast,0.003,CPU 3', row(4)].join('\n') + '\n',
    line: 4,
    problem: /column duration: "fast" is not a number/,
    code: 'LET_CSV_NOT_A_NUMBER',
  },
  {
    name: 'no header',
    text: [row(1), row(2)].join('\n') + '\n',
    line: 1,
    problem: /no header/,
    code: 'LET_CSV_NO_HEADER',
  },
  {
    name: 'a column named twice',
    text: [`${HEADER},duration`, `${row(1)},1`].join('\n') + '\n',
    line: 1,
    problem: /column "duration" appears twice/,
    code: 'LET_CSV_DUPLICATE_COLUMN',
  },
];

describe('store: malformed files', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  for (const c of cases) {
    it(`${c.name}: error naming file, line and problem; the file is unchanged`, () => {
      const file = join(dir, 'emissions.csv');
      writeFileSync(file, c.text);
      const before = readFileSync(file);
      const attempts: [string, () => unknown][] = [
        ['loadResults', () => loadResults({ outputDir: dir })],
        ['deleteResults (filtered)', () => deleteResults({ outputDir: dir, projectName: 'codecarbon' })],
        ['deleteResults (all)', () => deleteResults({ outputDir: dir })],
      ];
      // The file lacks our columns, so an append must parse all of it to rewrite it: a
      // structural problem stops it. (A non-number is copied as it is: the append goes ahead.)
      if (c.code !== 'LET_CSV_NOT_A_NUMBER') attempts.push(['appendRecord', () => appendRecord(makeRecord(), dir)]);
      for (const [what, attempt] of attempts) {
        let err: unknown;
        try {
          attempt();
        } catch (e) {
          err = e;
        }
        expect(err, what).to.be.instanceOf(StoreError);
        const e = err as StoreError;
        expect(e.code, what).to.equal(c.code);
        expect(e.file, what).to.equal(file);
        expect(e.line, what).to.equal(c.line);
        expect(e.message, what).to.include(`${file}:${c.line}: `).and.match(c.problem);
        expect(readFileSync(file).equals(before), `${what} left the file unchanged`).to.equal(true);
      }
      expect(readdirSync(dir).filter((n) => !n.endsWith('.let-lock'))).to.deep.equal(['emissions.csv']);
      if (c.code === 'LET_CSV_NOT_A_NUMBER') {
        appendRecord(makeRecord(), dir);
        const after = readFileSync(file, 'utf8').split('\n');
        c.text.split('\n').slice(0, -1).forEach((line, i) => expect(after[i]!.startsWith(line)).to.equal(true));
        expect(after).to.have.length(c.text.split('\n').length + 1);
      }
    });
  }

  it('a non-numeric value in a numeric column of a file with our columns still blocks reading, not appending', () => {
    appendRecord(makeRecord({ run_id: 'a' }), dir);
    const file = join(dir, 'emissions.csv');
    const text = readFileSync(file, 'utf8').replace(',12.5,', ',twelve,');
    writeFileSync(file, text);
    expect(() => loadResults({ outputDir: dir })).to.throw(StoreError, /emissions\.csv:2: column duration: "twelve" is not a number/);
    // An append does not need to read the rows: the run is not lost.
    appendRecord(makeRecord({ run_id: 'b' }), dir);
    expect(readFileSync(file, 'utf8').startsWith(text)).to.equal(true);
  });
});

describe('store: torn last line', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const fragments: [string, (full: string) => string][] = [
    ['cut mid-row', (full) => full.slice(0, 57)],
    ['cut just before the line end', (full) => full.slice(0, -1)],
    ['cut inside a quoted field', (full) => full.slice(0, full.indexOf('"') + 5)],
  ];

  for (const [label, cut] of fragments) {
    it(`${label}: reported with file and line, complete rows kept, then repaired by the next append`, () => {
      appendRecord(makeRecord({ run_id: 'r1' }), dir);
      appendRecord(makeRecord({ run_id: 'r2', project_name: '=quoted,name' }), dir);
      const file = join(dir, 'emissions.csv');
      const complete = readFileSync(file, 'utf8');
      const lastRow = complete.split('\n').at(-2)! + '\n';
      const fragment = cut(lastRow.replace('r2', 'r3'));
      expect(fragment.endsWith('\n')).to.equal(false);
      writeFileSync(file, complete + fragment);
      const torn = readFileSync(file);

      const warnings: StoreWarning[] = [];
      const rows = loadResults({ outputDir: dir }, { onWarning: (w) => warnings.push(w) });
      expect(rows.map((r) => r.run_id)).to.deep.equal(['r1', 'r2']);
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.code).to.equal('LET_TORN_LINE');
      expect(warnings[0]!.line).to.equal(4);
      expect(warnings[0]!.message).to.include(`${file}:4:`).and.include('torn');
      expect(readFileSync(file).equals(torn), 'reading changes nothing').to.equal(true);

      appendRecord(makeRecord({ run_id: 'r4' }), dir);
      const after = readFileSync(file, 'utf8');
      expect(after.startsWith(complete)).to.equal(true);
      const again: StoreWarning[] = [];
      expect(loadResults({ outputDir: dir }, { onWarning: (w) => again.push(w) }).map((r) => r.run_id)).to.deep.equal(['r1', 'r2', 'r4']);
      expect(again).to.deep.equal([]);
      const aside = readdirSync(dir).filter((n) => n.startsWith('emissions.csv.torn-'));
      expect(aside).to.have.length(1);
      expect(readFileSync(join(dir, aside[0]!), 'utf8')).to.equal(fragment);
    });
  }

  it('emits a process warning by default', async () => {
    appendRecord(makeRecord({ run_id: 'r1' }), dir);
    const file = join(dir, 'emissions.csv');
    writeFileSync(file, readFileSync(file, 'utf8') + '2026-01-01T00:00:00,demo,r2');
    const seen = new Promise<Error>((resolve) => process.once('warning', resolve));
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['r1']);
    const w = await seen;
    expect(w.name).to.equal('LetStoreWarning');
    expect(w.message).to.include(`${file}:3:`);
  });

  it('a torn header on its own is moved aside and the file started afresh', () => {
    const file = join(dir, 'emissions.csv');
    writeFileSync(file, ALL_COLUMNS.slice(0, 10).join(','));
    const warnings: StoreWarning[] = [];
    expect(loadResults({ outputDir: dir }, { onWarning: (w) => warnings.push(w) })).to.deep.equal([]);
    expect(warnings.map((w) => w.line)).to.deep.equal([1]);
    appendRecord(makeRecord({ run_id: 'x' }), dir);
    expect(readFileSync(file, 'utf8').split('\n')[0]).to.equal(ALL_COLUMNS.join(','));
    expect(loadResults({ outputDir: dir }).map((r) => r.run_id)).to.deep.equal(['x']);
  });

  it('deleteResults moves a torn line aside and counts only complete rows', () => {
    appendRecord(makeRecord({ run_id: 'r1', user: 'a' }), dir);
    appendRecord(makeRecord({ run_id: 'r2', user: 'b' }), dir);
    const file = join(dir, 'emissions.csv');
    writeFileSync(file, readFileSync(file, 'utf8') + '2026-01-01T00:00:00,demo,r3');
    expect(deleteResults({ outputDir: dir, user: 'a' })).to.equal(1);
    expect(loadResults({ outputDir: dir }, { onWarning: () => expect.fail('no torn line expected') }).map((r) => r.run_id)).to.deep.equal(['r2']);
    expect(readdirSync(dir).filter((n) => n.includes('.torn-'))).to.have.length(1);
  });
});
