/**
 * The live view: one line on a terminal, rewritten in place about twice a second, with the
 * elapsed time, the current power per component and the energy so far:
 *
 *     ⚡ 0:01:23  cpu 45.2 W  gpu 210.4 W  ram 3.1 W  │  12.35 kJ  cpu 3.21 kJ  gpu 9.04 kJ  ram 102.4 J
 *
 * Nothing at all is written when the stream is not a terminal (a pipe, a file, CI logs), so
 * it is safe to leave on. The line is erased (`\r` + clear-line) before each redraw and on
 * stop, so a summary printed afterwards starts on a clean line.
 */

/** What the live line shows; `EnergyTracker.snapshot()` returns one. */
/** The sampling interval a live view needs at most, ms: it shows power per interval, redrawn about twice a second. */
export const LIVE_SAMPLING_INTERVAL_MS = 250;

export interface LiveSnapshot {
  /** Seconds since the start. */
  elapsedS: number;
  /** Energy so far per component (`cpu`, `gpu`, `ram`, …), J. */
  energyJ: Readonly<Record<string, number>>;
  /** Current power per component, W. */
  powerW: Readonly<Record<string, number>>;
}

/** Where the line goes: `process.stdout` or anything shaped like it. */
export interface LiveOutput {
  /** Whether the stream is a terminal; the line is shown only when true. */
  readonly isTTY?: boolean;
  /** Terminal width; the line is cut to fit. */
  readonly columns?: number;
  /** Write a chunk. */
  write(chunk: string): unknown;
}

/** Options of {@link LiveLine}. */
export interface LiveLineOptions {
  /** Output stream. Default `process.stdout`. */
  stream?: LiveOutput;
  /** Refresh interval, ms. Default 500 (twice a second). */
  intervalMs?: number;
}

/** `\r` then ANSI "erase entire line". */
export const CLEAR_LINE = '\r\x1b[2K';

const ORDER = ['cpu', 'gpu', 'ram'];

function components(s: LiveSnapshot): string[] {
  const names = new Set<string>([...Object.keys(s.powerW), ...Object.keys(s.energyJ)]);
  const sorted = [...names].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia === -1 ? ORDER.length : ia) - (ib === -1 ? ORDER.length : ib) || a.localeCompare(b);
  });
  // Hide components that show nothing (no GPU: 0 W and 0 J), but always keep the first.
  return sorted.filter((name, i) => i === 0 || (s.powerW[name] ?? 0) !== 0 || (s.energyJ[name] ?? 0) !== 0);
}

/** Elapsed time as `m:ss` under an hour, `h:mm:ss` above. */
export function formatElapsed(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** Power with one decimal (W, kW above 10 kW). */
export function formatWatts(watts: number): string {
  if (!Number.isFinite(watts)) return '– W';
  return Math.abs(watts) >= 10000 ? `${(watts / 1000).toFixed(2)} kW` : `${watts.toFixed(1)} W`;
}

/** Energy with four significant digits: J, kJ, MJ (kWh above 3.6 MJ). */
export function formatJoules(joules: number): string {
  if (!Number.isFinite(joules)) return '– J';
  const a = Math.abs(joules);
  if (a >= 3.6e6) return `${(joules / 3.6e6).toPrecision(4)} kWh`;
  if (a >= 1e6) return `${(joules / 1e6).toPrecision(4)} MJ`;
  if (a >= 1e3) return `${(joules / 1e3).toPrecision(4)} kJ`;
  return `${joules.toPrecision(4)} J`;
}

/**
 * The text of the live line (without control characters), cut to `columns − 1` characters
 * when a width is given.
 */
export function formatLiveLine(s: LiveSnapshot, columns?: number): string {
  const names = components(s);
  const power = names.map((n) => `${n} ${formatWatts(s.powerW[n] ?? 0)}`).join('  ');
  let totalJ = 0;
  for (const n of names) totalJ += s.energyJ[n] ?? 0;
  const energy = names.length > 1 ? `${formatJoules(totalJ)}  ${names.map((n) => `${n} ${formatJoules(s.energyJ[n] ?? 0)}`).join('  ')}` : formatJoules(totalJ);
  const line = `⚡ ${formatElapsed(s.elapsedS)}  ${power}  │  ${energy}`;
  if (columns !== undefined && columns > 1 && line.length > columns - 1) return line.slice(0, columns - 1);
  return line;
}

/**
 * A single updating line on a terminal. `start()` draws at once and then every `intervalMs`;
 * `stop()` erases the line. On a stream that is not a terminal it does nothing.
 *
 * @example
 * const live = new LiveLine(() => tracker.snapshot()).start();
 * // …
 * live.stop();
 */
export class LiveLine {
  /** Whether the line is shown (the stream is a terminal). */
  readonly enabled: boolean;
  private readonly stream: LiveOutput;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;

  /** @param snapshot called at each refresh; an exception skips that refresh. */
  constructor(
    private readonly snapshot: () => LiveSnapshot,
    options: LiveLineOptions = {},
  ) {
    this.stream = options.stream ?? process.stdout;
    this.intervalMs = options.intervalMs ?? 500;
    if (!(this.intervalMs > 0)) throw new RangeError(`LiveLine: intervalMs must be > 0, got ${this.intervalMs}`);
    this.enabled = this.stream.isTTY === true;
  }

  /** Whether the refresh timer is running. */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Start refreshing (draws immediately). Idempotent. */
  start(): this {
    if (!this.enabled || this.timer !== null) return this;
    this.render();
    this.timer = setInterval(() => this.render(), this.intervalMs);
    this.timer.unref(); // never keeps the process alive
    return this;
  }

  /** Redraw now. */
  render(): void {
    if (!this.enabled) return;
    let text: string;
    try {
      text = formatLiveLine(this.snapshot(), this.stream.columns);
    } catch {
      return; // a failed snapshot (tracker stopping) skips one refresh
    }
    this.stream.write(CLEAR_LINE + text);
    this.drawn = true;
  }

  /** Stop refreshing and erase the line. Idempotent. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.stream.write(CLEAR_LINE);
    this.drawn = false;
  }
}
