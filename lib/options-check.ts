/** The check every public function applies to its options object, as `new EnergyTracker()` does. */

/**
 * Throw a TypeError naming `where`, when `options` is not a plain object (undefined is fine) or
 * has a key not in `known` (a mistyped option must not be ignored silently).
 */
export function rejectUnknownOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option ${key}; valid options are ${known.join(', ')}`);
  }
}
