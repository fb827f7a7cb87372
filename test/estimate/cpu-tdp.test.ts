import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_WATTS_PER_THREAD,
  codecarbonStripCpuModel,
  loadTdpTable,
  lookupCpuTdp,
  matchCpuModel,
  normalizeCpuModel,
  type TdpTable,
} from '../../lib/estimate/index.js';
import { buildTdpTable, parseCsv } from '../../scripts/build-tdp-table.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// CodeCarbon's CSV, shipped with the tests (test/fixtures/codecarbon, MIT licence).
const sharedCsv = resolve(repoRoot, 'test/fixtures/codecarbon/cpu_power.csv');

/** TDP of a row of the packaged table, by exact name (independent of the matcher). */
function tableTdp(name: string): number | null {
  const row = loadTdpTable().entries.find(([n]) => n === name);
  if (!row) throw new Error(`no row ${name}`);
  return row[1];
}

function table(rows: Array<[string, number | null]>): TdpTable {
  return { source: 'test', license: 'test', count: rows.length, entries: rows };
}

describe('estimate: CPU TDP table', () => {
  it('has CodeCarbon\'s rows with positive TDPs or null for the unusable ones', () => {
    const t = loadTdpTable();
    expect(t.entries.length).to.be.greaterThan(4000);
    expect(t.count).to.equal(t.entries.length);
    for (const [name, tdp] of t.entries) {
      expect(name).to.be.a('string').and.not.equal('');
      if (tdp !== null) expect(tdp).to.be.a('number').and.greaterThan(0);
    }
  });

  it('is in sync with the CSV it is generated from', () => {
    const csv = readFileSync(sharedCsv, 'utf8');
    const committed = readFileSync(resolve(repoRoot, 'data/cpu-tdp-index.txt'), 'utf8');
    expect(buildTdpTable(csv)).to.equal(committed);
    expect(loadTdpTable().entries.length).to.equal(parseCsv(csv).length - 1);
  });

  it('parses quoted CSV fields with commas and doubled quotes', () => {
    expect(parseCsv('Name,TDP\n"A, B ""x""",12.5\r\nC,3\n')).to.deep.equal([
      ['Name', 'TDP'],
      ['A, B "x"', '12.5'],
      ['C', '3'],
    ]);
  });
});

describe('estimate: CPU model normalisation', () => {
  it('removes (R), (TM), CPU, the clock speed, extra spaces and case', () => {
    expect(normalizeCpuModel('Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz')).to.equal('intel core i7-10610u');
    expect(normalizeCpuModel('  Intel(R)  Xeon(R) CPU E5-2683 v4 @ 2.10GHz ')).to.equal('intel xeon e5-2683 v4');
    expect(normalizeCpuModel('AMD Ryzen 9 3950X 16-Core Processor')).to.equal('amd ryzen 9 3950x 16-core processor');
    expect(normalizeCpuModel('Genuine Intel(r) cpu 0000 @ 2.5 GHz')).to.equal('genuine intel 0000');
  });

  it('strips as CodeCarbon does (keeps (TM) and case)', () => {
    expect(codecarbonStripCpuModel('Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz')).to.equal('Intel Core(TM) i7-10610U');
    expect(codecarbonStripCpuModel('Intel(R) Xeon(R) CPU E5-2683 v4 @ 2.10GHz')).to.equal('Intel Xeon E5-2683 v4');
  });
});

describe('estimate: lookupCpuTdp', () => {
  it('finds an Intel laptop CPU from its /proc/cpuinfo name', () => {
    const r = lookupCpuTdp('Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 8);
    expect(r).to.include({ source: 'table', matchedName: 'Intel Core i7-10610U' });
    expect(r.tdpWatts).to.equal(tableTdp('Intel Core i7-10610U')).and.equal(15);
  });

  it('finds the same row with CodeCarbon\'s own steps only (token-set match)', () => {
    const m = matchCpuModel('Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', loadTdpTable(), { codecarbonOnly: true });
    expect(m).to.deep.include({ name: 'Intel Core i7-10610U', kind: 'token-set' });
  });

  it('finds AMD EPYC and Ryzen names that carry a core count', () => {
    const epyc = lookupCpuTdp('AMD EPYC 7763 64-Core Processor', 128);
    expect(epyc).to.include({ source: 'table', matchedName: 'AMD EPYC 7763', matchKind: 'token-set' });
    expect(epyc.tdpWatts).to.equal(tableTdp('AMD EPYC 7763')).and.equal(280);
    const ryzen = lookupCpuTdp('AMD Ryzen 9 3950X 16-Core Processor', 32);
    expect(ryzen).to.include({ source: 'table', matchedName: 'AMD Ryzen 9 3950X', tdpWatts: 105 });
  });

  it('finds a Xeon after stripping (R) and the clock', () => {
    const r = lookupCpuTdp('Intel(R) Xeon(R) Platinum 8275CL CPU @ 3.00GHz', 96);
    expect(r).to.include({ source: 'table', matchedName: 'Intel Xeon Platinum 8275CL', matchKind: 'stripped' });
    expect(r.tdpWatts).to.equal(tableTdp('Intel Xeon Platinum 8275CL'));
  });

  it('matches exactly ignoring case', () => {
    const r = lookupCpuTdp('intel core i7-10610u', 4);
    expect(r).to.include({ matchedName: 'Intel Core i7-10610U', matchKind: 'exact', tdpWatts: 15 });
  });

  it('uses 4 W per thread for an unknown CPU', () => {
    const r = lookupCpuTdp('Frobnicator 9000 Deluxe', 12);
    expect(r).to.deep.equal({ tdpWatts: 48, matchedName: null, source: 'default-per-thread', matchKind: null });
    expect(lookupCpuTdp('', 6).tdpWatts).to.equal(6 * DEFAULT_WATTS_PER_THREAD);
    expect(lookupCpuTdp('Frobnicator', 0).tdpWatts).to.equal(DEFAULT_WATTS_PER_THREAD);
  });

  it('treats an ambiguous name as unknown, as CodeCarbon does (a cloud VM\'s bare "Intel Xeon")', () => {
    const r = lookupCpuTdp('Intel(R) Xeon(R) CPU @ 2.00GHz', 8);
    expect(r).to.include({ source: 'default-per-thread', matchedName: null, tdpWatts: 32 });
    expect(lookupCpuTdp('AMD EPYC', 16).source).to.equal('default-per-thread');
  });

  it('falls back to the default for a row whose source TDP is unusable, naming the row', () => {
    const r = lookupCpuTdp('Intel(R) Celeron(R) CPU 1000A', 2);
    expect(r).to.include({ source: 'default-per-thread', matchedName: 'Intel Celeron 1000A', tdpWatts: 8 });
  });
});

/**
 * The matching steps as a plain full scan of the table (every row normalised and tokenised),
 * written from the rules in cpu-tdp.ts's module comment: the reference for the prepared,
 * pre-filtered matcher.
 */
function referenceMatcher(entries: readonly (readonly [string, number | null])[]) {
  const words = (text: string): Set<string> =>
    new Set(text.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim().split(/\s+/).filter((w) => w !== ''));
  const lower = entries.map(([n]) => n.toLowerCase());
  const normalised = entries.map(([n]) => normalizeCpuModel(n));
  const tokens = entries.map(([n]) => words(n));
  const subset = (a: Set<string>, b: Set<string>): boolean => [...a].every((w) => b.has(w));
  return (model: string) => {
    if (model.trim() === '' || entries.length === 0) return null;
    const hit = (i: number, kind: string) => ({ name: entries[i]![0], tdpWatts: entries[i]![1], kind });
    let i = lower.indexOf(model.toLowerCase());
    if (i >= 0) return hit(i, 'exact');
    const stripped = codecarbonStripCpuModel(model);
    i = lower.indexOf(stripped.toLowerCase());
    if (i >= 0) return hit(i, 'stripped');
    const n = normalizeCpuModel(model);
    i = n === '' ? -1 : normalised.indexOf(n);
    if (i >= 0) return hit(i, 'normalised');
    const w = words(stripped);
    if (w.size === 0) return null;
    const found = tokens.flatMap((t, k) => (t.size > 0 && (subset(t, w) || subset(w, t)) ? [k] : []));
    return found.length === 1 ? hit(found[0]!, 'token-set') : null;
  };
}

describe('estimate: the table prepared on demand', () => {
  it('matches every row name and its variants exactly as a full scan of the table does', function () {
    this.timeout(120000);
    const packaged = loadTdpTable();
    const reference = referenceMatcher(packaged.entries);
    // A fresh copy: nothing prepared yet, so the first lookups run with the least prepared.
    const fresh: TdpTable = { ...packaged, entries: packaged.entries.map(([n, w]) => [n, w] as const) };
    const names = packaged.entries.map(([n]) => n);
    const some = names.filter((_, k) => k % 7 === 0);
    const samples = [
      ...names, // exact
      ...some.map((n) => `${n.replace(' ', '(R) ')} CPU @ 2.40GHz`), // stripped
      ...some.map((n) => `  ${n.toUpperCase().replace(' ', '(TM)  ')}  `), // normalised
      ...some.map((n) => n.split(' ').slice(-2).join(' ')), // token-set, often ambiguous
      ...some.map((n) => `${n} Processor`), // token-set superset
      'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz',
      'AMD EPYC',
      'Intel Xeon',
      'Some Unknown CPU 9000',
      '(TM)',
    ];
    let hits = 0;
    for (const name of samples) {
      const got = matchCpuModel(name, fresh);
      expect(got, name).to.deep.equal(reference(name));
      if (got !== null) hits++;
    }
    expect(hits).to.be.greaterThan(names.length); // the variants matched too, not only the names
  });
});

describe('estimate: matchCpuModel rules on a small table', () => {
  const t = table([
    ['Acme X1', 10],
    ['acme x1', 11],
    ['Acme X2 Pro', 20],
    ['Acme X2 Pro Max', 30],
    ['Zeta 7', 70],
  ]);

  it('takes the first row of equal exact matches', () => {
    expect(matchCpuModel('ACME X1', t)).to.deep.equal({ name: 'Acme X1', tdpWatts: 10, kind: 'exact' });
  });

  it('accepts a unique word-subset match in either direction', () => {
    expect(matchCpuModel('Zeta(R) 7 8-Core Processor', t)).to.deep.include({ name: 'Zeta 7', kind: 'token-set' });
    expect(matchCpuModel('Zeta', t)).to.deep.include({ name: 'Zeta 7', kind: 'token-set' });
  });

  it('refuses several word-subset matches', () => {
    expect(matchCpuModel('Acme X2', t)).to.equal(null); // subset of two rows
    expect(matchCpuModel('Acme X1 Turbo', t)).to.equal(null); // two rows (duplicates) are subsets
  });

  it('matches (TM) and spacing variants only with our normalisation step', () => {
    const name = 'Acme(TM)  X2 Pro';
    expect(matchCpuModel(name, t)).to.deep.include({ name: 'Acme X2 Pro', kind: 'normalised' });
    // CodeCarbon alone: words {acme, tm, x2, pro} ⊇ {acme, x2, pro} only → unique token-set hit.
    expect(matchCpuModel(name, t, { codecarbonOnly: true })).to.deep.include({ name: 'Acme X2 Pro', kind: 'token-set' });
  });

  it('returns null for no overlap', () => {
    expect(matchCpuModel('Omega 1', t)).to.equal(null);
  });
});
