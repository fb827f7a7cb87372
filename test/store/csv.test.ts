import { expect } from 'chai';
import { StoreError, formatNumber, parseCsv, parseNumber, parseTimestamp, quoteField } from '../../lib/store/index.js';

describe('store: CSV reader and writer', () => {
  it('parses quoted fields with commas, doubled quotes and line breaks, with physical line numbers', () => {
    const text = 'a,b,c\n1,"x, ""y""",3\n2,"multi\nline",4\n5,6,7\n';
    const p = parseCsv(text, 'f.csv');
    expect(p.records.map((r) => r.fields)).to.deep.equal([
      ['a', 'b', 'c'],
      ['1', 'x, "y"', '3'],
      ['2', 'multi\nline', '4'],
      ['5', '6', '7'],
    ]);
    expect(p.records.map((r) => r.line)).to.deep.equal([1, 2, 3, 5]);
    expect(p.torn).to.equal(null);
    // Offsets cover each record exactly.
    expect(p.records.map((r) => text.slice(r.start, r.end))).to.deep.equal(['a,b,c', '1,"x, ""y""",3', '2,"multi\nline",4', '5,6,7']);
  });

  it('trims unquoted fields, keeps quoted ones exact, handles CRLF, BOM and blank lines', () => {
    const p = parseCsv('\uFEFFa , b\r\n 1 ," 2 "\r\n\r\n3,4\r\n');
    expect(p.eol).to.equal('\r\n');
    expect(p.bodyStart).to.equal(1);
    expect(p.records.map((r) => r.fields)).to.deep.equal([
      ['a', 'b'],
      ['1', ' 2 '],
      ['3', '4'],
    ]);
    expect(p.records.map((r) => r.line)).to.deep.equal([1, 2, 4]);
  });

  it('returns a last record without a line end as torn, also inside an open quote on the last line', () => {
    expect(parseCsv('a,b\n1,2\n3,').torn).to.deep.equal({ line: 3, start: 8, text: '3,' });
    expect(parseCsv('a,b\n1,2\n3,"op').torn).to.deep.equal({ line: 3, start: 8, text: '3,"op' });
    expect(parseCsv('a,b\n1,2\n3,"closed"').torn?.text).to.equal('3,"closed"');
    expect(parseCsv('a,b\n1,2\n').torn).to.equal(null);
  });

  it('rejects an unterminated quote that swallows later lines, naming file and line', () => {
    expect(() => parseCsv('a,b\n1,"2\n3,4\n', 'f.csv'))
      .to.throw(StoreError, /^f\.csv:2: unterminated quoted field/)
      .with.property('code', 'LET_CSV_UNTERMINATED_QUOTE');
  });

  it('guards formula-like text and round-trips every value through quoteField and parseCsv', () => {
    const values = ['=1+1', '+1', '-2', '@A1', '\tx', '\rx', "'", "'x", "''=", 'a"b', 'a,b', ' a', 'a ', 'x\ny', '', 'plain', '-'];
    for (const v of values) {
      const cell = quoteField(v);
      expect(/^[=+\-@\t\r]/.test(cell), `${JSON.stringify(v)} stored as ${cell}`).to.equal(false);
      expect(parseCsv(`h\n${cell}\n`).records[1]?.fields ?? [''], JSON.stringify(v)).to.deep.equal([v]);
    }
    expect(quoteField('-2')).to.equal(`"'-2"`);
    expect(quoteField("'x")).to.equal(`"''x"`);
    expect(quoteField('plain')).to.equal('plain');
    // A foreign unquoted value starting with ' is kept as it is.
    expect(parseCsv("h\n'=x\n").records[1]!.fields).to.deep.equal(["'=x"]);
  });

  it('parses numbers strictly', () => {
    expect(parseNumber('')).to.equal(null);
    expect(parseNumber('-8.61')).to.equal(-8.61);
    expect(parseNumber('1.7e-06')).to.equal(1.7e-6);
    expect(parseNumber('.5')).to.equal(0.5);
    expect(parseNumber('nan')).to.equal(null);
    expect(parseNumber('-inf')).to.equal(-Infinity);
    for (const bad of ['0x10', '1,5', 'abc', '1.2.3', '--1', 'Infinityx']) expect(parseNumber(bad), bad).to.equal(undefined);
    expect(formatNumber(null)).to.equal('');
    expect(formatNumber(NaN)).to.equal('');
    expect(formatNumber(-0.5)).to.equal('-0.5');
    expect(parseNumber(formatNumber(1.2345678901234567e-9))).to.equal(1.2345678901234567e-9);
  });

  it('parses timestamps as local time unless a zone is given', () => {
    expect(parseTimestamp('2026-03-19T15:47:47')).to.equal(new Date(2026, 2, 19, 15, 47, 47).getTime());
    expect(parseTimestamp('2026-03-19 15:47:47.250')).to.equal(new Date(2026, 2, 19, 15, 47, 47, 250).getTime());
    expect(parseTimestamp('2026-03-19T15:47:47Z')).to.equal(Date.UTC(2026, 2, 19, 15, 47, 47));
    expect(parseTimestamp('2026-03-19T15:47:47.123456+01:00')).to.equal(Date.UTC(2026, 2, 19, 14, 47, 47, 123));
    expect(parseTimestamp('2026-03-19T15:47:47-0230')).to.equal(Date.UTC(2026, 2, 19, 18, 17, 47));
    expect(parseTimestamp('yesterday')).to.be.NaN;
    expect(parseTimestamp('2026-13-01T00:00:00')).to.be.NaN;
  });
});
