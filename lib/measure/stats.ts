/**
 * Small statistics helpers for measureEnergy: mean, sample variance, Student t quantiles and
 * a 95% confidence interval that can combine two independent sources of error
 * (Welch–Satterthwaite degrees of freedom).
 */

/** Two-sided 95% Student t critical values (0.975 quantile) for df = 1…30. */
const T975: readonly number[] = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** Larger df: (df, t) pairs, interpolated linearly in 1/df; the limit is the normal 1.95996. */
const T975_TAIL: ReadonlyArray<readonly [number, number]> = [
  [30, 2.042],
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
  [Infinity, 1.959964],
];

/** The 0.975 quantile of Student's t distribution with `df` degrees of freedom (df may be fractional). */
export function studentT975(df: number): number {
  if (!(df > 0)) return Number.NaN;
  if (df < 1) return T975[0]!; // conservative for Welch df below 1
  if (df <= 30) {
    const lo = Math.floor(df);
    const hi = Math.min(30, lo + 1);
    const a = T975[lo - 1]!;
    const b = T975[hi - 1]!;
    // interpolate in 1/df (t is close to linear in 1/df)
    if (lo === hi) return a;
    const w = (1 / lo - 1 / df) / (1 / lo - 1 / hi);
    return a + (b - a) * w;
  }
  for (let i = 1; i < T975_TAIL.length; i++) {
    const [d1, t1] = T975_TAIL[i - 1]!;
    const [d2, t2] = T975_TAIL[i]!;
    if (df <= d2) {
      const x1 = 1 / d1;
      const x2 = d2 === Infinity ? 0 : 1 / d2;
      const w = (x1 - 1 / df) / (x1 - x2);
      return t1 + (t2 - t1) * w;
    }
  }
  return 1.959964;
}

/** Arithmetic mean (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Unbiased sample variance (0 for fewer than two values). */
export function sampleVariance(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return ss / (n - 1);
}

/** A mean with the variance of that mean and its degrees of freedom. */
export interface MeanEstimate {
  /** The estimate. */
  mean: number;
  /** Variance of the estimate (s²/n for a sample mean). */
  varianceOfMean: number;
  /** Degrees of freedom of the variance (n − 1 for a sample mean; Infinity when exact). */
  df: number;
}

/** Mean of a sample with the variance of its mean (s²/n) and df = n − 1. */
export function estimateMean(values: readonly number[]): MeanEstimate {
  const n = values.length;
  return { mean: mean(values), varianceOfMean: n > 0 ? sampleVariance(values) / n : Number.NaN, df: n - 1 };
}

/**
 * a·X + b·Y for independent estimates X and Y: the combined variance and its
 * Welch–Satterthwaite degrees of freedom.
 */
export function combine(a: number, x: MeanEstimate, b: number, y: MeanEstimate): MeanEstimate {
  const vx = a * a * x.varianceOfMean;
  const vy = b * b * y.varianceOfMean;
  const v = vx + vy;
  let df: number;
  if (v === 0) df = Math.min(x.df, y.df);
  else {
    const denom = (vx > 0 ? (vx * vx) / x.df : 0) + (vy > 0 ? (vy * vy) / y.df : 0);
    df = denom > 0 ? (v * v) / denom : Infinity;
  }
  return { mean: a * x.mean + b * y.mean, varianceOfMean: v, df };
}

/** A two-sided 95% confidence interval. */
export interface Interval95 {
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
  /** Half-width (t × standard error). */
  halfWidth: number;
}

/** The 95% Student t confidence interval of an estimate; null when df < 1 (one batch only). */
export function interval95(e: MeanEstimate): Interval95 | null {
  if (!(e.df >= 1) || !Number.isFinite(e.varianceOfMean)) return null;
  const half = studentT975(e.df) * Math.sqrt(e.varianceOfMean);
  return { low: e.mean - half, high: e.mean + half, halfWidth: half };
}
