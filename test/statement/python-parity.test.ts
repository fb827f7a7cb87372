/**
 * Numbers as the Python package prints them: Python's '%.3f' (correct rounding of the exact
 * binary value, exact ties to even), checked against values printed by Python itself
 * (test/fixtures/python-format/fixed3.json, made by generate.py beside it).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFixed } from '../../lib/format.js';
import { customStatement } from '../../lib/statement/statement.js';

/** Parse Python's float.hex() ("-0x1.2000000000000p-1", "0x0.0p+0", "inf"). */
function fromPythonHex(text: string): number {
  const match = /^(-?)0x([01])\.([0-9a-f]+)p([+-]\d+)$/.exec(text);
  if (match === null) throw new Error(`not a float.hex value: ${text}`);
  const [, sign, lead, fraction, exponent] = match;
  const mantissa = parseInt(`${lead}${fraction}`, 16);
  const value = mantissa * 2 ** (Number(exponent) - 4 * fraction!.length);
  return sign === '-' ? -value : value;
}

describe("numbers printed as Python's %.3f prints them", () => {
  const pairs = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'python-format', 'fixed3.json'), 'utf8')) as [string, string][];

  it(`formatFixed(x, 3) equals Python's '%.3f' % x for all ${pairs.length} values printed by Python (ties, neighbours, random)`, () => {
    expect(pairs.length).to.be.greaterThan(5000);
    const wrong = pairs.filter(([hex, text]) => formatFixed(fromPythonHex(hex), 3) !== text);
    expect(wrong.slice(0, 10).map(([hex, text]) => `${hex}: python ${text}, ours ${formatFixed(fromPythonHex(hex), 3)}`)).to.deep.equal([]);
    // toFixed differs on the exact ties, so the fixture does test something.
    expect(pairs.filter(([hex, text]) => fromPythonHex(hex).toFixed(3) !== text).length).to.be.greaterThan(100);
  });

  it('statements at exact ties read as the Python package prints them', () => {
    // 0.5625 kWh is a tie: Python prints "0.562 kWh" (toFixed would print 0.563);
    // 380 g/kWh × 0.562 kWh = 213.56 g → "0.214 kg".
    const tie = customStatement({ methodology: 'a wattmeter', hardware: 'NVIDIA GTX 1080 GPU', consumedEnergy: 0.5625 });
    expect(tie.text).to.contain('is estimated to 0.562 kWh.');
    expect(tie.text).to.contain('carbon emissions of 0.214 kg of CO2-equivalents');
    // 500 g/kWh × 0.125 kWh = 62.5 g = 0.0625 kg, a tie: "0.062 kg".
    const emissionsTie = customStatement({ methodology: 'a wattmeter', hardware: 'NVIDIA GTX 1080 GPU', consumedEnergy: 0.125, carbonIntensity: 500 });
    expect(emissionsTie.text).to.contain('is estimated to 0.125 kWh.');
    expect(emissionsTie.text).to.contain('carbon emissions of 0.062 kg of CO2-equivalents');
    // Wh: 0.0000625 kWh × 1000 = 0.0625 Wh exactly, a tie: Python prints "0.062 Wh" (toFixed: 0.063).
    expect(customStatement({ methodology: 'm', hardware: 'h', consumedEnergy: 0.0000625 }).energy.text).to.equal('0.062 Wh');
  });

  it('JSON numbers agree with the text: emissionsGrams and energy.value are the printed figures', () => {
    for (const consumedEnergy of [0.0000123, 0.00042, 0.0123, 0.5625, 3.2, 1234.5678]) {
      const statement = customStatement({ methodology: 'm', hardware: 'h', consumedEnergy, carbonIntensity: 380.95 });
      const printedGrams = statement.emissions.unit === 'kg' ? statement.emissions.value * 1000 : statement.emissions.value;
      expect(statement.emissionsGrams).to.be.closeTo(printedGrams, 1e-9 * Math.max(1, printedGrams));
      expect(statement.text).to.contain(`estimated to ${statement.energy.text}.`);
      expect(statement.text).to.contain(`emissions of ${statement.emissions.text} of`);
      expect(Number(statement.energy.text.split(' ')[0])).to.equal(statement.energy.value);
      expect(Number(statement.emissions.text.split(' ')[0])).to.equal(statement.emissions.value);
    }
  });
});
