/**
 * The aggregates file beside the store, on plain files: a header line and one JSON row per line
 * (the store plugs in its own decoder the same way). Appends by us and by others, truncation,
 * same-size edits, rewrites with a new inode and CodeCarbon-style full rewrites, then a random
 * sequence of all of them, each time compared with a statement computed from scratch.
 */
import { expect } from 'chai';
import { appendFileSync, mkdirSync, readdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AGGREGATES_FILE_NAME,
  classifyChange,
  fileState,
  readAggregates,
  updateAggregates,
  writeAggregatesAtomic,
  type AggregateScan,
  type FileState,
} from '../../lib/store/aggregates.js';
import { StatementAggregates, statementFromRecords, statementFromSummary, type AggregateRecord, type GroupFilter } from '../../lib/statement/index.js';
import { attempt, randomRecords, rng, runSeed } from '../statement/random-records.js';

const ROWS = 'rows.jsonl';
const SIDE = 'side.jsonl';
const HEADER = 'HEADER rows v1\n';

/** Reads complete lines after `from` (0 or null: from the start, header skipped); counts rows parsed. */
function scanner(dir: string, stats: { rows: number; calls: number; from: (Record<string, number> | null)[] }): AggregateScan {
  return (from, add) => {
    stats.calls += 1;
    stats.from.push(from === null ? null : { ...from });
    let text: string;
    try {
      text = readFileSync(join(dir, ROWS), 'utf8');
    } catch {
      return { [ROWS]: 0 };
    }
    let offset = from?.[ROWS] ?? 0;
    if (offset === 0) {
      if (!text.startsWith(HEADER)) throw new Error(`${ROWS}: no header`);
      offset = HEADER.length;
    }
    for (;;) {
      const nl = text.indexOf('\n', offset);
      if (nl < 0) break; // a torn last line is left for later
      add(JSON.parse(text.slice(offset, nl)) as AggregateRecord);
      stats.rows += 1;
      offset = nl + 1;
    }
    return { [ROWS]: Buffer.byteLength(text.slice(0, offset)) };
  };
}

function allRows(dir: string): AggregateRecord[] {
  const text = readFileSync(join(dir, ROWS), 'utf8');
  const lines = text.slice(HEADER.length).split('\n');
  lines.pop(); // after the last newline: '' or a torn line
  return lines.map((l) => JSON.parse(l) as AggregateRecord);
}

/** The same text with one row's host changed from h1 to h9 (or h2 to h8), past the first half: same length, head and tail. */
function editHostInTheMiddle(text: string): string {
  for (const [from, to] of [['"hostname":"h1"', '"hostname":"h9"'], ['"hostname":"h2"', '"hostname":"h8"']]) {
    const at = text.indexOf(from!, Math.floor(text.length / 2));
    if (at >= 0 && at < text.length - 4096) return text.slice(0, at) + to! + text.slice(at + from!.length);
  }
  throw new Error('no host to edit in the middle of the file');
}

const line = (r: AggregateRecord): string => `${JSON.stringify(r)}\n`;

function expectStatements(aggregates: StatementAggregates, rows: readonly AggregateRecord[], label: string): void {
  expect(aggregates.runs, label).to.equal(rows.length);
  const filters: GroupFilter[] = [{}, ...rows.slice(0, 3).map((r) => ({ projectName: r.project_name, user: r.user, hostname: r.hostname }))];
  for (const filter of filters) {
    const matching = rows.filter(
      (r) =>
        (filter.projectName === undefined || r.project_name.trim() === filter.projectName.trim()) &&
        (filter.user === undefined || r.user.trim() === filter.user.trim()) &&
        (filter.hostname === undefined || r.hostname.trim() === filter.hostname.trim()),
    );
    const summary = aggregates.select(filter);
    if (matching.length === 0) {
      expect(summary, label).to.equal(null);
      continue;
    }
    const from = attempt(() => statementFromSummary(summary!, { format: 'json' }));
    const expected = attempt(() => statementFromRecords(matching, { format: 'json' }));
    expect(from, `${label} ${JSON.stringify(filter)}`).to.deep.equal(expected);
    if (typeof from !== 'string' && typeof expected !== 'string') expect(Object.is(from.energyKwh, expected.energyKwh), label).to.equal(true);
  }
}

describe('store aggregates (emissions.let-aggregates.json)', () => {
  let dir: string;
  let stats: { rows: number; calls: number; from: (Record<string, number> | null)[] };
  const random = rng(12345);
  const batch = (n: number): AggregateRecord[] => randomRecords(random, n);
  const update = (before?: Record<string, FileState | null>) => updateAggregates(dir, { files: [ROWS], scan: scanner(dir, stats), ...(before ? { before } : {}) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-aggregates-'));
    stats = { rows: 0, calls: 0, from: [] };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function start(rows: number): AggregateRecord[] {
    const records = batch(rows);
    writeFileSync(join(dir, ROWS), HEADER + records.map(line).join(''));
    const result = update();
    expect(result.change).to.equal('created');
    expect(result.written, result.notWritten).to.equal(true);
    stats.rows = 0;
    stats.calls = 0;
    stats.from = [];
    return records;
  }

  it('builds the aggregates once, then answers from them without parsing a row', () => {
    const records = start(40);
    const again = update();
    expect(again.change).to.equal('unchanged');
    expect(stats.calls).to.equal(0);
    expectStatements(again.aggregates!, allRows(dir), 'unchanged');
    expectStatements(readAggregates(dir)!.aggregates, allRows(dir), 'read back');
  });

  it('a missing store gives empty aggregates and writes no file; rebuild: false only ever extends', () => {
    const missing = update();
    expect(missing.change).to.equal('created');
    expect(missing.aggregates!.runs).to.equal(0);
    expect(missing.written).to.equal(false);
    expect(readdirSync(dir)).to.deep.equal([]);
    const records = batch(5);
    writeFileSync(join(dir, ROWS), HEADER + records.map(line).join(''));
    const noRebuild = (before?: Record<string, FileState | null>) =>
      updateAggregates(dir, { files: [ROWS], scan: scanner(dir, stats), rebuild: false, ...(before ? { before } : {}) });
    const calls = stats.calls;
    expect(noRebuild().aggregates).to.equal(null); // none yet: left to a reader
    expect(stats.calls).to.equal(calls);
    expect(update().change).to.equal('created');
    const before = { [ROWS]: fileState(join(dir, ROWS)) };
    appendFileSync(join(dir, ROWS), batch(1).map(line).join(''));
    const extended = noRebuild(before);
    expect(extended.change).to.equal('extended');
    expectStatements(extended.aggregates!, allRows(dir), 'extended without rebuild');
    writeFileSync(join(dir, ROWS), HEADER + records.map(line).join(''));
    const rewritten = noRebuild();
    expect([rewritten.change, rewritten.aggregates, rewritten.written]).to.deep.equal(['rewritten', null, false]);
    expectStatements(update().aggregates!, allRows(dir), 'rebuilt by the reader');
  });

  it('our own append (state before it given, under the lock) is parsed from the covered end only', () => {
    const records = start(30);
    const file = join(dir, ROWS);
    const covered = statSync(file).size;
    const before = { [ROWS]: fileState(file) };
    const more = batch(3);
    appendFileSync(file, more.map(line).join(''));
    const result = update(before);
    expect(result.change).to.equal('extended');
    expect(stats.from).to.deep.equal([{ [ROWS]: covered }]);
    expect(stats.rows).to.equal(3);
    expectStatements(result.aggregates!, allRows(dir), 'after our append');
    expect(update().change).to.equal('unchanged');
  });

  it("a foreign append (no state given) is proven an extension by the prefix's checksum", () => {
    const records = start(30);
    const more = batch(5);
    appendFileSync(join(dir, ROWS), more.map(line).join(''));
    const result = update();
    expect(result.change).to.equal('extended');
    expect(stats.rows).to.equal(5);
    expectStatements(result.aggregates!, allRows(dir), 'after a foreign append');
  });

  it('a stated "before" that is not what the aggregates covered is not trusted', () => {
    const records = start(200);
    const file = join(dir, ROWS);
    // Someone edits a row in the middle (same length), then we append with the state after the edit.
    writeFileSync(file, editHostInTheMiddle(readFileSync(file, 'utf8')));
    const before = { [ROWS]: fileState(file) };
    appendFileSync(file, batch(1).map(line).join(''));
    const result = update(before);
    expect(result.change).to.equal('rewritten');
    expectStatements(result.aggregates!, allRows(dir), 'edited then appended');
    expect(records.length).to.equal(200);
  });

  it('truncation, a same-size edit, a new inode and a CodeCarbon-style reformatting rewrite are recomputed from scratch', () => {
    start(150);
    const file = join(dir, ROWS);
    const cases: [string, () => void][] = [
      ['truncate', () => truncateSync(file, statSync(file).size - 10)],
      [
        'same-size edit in the middle',
        () => writeFileSync(file, editHostInTheMiddle(readFileSync(file, 'utf8'))),
      ],
      [
        'same content, new inode',
        () => {
          writeFileSync(`${file}.new`, readFileSync(file));
          renameSync(`${file}.new`, file);
        },
      ],
      [
        'rewrite in place with every row reformatted and one more',
        () => {
          const rows = allRows(dir);
          writeFileSync(file, HEADER + [...rows, ...batch(1)].map((r) => `${JSON.stringify(r, null, 0).replace(/,"/g, ', "')}\n`).join(''));
        },
      ],
    ];
    for (const [what, change] of cases) {
      // Complete any torn line the previous case left, so the file parses.
      const text = readFileSync(file, 'utf8');
      if (!text.endsWith('\n')) writeFileSync(file, text.slice(0, text.lastIndexOf('\n') + 1));
      update();
      change();
      const result = update();
      expect(result.change, what).to.equal('rewritten');
      expect(stats.from.at(-1), what).to.equal(null);
      expectStatements(result.aggregates!, allRows(dir), what);
    }
  });

  it('a CodeCarbon-style rewrite that keeps every earlier byte is an extension; touch alone is no change', () => {
    const records = start(100);
    const file = join(dir, ROWS);
    const more = batch(2);
    writeFileSync(file, readFileSync(file, 'utf8') + more.map(line).join('')); // same inode, truncated and rewritten
    const result = update();
    expect(result.change).to.equal('extended');
    expect(stats.rows).to.equal(2);
    expectStatements(result.aggregates!, allRows(dir), 'rewritten with the same prefix');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    const touched = update();
    expect(touched.change).to.equal('unchanged');
    expect(touched.written).to.equal(true); // the new mtime is recorded, so the prefix is not read again
    expect(classifyChange(readAggregates(dir)!.files[ROWS]!, file)).to.equal('unchanged');
  });

  it('a torn last line is not covered; once completed, its row counts once', () => {
    const records = start(10);
    const file = join(dir, ROWS);
    const [row] = batch(1);
    const text = line(row!);
    appendFileSync(file, text.slice(0, 20));
    const torn = update();
    expect(torn.aggregates!.runs).to.equal(10);
    appendFileSync(file, text.slice(20));
    const done = update();
    expect(done.change).to.equal('extended');
    expectStatements(done.aggregates!, allRows(dir), 'torn then completed');
  });

  it('an unreadable or foreign aggregates file is ignored and rebuilt; a failed save is reported, not thrown', () => {
    const records = start(20);
    const target = join(dir, AGGREGATES_FILE_NAME);
    for (const bad of ['{', '{"format":"lamarr-energy-tracker aggregates","version":99}', JSON.stringify({ format: 'lamarr-energy-tracker aggregates', version: 1, files: {}, aggregates: { version: 1, runs: 3, cells: [] } })]) {
      writeFileSync(target, bad);
      const reasons: string[] = [];
      expect(readAggregates(dir, (r) => reasons.push(r))).to.equal(null);
      expect(reasons).to.have.length(1);
      const rebuilt = update();
      expect(rebuilt.change).to.equal('created');
      expectStatements(rebuilt.aggregates!, allRows(dir), `after ${bad.slice(0, 20)}`);
    }
    rmSync(target);
    mkdirSync(target); // rename over a directory fails
    writeFileSync(join(target, 'x'), '');
    const failed = update();
    expect(failed.written).to.equal(false);
    expect(failed.notWritten).to.be.a('string').and.not.equal('');
    expectStatements(failed.aggregates!, allRows(dir), 'not saved');
  });

  it('a file that changes while it is scanned: the rows are returned, nothing is saved, the next update catches up', () => {
    const records = start(20);
    const file = join(dir, ROWS);
    const extra = batch(2);
    appendFileSync(file, line(extra[0]!));
    const racing: AggregateScan = (from, add) => {
      appendFileSync(file, line(extra[1]!)); // another writer, between our stat and our read
      return scanner(dir, stats)(from, add);
    };
    const raced = updateAggregates(dir, { files: [ROWS], scan: racing });
    expect(raced.written).to.equal(false);
    expect(raced.notWritten).to.match(/changed while it was read/);
    expectStatements(raced.aggregates!, allRows(dir), 'raced');
    const next = update();
    expect(next.change).to.equal('extended');
    expectStatements(next.aggregates!, allRows(dir), 'after the race');
  });

  it('writeAggregatesAtomic leaves no temp file and round-trips', () => {
    start(5);
    const data = readAggregates(dir)!;
    writeAggregatesAtomic(dir, data);
    expect(readAggregates(dir)).to.deep.equal(data);
    expect(readFileSync(join(dir, AGGREGATES_FILE_NAME), 'utf8').endsWith('\n')).to.equal(true);
    const leftovers = readdirSync(dir).filter((f) => /\.tmp\b/.test(f)); // any temp-file name, ours or an older one
    expect(leftovers).to.deep.equal([]);
  });

  it('two files (rows and a sidecar): either one rewritten recomputes, both appended extends', () => {
    const records = batch(10);
    writeFileSync(join(dir, ROWS), HEADER + records.map(line).join(''));
    writeFileSync(join(dir, SIDE), 'side header\n');
    const both = (from: Record<string, number> | null, add: (r: AggregateRecord) => void) => {
      const ends = scanner(dir, stats)(from, add);
      return { ...ends, [SIDE]: statSync(join(dir, SIDE)).size };
    };
    const run = () => updateAggregates(dir, { files: [ROWS, SIDE], scan: both });
    expect(run().change).to.equal('created');
    appendFileSync(join(dir, SIDE), 'more\n');
    expect(run().change).to.equal('extended');
    writeFileSync(join(dir, SIDE), 'other\n');
    expect(run().change).to.equal('rewritten');
    expectStatements(run().aggregates!, allRows(dir), 'two files');
  });

  const SEED = runSeed();
  it(`random appends, rewrites, truncations and edits: always the statement computed from scratch (seed ${SEED})`, function () {
    this.timeout(120_000);
    const r = rng(SEED);
    start(5);
    const file = join(dir, ROWS);
    const seen = new Set<string>();
    for (let step = 0; step < 120; step++) {
      const op = Math.floor(r() * 7);
      const label = `step ${step}, op ${op} (seed ${SEED}; replay with SUMMARY_SEED=${SEED})`;
      let before: Record<string, FileState | null> | undefined;
      let text = readFileSync(file, 'utf8');
      if (!text.endsWith('\n')) {
        // The store repairs a torn tail before appending: cut it (it was never covered).
        text = text.slice(0, text.lastIndexOf('\n') + 1);
        writeFileSync(file, text);
      }
      const rows = allRows(dir);
      switch (op) {
        case 0: // our append, with the state before it
        case 1:
          before = { [ROWS]: fileState(file) };
          appendFileSync(file, randomRecords(r, 1 + Math.floor(r() * 4)).map(line).join(''));
          break;
        case 2: // a foreign append
          appendFileSync(file, randomRecords(r, 1 + Math.floor(r() * 4)).map(line).join(''));
          break;
        case 3: // CodeCarbon: rewrite everything, one more row
          writeFileSync(file, HEADER + [...rows, ...randomRecords(r, 1)].map(line).join(''));
          break;
        case 4: // truncate to a line boundary (a delete of the last rows)
          writeFileSync(file, text.slice(0, text.lastIndexOf('\n', Math.max(HEADER.length - 1, Math.floor(r() * text.length))) + 1) || HEADER);
          break;
        case 5: {
          // hand edit: one row's project replaced, maybe changing the length
          if (rows.length === 0) break;
          const i = Math.floor(r() * rows.length);
          rows[i] = { ...rows[i]!, project_name: r() < 0.5 ? 'edited' : 'alpha' };
          writeFileSync(file, HEADER + rows.map(line).join(''));
          break;
        }
        default: // a torn append (a writer died mid-line)
          appendFileSync(file, line(randomRecords(r, 1)[0]!).slice(0, 15));
          break;
      }
      const result = update(before);
      seen.add(result.change);
      expectStatements(result.aggregates!, allRows(dir), label);
      expect(result.aggregates!.runs, label).to.equal(allRows(dir).length);
    }
    expect([...seen].sort(), `changes seen (seed ${SEED})`).to.include.members(['extended', 'rewritten']);
  });
});
