/** Human-readable units for energy, power and time, shared by summaries, `probe` and the live view. */

/** Energy in the unit a person reads best: J below 3.6 kJ (1 Wh), Wh below 1 kWh, else kWh. */
export function formatEnergy(joules: number): string {
  const abs = Math.abs(joules);
  if (abs < 3600) return `${trim(joules)} J`;
  if (abs < 3.6e6) return `${trim(joules / 3600)} Wh`;
  return `${trim(joules / 3.6e6)} kWh`;
}

/** Power in W (mW below 1 W). */
export function formatPower(watts: number): string {
  return Math.abs(watts) < 1 ? `${trim(watts * 1000)} mW` : `${trim(watts)} W`;
}

/** Duration as `1h02m03s`, `2m03.4s` or `3.210 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(3)} s`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds - hours * 3600 - minutes * 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m${String(Math.floor(rest)).padStart(2, '0')}s`;
  return `${minutes}m${rest.toFixed(1).padStart(4, '0')}s`;
}

/** Four significant digits, without exponent for everyday magnitudes. */
function trim(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(1);
  return value.toPrecision(4);
}

/**
 * `value` with `digits` decimals, exactly as Python's `'%.<digits>f' % value` prints it:
 * correctly rounded from the exact binary value, and an exact tie rounded to the even digit
 * (0.5625 → "0.562", where `toFixed` gives "0.563"). A tie at `digits` decimals is a double
 * that is an odd multiple of 2^-(digits+1), so only those values need more than `toFixed`.
 */
export function formatFixed(value: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) throw new RangeError(`digits must be an integer 0–20, got ${digits}`);
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan';
  const scaled = Math.abs(value) * 2 ** (digits + 1); // exact: a power-of-two scale
  if (!Number.isInteger(scaled) || scaled % 2 === 0 || !Number.isSafeInteger(scaled)) {
    const text = value.toFixed(digits);
    return Object.is(value, -0) || (value < 0 && /^-0\.?0*$/.test(text)) ? text.replace(/^(?!-)/, '-') : text;
  }
  // An exact tie: |value| × 10^digits = n + 0.5, with n below 2^53 here.
  const n = Math.floor((scaled - 1) / 2) * 5 ** digits + (5 ** digits - 1) / 2;
  const even = n % 2 === 0 ? n : n + 1;
  const text = (even / 10 ** digits).toFixed(digits);
  return value < 0 ? `-${text}` : text;
}
