/**
 * An exact, mergeable sum of doubles (Shewchuk's non-overlapping partials, as Python's
 * `math.fsum`): the value is the correctly rounded sum of everything added, whatever the order
 * of additions and merges. Used where summaries of different parts of a file are combined.
 */

/** The serialised form: the partials (finite numbers) and the sum of non-finite addends. */
export interface ExactSumJSON {
  /** Non-overlapping partials, smallest magnitude first. */
  partials: number[];
  /** Sum of non-finite addends and overflows (`0` when none), as a number or 'Infinity' / '-Infinity' / 'NaN'. */
  special: number | string;
}

/** Encodes a number for JSON, keeping infinities and NaN (JSON has no literal for them). */
export function encodeNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** Decodes {@link encodeNumber}'s output; `what` names the field in the error. */
export function decodeNumber(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (value === 'NaN') return NaN;
  throw new TypeError(`${what} must be a finite number or "Infinity", "-Infinity" or "NaN", got ${JSON.stringify(value)}`);
}

/** An exact running sum. */
export class ExactSum {
  private partials: number[] = [];
  private special = 0;

  /** Adds one number exactly. */
  add(value: number): void {
    if (!Number.isFinite(value)) {
      this.special += value;
      return;
    }
    const partials = this.partials;
    let x = value;
    let kept = 0;
    for (let i = 0; i < partials.length; i++) {
      let y = partials[i]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      if (!Number.isFinite(hi)) {
        // Overflow past the largest double: the sum is ±Infinity whatever else is added.
        this.special += hi;
        this.partials = [];
        return;
      }
      const lo = y - (hi - x);
      if (lo !== 0) partials[kept++] = lo;
      x = hi;
    }
    // partials[kept:] = [x], without touching the length in the common case (it stays the same).
    partials[kept] = x;
    if (partials.length !== kept + 1) partials.length = kept + 1;
  }

  /** Adds everything `other` holds, exactly. */
  addSum(other: ExactSum): void {
    for (const p of other.partials) this.add(p);
    if (other.special !== 0) this.special += other.special;
  }

  /** The sum, correctly rounded to the nearest double (ties to even), as `math.fsum`. */
  value(): number {
    if (this.special !== 0) return this.special; // ±Infinity or NaN
    const p = this.partials;
    let n = p.length;
    if (n === 0) return 0;
    n -= 1;
    let hi = p[n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      n -= 1;
      const y = p[n]!;
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    // Half-way cases: round in the direction of the remaining partials.
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }

  toJSON(): ExactSumJSON {
    return { partials: [...this.partials], special: encodeNumber(this.special) };
  }

  /** Rebuilds a sum from {@link toJSON}'s output; `what` names it in errors. */
  static fromJSON(json: unknown, what: string): ExactSum {
    if (json === null || typeof json !== 'object') throw new TypeError(`${what} must be an object`);
    const { partials, special } = json as Record<string, unknown>;
    if (!Array.isArray(partials)) throw new TypeError(`${what}.partials must be an array`);
    const sum = new ExactSum();
    partials.forEach((p, i) => {
      if (typeof p !== 'number' || !Number.isFinite(p)) throw new TypeError(`${what}.partials[${i}] must be a finite number, got ${JSON.stringify(p)}`);
    });
    // Kept as saved (not re-added), so a summary saved and loaded continues exactly as it was.
    sum.partials = partials.slice() as number[];
    sum.special = decodeNumber(special, `${what}.special`);
    return sum;
  }
}
