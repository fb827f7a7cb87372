/**
 * Property tests: the statement from summaries (all rows, every project/user/host filter,
 * built in chunks, merged, through JSON) is the statement from the rows, in every format, and
 * the rows' statement is what the code computed before summaries existed (legacy-statement.ts).
 * Random cases from a printed seed: `SUMMARY_SEED=<seed> npx mocha test/statement/summary.test.ts`
 * replays a failure.
 */
import { expect } from 'chai';
import {
  ExactSum,
  formatStatement,
  printedEnergy,
  StatementAggregates,
  StatementSummary,
  statementFromRecords,
  statementFromSummary,
  summarise,
  type AggregateRecord,
  type GroupFilter,
  type PaperStatement,
  type StatementFormat,
  type StatementOptions,
} from '../../lib/statement/index.js';
import { legacyFacts, legacyWallPlugPart } from './legacy-statement.js';
import { attempt, randomRecords, rng, runSeed } from './random-records.js';

const SEED = runSeed();
const CASES = 300;
const FORMATS: StatementFormat[] = ['text', 'latex', 'json'];

/**
 * `actual` and `expected` give the same statement (or the same error), with and without the
 * comparison, in every format (text, LaTeX and JSON are fields of the statement object).
 */
function statementsFor(actual: (options: StatementOptions) => PaperStatement, what: string, expected: (options: StatementOptions) => PaperStatement): void {
  for (const comparison of [false, true]) {
    const a = attempt(() => actual({ comparison }));
    const e = attempt(() => expected({ comparison }));
    const label = `${what}, comparison ${comparison} (seed ${SEED})`;
    if (typeof a === 'string' || typeof e === 'string') {
      expect(a, label).to.equal(e);
      continue;
    }
    // Bit for bit (JSON would hide -0), then everything else.
    expect(Object.is(a.energyKwh, e.energyKwh) && Object.is(a.recordedEmissionsKg, e.recordedEmissionsKg), `${label}: sums`).to.equal(true);
    for (const format of FORMATS) expect(formatStatement(a, format), `${label}, ${format}`).to.equal(formatStatement(e, format));
  }
}

function matching(records: readonly AggregateRecord[], filter: GroupFilter): AggregateRecord[] {
  return records.filter(
    (r) =>
      (filter.projectName === undefined || r.project_name.trim() === filter.projectName.trim()) &&
      (filter.user === undefined || r.user.trim() === filter.user.trim()) &&
      (filter.hostname === undefined || r.hostname.trim() === filter.hostname.trim()),
  );
}

/** Every kind of filter, with values present in the rows, padded values, and one that matches nothing. */
function filtersFor(records: readonly AggregateRecord[], random: () => number): GroupFilter[] {
  const filters: GroupFilter[] = [{}];
  for (let i = 0; i < 12 && records.length > 0; i++) {
    const r = records[Math.floor(random() * records.length)]!;
    const mask = 1 + Math.floor(random() * 7);
    const f: GroupFilter = {};
    if (mask & 1) f.projectName = random() < 0.2 ? ` ${r.project_name} ` : r.project_name;
    if (mask & 2) f.user = r.user;
    if (mask & 4) f.hostname = r.hostname;
    filters.push(f);
  }
  filters.push({ projectName: 'no such project' });
  return filters;
}

function splitAt(random: () => number, n: number): number[] {
  const cuts = new Set<number>([0, n]);
  const k = Math.floor(random() * 5);
  for (let i = 0; i < k; i++) cuts.add(Math.floor(random() * (n + 1)));
  return [...cuts].sort((a, b) => a - b);
}

function aggregatesOf(records: readonly AggregateRecord[]): StatementAggregates {
  const aggregates = new StatementAggregates();
  for (const r of records) aggregates.add(r);
  return aggregates;
}

function roundTrip(aggregates: StatementAggregates): StatementAggregates {
  return StatementAggregates.fromJSON(JSON.parse(JSON.stringify(aggregates)));
}

/** Each filter's statement from `aggregates` equals the statement from the matching rows. */
function checkFilters(aggregates: StatementAggregates, records: readonly AggregateRecord[], filters: readonly GroupFilter[], what: string): void {
  for (const filter of filters) {
    const rows = matching(records, filter);
    const summary = aggregates.select(filter);
    const label = `${what}, filter ${JSON.stringify(filter)}`;
    if (rows.length === 0) {
      expect(summary, label).to.equal(null);
      continue;
    }
    expect(summary, label).to.not.equal(null);
    statementsFor((o) => statementFromSummary(summary!, o), label, (o) => statementFromRecords(rows, o));
  }
}

describe(`statement summary: property tests (seed ${SEED}; replay with SUMMARY_SEED=${SEED})`, function () {
  this.timeout(120_000);

  it(`the statement from records is what the code computed before summaries (${CASES} random sets)`, () => {
    const random = rng(SEED);
    for (let c = 0; c < CASES; c++) {
      const records = randomRecords(random, 1 + Math.floor(random() * 60), { zeroEnergy: c % 25 === 0 });
      const label = `case ${c} (seed ${SEED})`;
      let legacy: ReturnType<typeof legacyFacts> | string;
      try {
        legacy = legacyFacts(records);
      } catch (error) {
        legacy = `RangeError: ${(error as Error).message}`;
      }
      const actual = attempt(() => statementFromRecords(records, { format: 'json' }));
      if (typeof legacy === 'string' || typeof actual === 'string') {
        expect(actual, label).to.equal(legacy);
        continue;
      }
      // Object.is: bit for bit, -0 included.
      expect(Object.is(actual.energyKwh, legacy.energyKwh), `${label}: energy ${actual.energyKwh} vs ${legacy.energyKwh}`).to.equal(true);
      expect(Object.is(actual.recordedEmissionsKg, legacy.emissionsKg), `${label}: emissions`).to.equal(true);
      expect(actual.runs, label).to.equal(legacy.runs);
      expect(actual.carbonIntensity, label).to.equal(legacy.carbonIntensity);
      expect(actual.methodology, label).to.equal(legacy.methodology);
      expect(actual.configurations.map((k) => ({ hardware: k.hardware, runs: k.runs, energyKwh: k.energyKwh })), label).to.deep.equal(legacy.configurations);
      const energyText = (kwh: number): string => printedEnergy(kwh).text;
      expect(actual.wallPlug, `${label}: wall plug`).to.deep.equal(legacyWallPlugPart(records, {}, energyText));
      // Calibrated: computed from the rows, as before.
      const calibrated = statementFromRecords(records, { format: 'json', calibrated: true });
      expect(calibrated.wallPlug, `${label}: calibrated wall plug`).to.deep.equal(legacyWallPlugPart(records, { calibrated: true }, energyText));
      expect(() => statementFromSummary(summarise(records), { calibrated: true }), label).to.throw(RangeError, /calibrated statement needs the rows/);
    }
  });

  it(`every project/user/host filter: the aggregate's statement is the matching rows' statement, also after a JSON round trip (${CASES} sets)`, () => {
    const random = rng(SEED + 1);
    for (let c = 0; c < CASES; c++) {
      const records = randomRecords(random, Math.floor(random() * 80), { zeroEnergy: c % 30 === 0 });
      const aggregates = aggregatesOf(records);
      expect(aggregates.runs).to.equal(records.length);
      const filters = filtersFor(records, random);
      checkFilters(aggregates, records, filters, `case ${c}`);
      const loaded = roundTrip(aggregates);
      expect(JSON.stringify(loaded), `case ${c}: JSON round trip`).to.equal(JSON.stringify(aggregates));
      checkFilters(loaded, records, filters, `case ${c} after JSON`);
    }
  });

  it(`aggregates brought up to date chunk by chunk through JSON equal those built in one go (${CASES} sets)`, () => {
    const random = rng(SEED + 2);
    for (let c = 0; c < CASES; c++) {
      const records = randomRecords(random, Math.floor(random() * 80));
      const whole = aggregatesOf(records);
      const cuts = splitAt(random, records.length);
      let stepwise = new StatementAggregates();
      for (let i = 1; i < cuts.length; i++) {
        // As the store does: load what was saved, add the appended rows, save.
        stepwise = roundTrip(stepwise);
        for (const r of records.slice(cuts[i - 1], cuts[i])) stepwise.add(r);
      }
      expect(JSON.stringify(stepwise), `case ${c}, cuts ${cuts.join(',')} (seed ${SEED})`).to.equal(JSON.stringify(whole));
      checkFilters(stepwise, records, filtersFor(records, random), `case ${c} stepwise`);
    }
  });

  it(`summaries of chunks, merged in order, give the statement of all rows (exact sums; ${CASES} sets)`, () => {
    const random = rng(SEED + 3);
    for (let c = 0; c < CASES; c++) {
      const records = randomRecords(random, Math.floor(random() * 80), { dyadic: true, zeroEnergy: c % 30 === 0 });
      const cuts = splitAt(random, records.length);
      const merged = new StatementAggregates();
      const mergedSummary = new StatementSummary();
      for (let i = 1; i < cuts.length; i++) {
        const chunk = records.slice(cuts[i - 1], cuts[i]);
        merged.merge(roundTrip(aggregatesOf(chunk)));
        mergedSummary.merge(summarise(chunk));
      }
      const label = `case ${c}, cuts ${cuts.join(',')}`;
      expect(merged.runs, label).to.equal(records.length);
      if (records.length > 0) statementsFor((o) => statementFromSummary(mergedSummary, o), `${label} summary`, (o) => statementFromRecords(records, o));
      checkFilters(merged, records, filtersFor(records, random), label);
      checkFilters(roundTrip(merged), records, filtersFor(records, random), `${label} after JSON`);
    }
  });

  it(`merging is exact: any split of arbitrary rows gives the same sums, the correctly rounded ones (${CASES} sets)`, () => {
    const random = rng(SEED + 4);
    for (let c = 0; c < CASES; c++) {
      const records = randomRecords(random, 1 + Math.floor(random() * 60));
      const mergedBy = (cuts: number[]): StatementSummary => {
        const s = new StatementSummary();
        for (let i = 1; i < cuts.length; i++) s.merge(summarise(records.slice(cuts[i - 1], cuts[i])));
        return s;
      };
      const label = `case ${c} (seed ${SEED})`;
      // One summary per row, merged: only exact sums make this independent of the order of addition.
      const singles = mergedBy(records.map((_, i) => i).concat(records.length));
      const split = mergedBy(splitAt(random, records.length));
      expect(singles.energyKwh, label).to.equal(referenceSum(records.map(energyOf)));
      expect(singles.ordered, label).to.equal(records.length === 1);
      // Made inside attempt(): rows with no energy and no intensity make both throw the same RangeError.
      const expected = (): PaperStatement => (split.ordered ? statementFromRecords(records, { format: 'json' }) : statementFromSummary(singles, { format: 'json' }));
      expect(attempt(() => statementFromSummary(split, { format: 'json' })), label).to.deep.equal(attempt(expected));
    }
  });

  it('a summary without exact sums gives the same statement, survives JSON, and refuses to merge', () => {
    const random = rng(SEED + 6);
    for (let c = 0; c < 50; c++) {
      const records = randomRecords(random, 1 + Math.floor(random() * 40));
      const fast = summarise(records, { exactSums: false });
      const loaded = StatementSummary.fromJSON(JSON.parse(JSON.stringify(fast)));
      expect(JSON.stringify(loaded)).to.equal(JSON.stringify(fast));
      expect(loaded.toJSON().energy.exact).to.equal(null);
      statementsFor((o) => statementFromSummary(loaded, o), `case ${c} without exact sums`, (o) => statementFromSummary(summarise(records), o));
      expect(() => summarise(records).merge(fast)).to.throw(TypeError, /exact sums/);
      expect(() => fast.merge(summarise(records))).to.throw(TypeError, /exact sums/);
    }
  });

  it('ExactSum is the correctly rounded sum, whatever the order (checked against BigInt arithmetic)', () => {
    const random = rng(SEED + 5);
    for (let c = 0; c < 500; c++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 40) }, () => {
        const mantissa = Math.floor(random() * 2 ** 53) * (random() < 0.4 ? -1 : 1);
        return mantissa * 2 ** (Math.floor(random() * 120) - 110);
      });
      if (random() < 0.3) values.push(-values[0]!, 2 ** -100, 1e10, -1e10);
      const expected = referenceSum(values);
      const forward = new ExactSum();
      for (const v of values) forward.add(v);
      const backward = new ExactSum();
      for (const v of [...values].reverse()) backward.add(v);
      const halves = new ExactSum();
      const half = new ExactSum();
      values.forEach((v, i) => (i % 2 === 0 ? halves : half).add(v));
      halves.addSum(half);
      const label = `case ${c} (seed ${SEED}): ${JSON.stringify(values)}`;
      expect(forward.value(), label).to.equal(expected);
      expect(backward.value(), label).to.equal(expected);
      expect(halves.value(), label).to.equal(expected);
      expect(ExactSum.fromJSON(JSON.parse(JSON.stringify(forward)), 'sum').value(), label).to.equal(expected);
    }
    const overflow = new ExactSum();
    overflow.add(Number.MAX_VALUE);
    overflow.add(Number.MAX_VALUE);
    expect(overflow.value()).to.equal(Infinity);
    expect(ExactSum.fromJSON(JSON.parse(JSON.stringify(overflow)), 'sum').value()).to.equal(Infinity);
  });
});

/** A row's energy as the statement counts it. */
function energyOf(r: AggregateRecord): number {
  const ok = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return typeof r.energy_consumed === 'number' && Number.isFinite(r.energy_consumed) ? r.energy_consumed : ok(r.cpu_energy) + ok(r.gpu_energy) + ok(r.ram_energy);
}

/** The exact sum of doubles, rounded once to the nearest double (ties to even), with BigInt. */
function referenceSum(values: readonly number[]): number {
  const SHIFT = 1100n;
  let total = 0n;
  for (const v of values) {
    if (v === 0) continue;
    // v = m × 2^e exactly, m an integer below 2^53.
    let e = Math.floor(Math.log2(Math.abs(v))) - 52;
    let m = v / 2 ** e;
    while (!Number.isInteger(m)) {
      e -= 1;
      m = v / 2 ** e;
    }
    total += BigInt(m) << (BigInt(e) + SHIFT);
  }
  if (total === 0n) return 0;
  // Number(BigInt) rounds to nearest, ties to even; scale down in exact steps.
  const negative = total < 0n;
  let abs = negative ? -total : total;
  let shift = SHIFT;
  const bits = BigInt(abs.toString(2).length);
  if (bits > 60n) {
    // Keep 60 significant bits plus a sticky bit, so that one rounding happens, in Number().
    const drop = bits - 60n;
    const sticky = (abs & ((1n << drop) - 1n)) !== 0n ? 1n : 0n;
    abs = ((abs >> drop) << 1n) | sticky;
    shift -= drop - 1n;
  }
  let result = Number(abs);
  if (shift < 0n) result *= 2 ** Number(-shift);
  while (shift > 0n) {
    const step = shift > 500n ? 500n : shift;
    result /= 2 ** Number(step);
    shift -= step;
  }
  return negative ? -result : result;
}
