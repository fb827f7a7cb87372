/**
 * Wall energy over a run's window from two readings of a running total: the difference (never
 * a reset of the plug), corrected for the moments the readings were taken, with an honest
 * uncertainty, and with counters that went backwards reported instead of turned into
 * negative energy.
 */
import type { PlugReading, ReadingSource } from './plugs.js';

/** `wall_energy_method` values: measured by a source, `none:<reason>`, or '' when not configured. */
export type WallEnergyMethod = `measured:${ReadingSource}` | `none:${string}` | '';

/** The three record fields of a run's ground truth, and a message for people. */
export interface WallEnergy {
  /** kWh at the plug (PUE not applied), or null without ground truth. */
  energyKwh: number | null;
  method: WallEnergyMethod;
  /** ± kWh (absolute, a bound rather than a standard deviation), or null without ground truth. */
  uncertaintyKwh: number | null;
  /** Why there is no ground truth, in words (null when measured). */
  message: string | null;
}

const WATT_MS_PER_KWH = 3.6e9;

/** A run without ground truth, for `reason` (a short token such as `timeout`). */
export function noGroundTruth(reason: string, message: string): WallEnergy {
  return { energyKwh: null, method: `none:${reason}`, uncertaintyKwh: null, message };
}

/** One end of the plug's window: when it was read, and the power then. */
export interface WindowEnd {
  /** Middle of the request's round trip, epoch ms: the best guess of when the plug was read. */
  atMs: number;
  /** Half the round trip, ms: how far off that guess can be. */
  halfRoundTripMs: number;
  /** Power at the reading, W (null: unknown). */
  powerW: number | null;
}

/** Inputs of {@link windowEnergy}. */
export interface WindowInput {
  source: ReadingSource;
  /** Energy the plug counted between its two readings, kWh (may be slightly negative from rounding). */
  countedKwh: number;
  start: WindowEnd;
  stop: WindowEnd;
  /** The run's own window (the sensors'), epoch ms. */
  runStartMs: number;
  runStopMs: number;
  /** Resolution of the difference of two totals, kWh. */
  resolutionKwh: number;
  /** How often the source adds energy to its total, s. */
  updatePeriodS: number;
}

/**
 * The run's wall energy from what the plug counted between its readings:
 * - the plug's window starts and ends when it was read, not when the run did: the energy of
 *   the gaps is corrected with the power read at each end (the mean power of the window when
 *   the source gives none);
 * - the uncertainty bounds the error: the resolution of the totals, the update period (a total
 *   lags the truth by up to one period at each end, so the difference is off by up to one
 *   period of power), and the half round trips (when in its request the plug was read).
 * A difference below minus the resolution is a counter that went backwards: no ground truth.
 */
export function windowEnergy(input: WindowInput): WallEnergy {
  const { countedKwh, start, stop, resolutionKwh } = input;
  if (countedKwh < -resolutionKwh) {
    return noGroundTruth(
      'counter-went-backwards',
      `the ${input.source} total went backwards by ${formatKwh(-countedKwh)} during the run (a reboot, or someone reset the counter); no wall energy for this run`,
    );
  }
  const counted = Math.max(countedKwh, 0);
  const spanMs = Math.max(stop.atMs - start.atMs, 1);
  const meanW = (counted * WATT_MS_PER_KWH) / spanMs;
  const p0 = start.powerW ?? meanW;
  const p1 = stop.powerW ?? meanW;
  // The plug read late at the start (missed energy: add it) and late at the stop (extra: remove it).
  const correctionKwh = (p0 * (start.atMs - input.runStartMs) - p1 * (stop.atMs - input.runStopMs)) / WATT_MS_PER_KWH;
  const energyKwh = Math.max(counted + correctionKwh, 0);
  // The totals lag by up to one period at each end: bounded by the power at the ends where the
  // source reports it, else by the window's mean power.
  const peakW = start.powerW !== null && stop.powerW !== null ? Math.max(p0, p1) : Math.max(p0, p1, meanW);
  const uncertaintyKwh =
    resolutionKwh + (peakW * input.updatePeriodS * 1000) / WATT_MS_PER_KWH + (p0 * start.halfRoundTripMs + p1 * stop.halfRoundTripMs) / WATT_MS_PER_KWH;
  return { energyKwh, method: `measured:${input.source}`, uncertaintyKwh, message: null };
}

/** The window between two readings of a plug read directly. */
export function plugWindow(start: PlugReading, stop: PlugReading, runStartMs: number, runStopMs: number): WallEnergy {
  if (start.counterEpoch !== null && stop.counterEpoch !== null && start.counterEpoch !== stop.counterEpoch) {
    return noGroundTruth(
      'counter-reset',
      `the ${stop.source} counter was reset during the run (its start time went from ${start.counterEpoch} to ${stop.counterEpoch}); no wall energy for this run`,
    );
  }
  // Uptime must have grown by the time between the readings (whole seconds: 2 s of slack).
  const elapsedS = (stop.receivedAtMs - start.receivedAtMs) / 1000;
  if (start.uptimeS !== null && stop.uptimeS !== null && stop.uptimeS < start.uptimeS + elapsedS - 2) {
    return noGroundTruth('plug-rebooted', `the ${stop.source} plug rebooted during the run (uptime ${start.uptimeS} s, then ${stop.uptimeS} s); its counter restarted, no wall energy for this run`);
  }
  const end = (reading: PlugReading): WindowEnd => ({
    atMs: (reading.sentAtMs + reading.receivedAtMs) / 2,
    halfRoundTripMs: (reading.receivedAtMs - reading.sentAtMs) / 2,
    powerW: reading.powerW,
  });
  return windowEnergy({
    source: stop.source,
    countedKwh: stop.totalKwh - start.totalKwh,
    start: end(start),
    stop: end(stop),
    runStartMs,
    runStopMs,
    resolutionKwh: Math.max(start.resolutionKwh, stop.resolutionKwh),
    updatePeriodS: Math.max(start.updatePeriodS, stop.updatePeriodS),
  });
}

/** Whether a measured figure is below what the plug can resolve: smaller than twice its uncertainty. */
export function belowResolution(energyKwh: number, uncertaintyKwh: number): boolean {
  return energyKwh < 2 * uncertaintyKwh;
}

/** kWh in Wh or kWh with four significant digits, for messages. */
export function formatKwh(kwh: number): string {
  return Math.abs(kwh) >= 1 ? `${kwh.toPrecision(4)} kWh` : `${(kwh * 1000).toPrecision(4)} Wh`;
}
