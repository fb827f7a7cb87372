/**
 * The packaged TDP table's index (data/cpu-tdp-index.txt, lib/estimate/cpu-tdp-index.ts): it is
 * what the build script makes of CodeCarbon's CSV, it holds the CSV's rows, and a lookup through
 * it gives exactly what the scan of the same rows gives (matchCpuModel on a plain table), for
 * every row name and many variants of each, and on small tables built to hit the corner cases.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codecarbonStripCpuModel, cpuModelWords, normalizeCpuModel } from '../../lib/estimate/cpu-model-name.js';
import { buildTdpIndex } from '../../lib/estimate/cpu-tdp-index-build.js';
import { TDP_INDEX_FORMAT, TdpIndex } from '../../lib/estimate/cpu-tdp-index.js';
import { loadTdpTable, lookupCpuTdp, matchCpuModel, type TdpEntry, type TdpTable } from '../../lib/estimate/cpu-tdp.js';
import { buildTdpTable, tdpTableFromCsv } from '../../scripts/build-tdp-table.js';
import { mulberry32 } from '../helpers/random.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const csvText = readFileSync(resolve(repoRoot, 'test/fixtures/codecarbon/cpu_power.csv'), 'utf8');
const indexPath = resolve(repoRoot, 'data/cpu-tdp-index.txt');

/** A plain table (not read from an index): matchCpuModel scans its rows. */
function plainTable(entries: readonly TdpEntry[]): TdpTable {
  return { source: 'test', license: 'test', count: entries.length, entries: entries.map(([name, tdp]) => [name, tdp] as const) };
}

function indexOf(entries: readonly TdpEntry[]): TdpIndex {
  return new TdpIndex(Buffer.from(buildTdpIndex({ source: 'test', license: 'test', entries }), 'utf8'), 'test');
}

type Outcome = 'exact' | 'stripped' | 'normalised' | 'token-set' | 'ambiguous' | 'unknown';

/**
 * What the steps give, from the rules (every row transformed once, looked up in maps; step 4
 * by counting, per row, the model's words it holds), telling an ambiguous step 4 from no match:
 * to show that the samples reach every outcome.
 */
function outcomeOf(entries: readonly TdpEntry[]): (model: string) => Outcome {
  const lower = new Set(entries.map(([n]) => n.toLowerCase()));
  const normalised = new Set(entries.map(([n]) => normalizeCpuModel(n)));
  const words = entries.map(([n]) => cpuModelWords(n));
  const rowsWith = new Map<string, number[]>();
  words.forEach((set, row) => set.forEach((w) => rowsWith.set(w, [...(rowsWith.get(w) ?? []), row])));
  return (model) => {
    if (model.trim() === '' || entries.length === 0) return 'unknown';
    if (lower.has(model.toLowerCase())) return 'exact';
    const stripped = codecarbonStripCpuModel(model);
    if (lower.has(stripped.toLowerCase())) return 'stripped';
    const n = normalizeCpuModel(model);
    if (n !== '' && normalised.has(n)) return 'normalised';
    const w = cpuModelWords(stripped);
    const held = new Map<number, number>();
    for (const word of w) for (const row of rowsWith.get(word) ?? []) held.set(row, (held.get(row) ?? 0) + 1);
    const qualifying = [...held].filter(([row, count]) => count === words[row]!.size || count === w.size).length;
    return qualifying === 1 ? 'token-set' : qualifying === 0 ? 'unknown' : 'ambiguous';
  };
}

/** Variants of a row name a lookup may meet: CPU strings as systems write them, and worse. */
function variants(name: string, others: readonly string[], random: () => number): string[] {
  const words = name.split(' ');
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const other = pick(others);
  const shuffled = [...words].sort(() => random() - 0.5);
  const out = [
    name.toUpperCase(),
    name.toLowerCase(),
    `${name.replace(' ', '(R) ')} CPU @ 2.40GHz`,
    `${name.replace(' ', '(R) ')} CPU`,
    `  ${name.replace(' ', '(TM)  ')} `,
    name.replace(' ', '(tm) ').replace(/ /g, '\u00a0'),
    `${name} @ 3.1GHz`,
    `${name} Processor`,
    `${name} 8-Core Processor`,
    words.slice(1).join(' '),
    words.slice(0, -1).join(' '),
    words.slice(-2).join(' '),
    words[0]!,
    shuffled.join(' '),
    `${name} ${pick(other.split(' '))}`,
    `${pick(words)} ${pick(other.split(' '))}`,
    `${name}\t${pick(words)}`,
    name.replace(/-/g, ' '),
    name.replace(/ /g, '-'),
  ];
  return out.filter((v) => v !== name);
}

describe('estimate: the TDP table index file', () => {
  it('is what scripts/build-tdp-table.ts makes of CodeCarbon\'s CSV', () => {
    expect(readFileSync(indexPath, 'utf8')).to.equal(buildTdpTable(csvText));
  });

  it('holds every row of the CSV, in order, with its TDP, and the source and licence', () => {
    const fromCsv = tdpTableFromCsv(csvText);
    const table = loadTdpTable();
    expect(table.entries).to.deep.equal(fromCsv.entries);
    expect(table.count).to.equal(fromCsv.entries.length).and.be.greaterThan(4000);
    expect(table).to.include({ source: fromCsv.source, license: fromCsv.license });
    expect(table.entries.filter(([, tdp]) => tdp === null).map(([name]) => name)).to.deep.equal(
      fromCsv.unparsableTdp!.map((row) => row.slice(0, row.lastIndexOf(','))),
    );
    // The non-ASCII names come back as they are in the CSV.
    expect(table.entries.map(([name]) => name).filter((name) => /[^\x00-\x7f]/.test(name)).length).to.be.greaterThan(3);
    expect(loadTdpTable(indexPath).entries).to.deep.equal(fromCsv.entries);
  });

  it('refuses files that are not an index, naming them', () => {
    const text = readFileSync(indexPath);
    expect(() => new TdpIndex(Buffer.from('{"entries": []}'), 'a.json')).to.throw(/a\.json: does not start with/);
    expect(() => new TdpIndex(text.subarray(0, text.length - 10), 'cut.txt')).to.throw(/cut\.txt: is \d+ bytes long, its layout says \d+/);
    const badLayout = Buffer.from(text.toString('latin1').replace(/\nlayout\t(\d+),/, '\nlayout\t$1;'), 'latin1');
    expect(() => new TdpIndex(badLayout, 'bad.txt')).to.throw(/bad\.txt: has a malformed layout line/);
    const badCount = Buffer.from(text.toString('latin1').replace(/\nlayout\t(\d+),(\d+),(\d+),/, (_m, w, r, n) => `\nlayout\t${w},${r},${Number(n) + 1},`), 'latin1');
    expect(() => new TdpIndex(badCount, 'count.txt')).to.throw(/count\.txt: has a word-counts part of \d+ bytes, not \d+/);
  });

  it('refuses to index a name the format cannot hold', () => {
    expect(() => buildTdpIndex({ source: 's', license: 'l', entries: [['Acme\tX', 1]] })).to.throw(/row 0's name "Acme\\tX" holds a tab/);
    expect(() => buildTdpIndex({ source: 's', license: 'l', entries: [['Acme\nX', 1]] })).to.throw(/line feed/);
    expect(() => buildTdpIndex({ source: 's', license: 'l', entries: [['', 1]] })).to.throw(/row 0 has an empty name/);
  });

  it('loads a table from an index file given by path, and matches through it as through a scan', () => {
    const dir = mkdtempSync(join(tmpdir(), 'let-tdp-index-'));
    try {
      const entries: TdpEntry[] = [['Acme X1', 10], ['Acme X2 Pro', 20], ['Zeta® 7', null]];
      const path = join(dir, 'table.txt');
      writeFileSync(path, buildTdpIndex({ source: 'mine', license: 'MIT', entries }));
      const table = loadTdpTable(path);
      expect(table).to.deep.equal({ source: 'mine', license: 'MIT', count: 3, entries });
      for (const model of ['acme x1', 'Zeta(R) 7', 'Zeta® 7 Processor', 'Acme', 'Acme X2', 'Omega']) {
        expect(matchCpuModel(model, table), model).to.deep.equal(matchCpuModel(model, plainTable(entries)));
      }
      expect(matchCpuModel('Zeta® 7 Processor', table)).to.deep.equal({ name: 'Zeta® 7', tdpWatts: null, kind: 'token-set' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('estimate: lookups through the index', () => {
  const entries = tdpTableFromCsv(csvText).entries;
  const scanned = plainTable(entries);

  it('give what the scan gives for every row name and many variants of each, reaching every outcome', function () {
    this.timeout(120000);
    const random = mulberry32(0x7dbe12);
    const names = entries.map(([name]) => name);
    const samples = new Set<string>(names);
    // Five of the variants of each name, drawn at random (the scan costs ~0.2 ms a lookup).
    for (const name of names) {
      const all = variants(name, names, random);
      for (let k = 0; k < 5; k++) samples.add(all[Math.floor(random() * all.length)]!);
    }
    for (const extra of [
      'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz',
      'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz',
      'AMD EPYC 7763 64-Core Processor',
      'AMD EPYC',
      'Intel(R) Xeon(R) CPU @ 2.00GHz',
      'QEMU Virtual CPU version 2.5+',
      'Common KVM processor',
      'AMD Ryzen 5 6600HS\u200b',
      'AMD Ryzen 5 6600HS',
      'AMD Ryzen 7 3780U Microsoft Surface® Edition',
      'amd ryzen 7 3780u microsoft surface edition',
      'İntel Core i7-10610U',
      'ΣΊΣΥΦΟΣ 9000',
      'Intel\ud800 Core i7-10610U',
      'Intel Core i7-10610U 🚀',
      'Intel Core i7-10610U\n',
      'Intel\tCore\ti7-10610U',
      '(TM)',
      '  ',
      '',
      '@ 2.4GHz',
    ]) {
      samples.add(extra);
    }
    const outcome = outcomeOf(entries);
    const outcomes = new Map<Outcome, number>();
    for (const model of samples) {
      const expected = matchCpuModel(model, scanned);
      expect(matchCpuModel(model), model).to.deep.equal(expected);
      const kind = outcome(model);
      if (expected === null) expect(kind, model).to.be.oneOf(['ambiguous', 'unknown']);
      else expect(kind, model).to.equal(expected.kind);
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    }
    expect(samples.size).to.be.greaterThan(20000);
    for (const kind of ['exact', 'stripped', 'normalised', 'token-set', 'ambiguous', 'unknown'] as const) {
      expect(outcomes.get(kind) ?? 0, `samples with outcome ${kind}`).to.be.greaterThan(200);
    }
  });

  it('give what the scan gives with CodeCarbon\'s steps only', function () {
    this.timeout(120000);
    const random = mulberry32(0x5eed);
    const names = entries.map(([name]) => name);
    for (const name of names.filter((_, k) => k % 5 === 0)) {
      for (const model of [name, ...variants(name, names, random).slice(0, 6)]) {
        const expected = matchCpuModel(model, scanned, { codecarbonOnly: true });
        expect(matchCpuModel(model, undefined, { codecarbonOnly: true }), model).to.deep.equal(expected);
      }
    }
  });

  it('give lookupCpuTdp the same TDP as the scan, the default for unusable rows included', () => {
    for (const [name] of entries.filter((_, k) => k % 13 === 0).concat(entries.filter(([, tdp]) => tdp === null))) {
      expect(lookupCpuTdp(`${name} Processor`, 8), name).to.deep.equal(lookupCpuTdp(`${name} Processor`, 8, scanned));
    }
  });
});

describe('estimate: an index of a small table', () => {
  /** Rows that exercise the rules: duplicates, case twins, rows without words, non-ASCII, shared words. */
  const rows: TdpEntry[] = [
    ['Acme X1', 10],
    ['acme x1', 11],
    ['Acme X2 Pro', 20],
    ['Acme X2 Pro Max', 30],
    ['Acme X2 Pro', 21],
    ['Zeta 7', 70],
    ['(TM)', 5],
    ['---', 6],
    ['Acme(TM)  X9', 9],
    ['Acme X9', 99],
    ['Zeta® 8 Édition', 80],
    ['ZETA 8 ÉDITION', 81],
    ['Zeta\u00a08\u200b', 82],
    ['Omega CPU 1', 100],
    ['Omega 1 @ 2.0GHz', null],
    ['Ωmega Σ', 7],
  ];
  const vocabulary = ['Acme', 'acme', 'X1', 'x2', 'X2', 'Pro', 'Max', 'Zeta', '7', '8', 'Édition', 'édition', '(TM)', '(R)', 'CPU', '@ 2.0GHz', 'Omega', '1', 'Ωmega', 'Σ', 'σ', '---', 'X9', '\u00a0', '\u200b', 'Processor', '®'];

  it('gives what the scan gives for names made of the table\'s words, and for every row', () => {
    const index = indexOf(rows);
    const scanned = plainTable(rows);
    const random = mulberry32(42);
    const models = rows.map(([name]) => name);
    for (let i = 0; i < 20000; i++) {
      const length = 1 + Math.floor(random() * 4);
      const parts = Array.from({ length }, () => vocabulary[Math.floor(random() * vocabulary.length)]!);
      models.push(parts.join(random() < 0.8 ? ' ' : random() < 0.5 ? '  ' : ''));
    }
    const kinds = new Set<string>();
    for (const model of models) {
      const expected = matchCpuModel(model, scanned);
      expect(index.match(model), model).to.deep.equal(expected);
      expect(index.match(model, true), `${model} (CodeCarbon only)`).to.deep.equal(matchCpuModel(model, scanned, { codecarbonOnly: true }));
      kinds.add(expected?.kind ?? 'null');
    }
    expect([...kinds].sort()).to.deep.equal(['exact', 'normalised', 'null', 'stripped', 'token-set']);
  });

  it('takes the first of equal rows in each step and refuses several token-set rows', () => {
    const index = indexOf(rows);
    expect(index.match('ACME X1')).to.deep.equal({ name: 'Acme X1', tdpWatts: 10, kind: 'exact' });
    expect(index.match('Acme(R) X2 Pro CPU @ 3.00GHz')).to.deep.equal({ name: 'Acme X2 Pro', tdpWatts: 20, kind: 'stripped' });
    expect(index.match('acme (tm) x9')).to.deep.equal({ name: 'Acme(TM)  X9', tdpWatts: 9, kind: 'normalised' });
    expect(index.match('Zeta 7 Processor')).to.deep.equal({ name: 'Zeta 7', tdpWatts: 70, kind: 'token-set' });
    expect(index.match('Acme X2')).to.equal(null); // within three rows
    expect(index.match('Zeta 8')).to.equal(null); // within three rows (one with a ZWSP)
    expect(index.match('Unknown 1')).to.equal(null);
  });

  it('works for a table of one row and an empty table', () => {
    expect(indexOf([['Solo 1', 1]]).match('solo')).to.deep.equal({ name: 'Solo 1', tdpWatts: 1, kind: 'token-set' });
    const empty = indexOf([]);
    expect(empty.count).to.equal(0);
    expect(empty.match('Solo 1')).to.equal(null);
    expect(empty.entries()).to.deep.equal([]);
  });

  it('starts with its format line', () => {
    expect(buildTdpIndex({ source: 's', license: 'l', entries: rows }).startsWith(`${TDP_INDEX_FORMAT}\nlayout\t`)).to.equal(true);
  });
});

describe('estimate: CPU model name transformations without regular expressions', () => {
  // The ASCII fast paths of cpuModelWords and normalizeCpuModel against the plain definitions.
  const wordsByRegex = (text: string): Set<string> =>
    new Set(text.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim().split(/\s+/).filter((t) => t !== ''));
  const normaliseByRegex = (name: string): string =>
    name.replace(/\((?:r|tm)\)/gi, ' ').replace(/@\s*\d+(?:\.\d+)?\s*[gm]hz/gi, ' ').replace(/\bcpu\b/gi, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
  const stripByRegex = (raw: string): string => {
    let model = raw.replaceAll('(R)', '');
    const cut = model.indexOf(' CPU @ ');
    if (cut > 0) model = model.slice(0, cut);
    return model.replaceAll(' CPU', '').replace(/ @\s*\d+\.\d+GHz/g, '');
  };

  it('give the same results as the regular expressions on random text', () => {
    const random = mulberry32(7);
    const pieces = ['a', 'Z', '9', ' ', '  ', '\t', '\n', '\v', '\f', '\r', '-', '_', '(R)', '(tm)', 'CPU', 'cpu', '@', ' @ 2.40GHz', '@1GHZ', '.', 'é', '\u00a0', '\u200b', 'x1', 'İ', '~', '\x7f', '\x00'];
    for (let i = 0; i < 20000; i++) {
      const text = Array.from({ length: Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]!).join('');
      expect([...cpuModelWords(text)], JSON.stringify(text)).to.deep.equal([...wordsByRegex(text)]);
      expect(normalizeCpuModel(text), JSON.stringify(text)).to.equal(normaliseByRegex(text));
      expect(codecarbonStripCpuModel(text), JSON.stringify(text)).to.equal(stripByRegex(text));
    }
  });
});
