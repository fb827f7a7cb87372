/** parseNumber's scanner (no regex on the common path) against the notation it must accept, on random strings. */
import { expect } from 'chai';
import { parseNumber } from '../../lib/store/csv.js';
import { rng, runSeed } from '../statement/random-records.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** What parseNumber returned when it used the regex. */
function oracle(raw: string): number | null | undefined {
  if (raw === '') return null;
  if (DECIMAL.test(raw)) return Number(raw);
  if (/^[+-]?nan$/i.test(raw)) return null;
  const inf = /^([+-]?)inf(?:inity)?$/i.exec(raw);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

const SEED = runSeed();

describe('parseNumber without a regex', () => {
  it(`agrees with the decimal notation on 200,000 random strings (seed ${SEED})`, () => {
    const random = rng(SEED);
    const alphabet = '0123456789.+-eE x\u0660';
    for (let t = 0; t < 200_000; t++) {
      let s = '';
      for (let k = 0, n = Math.floor(random() * 8); k < n; k++) s += alphabet[Math.floor(random() * alphabet.length)];
      expect(Object.is(parseNumber(s), oracle(s)), JSON.stringify(s)).to.equal(true);
    }
  });

  it('reads the forms a CSV holds', () => {
    const cases: [string, number | null | undefined][] = [
      ['1', 1], ['-1.5', -1.5], ['+2', 2], ['5.', 5], ['.5', 0.5], ['1e-7', 1e-7], ['2.5E+3', 2500], ['', null], ['nan', null], ['-inf', -Infinity],
      ['.', undefined], ['1e', undefined], ['1e+', undefined], ['0x10', undefined], ['1_0', undefined], ['Infinity', Infinity], ['e5', undefined], ['--1', undefined],
    ];
    for (const [raw, want] of cases) expect(Object.is(parseNumber(raw), want), raw).to.equal(true);
  });
});
