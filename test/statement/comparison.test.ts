import { expect } from 'chai';
import {
  bibtex,
  COMPARISON_ITEMS,
  comparisonFor,
  customStatement,
  formatMass,
  nearestItem,
  statementFromRecords,
} from '../../lib/statement/index.js';
import { row } from './helpers.js';

describe('statement: comparison', () => {
  it('is off by default and adds the Berners-Lee sentence when asked', () => {
    const plain = customStatement({ methodology: 'm', hardware: 'GPU', consumedEnergy: 3.2 });
    expect(plain.comparison).to.equal(null);
    expect(plain.text).not.to.include('For comparison');
    const s = customStatement({ methodology: 'm', hardware: 'GPU', consumedEnergy: 3.2, comparison: true });
    // 1216 g: nearest on a log scale is the 1 kg paperback book (ratio 1.216)
    expect(s.comparison?.item).to.equal('a paperback book');
    expect(s.text).to.include(
      "For comparison, this is equivalent to about 1.2 times the emissions of a paperback book (1 kg CO2e). Comparisons are based on 'How Bad Are Bananas? The Carbon Footprint of Everything' by Mike Berners-Lee, 2011~\\cite{berners_lee_bananas}.",
    );
    expect(s.citations).to.include('berners_lee_bananas');
    expect(bibtex(s.citations)).to.include('@book{berners_lee_bananas');
  });

  it('Wh branch: 50 Wh at 380 g/kWh is 19 g, compared as grams (not 19 kg as the Python package does)', () => {
    const s = statementFromRecords([row({ energy_consumed: 0.05 })], { comparison: true });
    expect(s.energy.unit).to.equal('Wh');
    expect(s.emissionsGrams).to.equal(19);
    // ln(19/10) = 0.64 < ln(70/19) = 1.30: the apple, 1.9 times
    expect(s.comparison).to.include({ item: 'a locally grown apple', itemGrams: 10, ratioText: '1.9 times' });
    expect(s.comparison!.ratio).to.be.closeTo(1.9, 1e-12);
    expect(s.text).not.to.include('jeans');
  });

  it('g branch: 7.6 g is 76% of an apple (a ratio below 1 is a percentage, never inverted)', () => {
    const s = statementFromRecords([row({ energy_consumed: 0.02 })], { comparison: true });
    expect(s.emissions.text).to.equal('7.600 g');
    expect(s.comparison).to.include({ item: 'a locally grown apple', ratioText: '76%' });
    expect(s.text).to.include('about 76% of the emissions of a locally grown apple (10 g CO2e)');
    const latex = statementFromRecords([row({ energy_consumed: 0.02 })], { comparison: true }).latex;
    expect(latex).to.include('about 76\\% of the emissions');
  });

  it('picks the nearest item on a log scale across the whole range', () => {
    for (const item of COMPARISON_ITEMS) {
      expect(nearestItem(item.grams)?.item).to.equal(item.item);
      expect(nearestItem(item.grams * 1.01)?.item).to.equal(item.item);
    }
    // between 10 g and 70 g the boundary is the geometric mean, 26.46 g
    expect(nearestItem(26)?.item).to.equal('a locally grown apple');
    expect(nearestItem(27)?.item).to.equal('boiling a quart of water');
    expect(nearestItem(1e-6)?.item).to.equal('sending a text message');
    expect(nearestItem(1e12)?.item).to.equal('a new mid-size car');
  });

  it('is deterministic, ties going to the lighter item', () => {
    const mean = Math.sqrt(0.5 * 4);
    const first = nearestItem(mean)?.item;
    for (let i = 0; i < 5; i += 1) expect(nearestItem(mean)?.item).to.equal(first);
    const tie = nearestItem(2, [
      { item: 'one gram', grams: 1 },
      { item: 'four grams', grams: 4 },
    ]);
    expect(tie?.item).to.equal('one gram');
  });

  it('formats ratios and masses in sensible units', () => {
    expect(comparisonFor(70)?.ratioText).to.equal('about the same as');
    expect(comparisonFor(70)?.sentence).to.include('about the emissions of boiling a quart of water (70 g CO2e)');
    expect(comparisonFor(0.001)?.ratioText).to.equal('7.1%');
    expect(comparisonFor(5e8)?.ratioText).to.equal('29 times');
    expect(comparisonFor(2.6e9)?.ratioText).to.equal('153 times');
    expect(comparisonFor(2.6e10)?.ratioText).to.equal('1,529 times');
    expect(formatMass(0.014)).to.equal('0.014 g');
    expect(formatMass(6000)).to.equal('6 kg');
    expect(formatMass(120_000)).to.equal('120 kg');
    expect(formatMass(3_400_000)).to.equal('3.4 t');
  });

  it('gives no comparison for zero emissions', () => {
    const s = customStatement({ methodology: 'm', hardware: 'GPU', consumedEnergy: 0, comparison: true });
    expect(s.comparison).to.equal(null);
    expect(s.text).not.to.include('For comparison');
    expect(s.citations).not.to.include('berners_lee_bananas');
  });
});

describe('bibtex', () => {
  it('returns the three entries every statement cites', () => {
    const entries = bibtex();
    const keys = [...entries.matchAll(/^@\w+\{([^,]+),/gm)].map((m) => m[1]);
    expect(keys).to.deep.equal(['lamarr_energy_tracker', 'codecarbon', 'ai_energy_validation']);
    expect(entries).to.include('title  = {{Lamarr} {Energy} {Tracker}}');
    expect(entries).to.include('doi       = {10.5281/zenodo.17477894}');
    expect(entries).to.include('doi    = {10.48550/arXiv.2509.22092}');
    expect(entries).to.include('Buschj{\\"a}ger, Sebastian and Fischer, Raphael');
  });

  it('adds the comparison source when asked, by option or key', () => {
    expect(bibtex({ comparison: true })).to.include('@book{berners_lee_bananas');
    expect(bibtex({ comparison: true })).to.include('author    = {Berners-Lee, Mike}');
    expect(bibtex({ comparison: false })).not.to.include('berners_lee_bananas');
    expect(bibtex(['codecarbon', 'codecarbon']).match(/@software/g)).to.have.length(1);
  });

  it('every cite key in a statement has an entry, with balanced braces', () => {
    const s = customStatement({ methodology: 'm', hardware: 'GPU', consumedEnergy: 3.2, comparison: true });
    const cited = [...s.text.matchAll(/\\cite\{([^}]+)\}/g)].flatMap((m) => m[1]!.split(','));
    const entries = bibtex(s.citations);
    for (const key of cited) expect(entries).to.include(`{${key},`);
    for (const entry of entries.split('\n\n')) {
      expect(entry.split('{').length, entry).to.equal(entry.split('}').length);
    }
  });

  it('rejects unknown keys', () => {
    expect(() => bibtex(['nope'])).to.throw(RangeError, /nope.*lamarr_energy_tracker/);
  });
});
