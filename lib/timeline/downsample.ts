/**
 * Energy-preserving downsampling of cumulative series.
 *
 * The series hold cumulative energy, so keeping any subset of the points that includes the
 * first and the last keeps every component's total exactly (and the energy between any two
 * kept points exactly): what is lost is only resolution. Which points are kept: the time span
 * is cut into `maxPoints − 1` equal buckets and the last point of each bucket is kept, so each
 * stored segment is the mean power over (at least) one bucket.
 */

/**
 * Indices of the points to keep, in order: at most `maxPoints`, always the first and the last.
 * @param times non-decreasing times of the points (any unit).
 * @throws {RangeError} when `maxPoints` < 2.
 */
export function keptIndices(times: ArrayLike<number>, maxPoints: number): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  const count = times.length;
  if (count <= maxPoints) return Array.from({ length: count }, (_, index) => index);
  const first = times[0]!;
  const span = times[count - 1]! - first;
  const buckets = maxPoints - 1;
  const kept = [0];
  if (!(span > 0)) {
    kept.push(count - 1);
    return kept;
  }
  const bucketOf = (index: number) => Math.min(buckets, Math.max(1, Math.ceil(((times[index]! - first) / span) * buckets)));
  for (let index = 1; index < count - 1; index++) {
    // Keep the last point of each bucket (the next point lies in a later bucket).
    if (bucketOf(index + 1) !== bucketOf(index)) kept.push(index);
  }
  kept.push(count - 1);
  return kept;
}

/** Keeps the entries of `values` at `indices`. */
export function pick<T>(values: readonly T[], indices: readonly number[]): T[] {
  return indices.map((index) => values[index]!);
}

/**
 * Downsamples cumulative series given on the same times: returns the kept times and, for each
 * series, its values at those times (unchanged values, so totals are exact).
 */
export function downsampleCumulative(times: readonly number[], series: readonly (readonly number[])[], maxPoints: number): { times: number[]; series: number[][] } {
  for (const [position, values] of series.entries()) {
    if (values.length !== times.length) throw new RangeError(`series ${position} has ${values.length} values for ${times.length} times`);
  }
  const indices = keptIndices(times, maxPoints);
  return { times: pick(times, indices), series: series.map((values) => pick(values, indices)) };
}
