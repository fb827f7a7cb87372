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
