/** What the benches share: their command-line numbers and the middle of their samples. */

const args = process.argv.slice(2);

/** The whole number after `name` on the command line when it is positive, else `def`. */
export function countArg(name: string, def: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : def;
}

/** The median: the middle sample, or the mean of the two middle ones for an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The sample at the middle of the sorted samples (for an even count the upper of the two middle ones). */
export function middleSample(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
