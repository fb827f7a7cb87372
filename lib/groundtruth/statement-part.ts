/**
 * The wall-plug part of the paper statement (pure). It continues the energy sentence:
 *
 * - every run measured ("the sensors"; "the estimates" where the CPU was estimated):
 *   "…is estimated to 0.139 kWh; a wall-plug meter measured 0.182 kWh,
 *   31% more than the sensors."
 * - some runs measured: "…; a wall-plug meter measured 0.120 kWh for 3 of the 5 runs, 31% more
 *   than the sensors for those runs."
 * - a figure less precise than ±5% says so: "0.182 kWh (±12%)"; one below the plug's resolution
 *   is not compared: "a wall-plug meter measured 0.282 Wh, below its resolution (±0.300 Wh)".
 * - calibrated (`--calibrated`): "…, and with the wall/sensor ratio measured on this host
 *   (1.31 ± 0.04 from 8 runs), all 5 runs come to a calibrated estimate of 0.182 kWh at the
 *   wall." (without measured runs: "…; with the wall/sensor ratio measured on this host (…),
 *   this comes to a calibrated estimate of …").
 */
import type { EmissionsRecord } from '../store/schema.js';
import { calibrate, hasMeasuredWall, type CalibrationRecord, type HostCalibration } from './calibration.js';
import { comparedFigure, comparedWithSensors, sensorEnergyKwh } from './describe.js';
import { belowResolution } from './window.js';

/** The columns the wall-plug part reads. */
export type WallStatementRecord = Pick<EmissionsRecord, 'energy_consumed'> & CalibrationRecord & Partial<Pick<EmissionsRecord, 'cpu_energy_method'>>;

/** Options of {@link wallPlugPart}. */
export interface WallPlugOptions {
  /** Apply host calibrations to runs without a plug. Default false. */
  calibrated?: boolean;
  /** The calibrations to apply (default: computed from the records given). */
  calibrations?: readonly HostCalibration[];
}

/** The numbers behind the wall-plug part (the statement's JSON `wallPlug`). */
export interface WallPlugSummary {
  /** Runs with a measured wall figure, of all runs. */
  measuredRuns: number;
  runs: number;
  /** Σ measured wall energy, kWh, and its ± bound (the sum of the runs' bounds). */
  measuredKwh: number;
  uncertaintyKwh: number;
  /** Σ sensor energy (PUE removed) of the measured runs, kWh. */
  sensorsKwh: number;
  belowResolution: boolean;
  /** With `calibrated`: runs given a calibrated estimate, the calibrations used, and the wall total (measured + calibrated) of the runs covered. */
  calibratedRuns: number;
  calibrations: HostCalibration[];
  calibratedTotalKwh: number | null;
  /** The text continuing the energy sentence (starts with "; "), without the final period. */
  text: string;
}

function ratioText(calibrations: readonly HostCalibration[]): string {
  if (calibrations.length === 1) {
    const c = calibrations[0]!;
    return `the wall/sensor ratio measured on this host (${c.ratio.toFixed(2)} ± ${c.spread.toFixed(2)} from ${c.runs} runs)`;
  }
  return `the wall/sensor ratios measured on their ${calibrations.length} hosts (${calibrations
    .map((c) => `${c.ratio.toFixed(2)} ± ${c.spread.toFixed(2)} from ${c.runs} runs`)
    .join('; ')})`;
}

/** What the wall-plug part is made of: counts, and sums in the order of the rows. */
export interface WallPlugFacts {
  runs: number;
  /** Runs with a measured wall figure, and how many of them had their CPU estimated. */
  measuredRuns: number;
  estimatedCpuRuns: number;
  /** Σ wall energy, Σ its ± bounds, Σ sensor energy (PUE removed) of the measured runs, kWh. */
  measuredKwh: number;
  uncertaintyKwh: number;
  sensorsKwh: number;
  /** With `calibrated`: runs given a calibrated estimate, Σ of those estimates, the calibrations used. */
  calibratedRuns: number;
  calibratedKwh: number;
  calibrations: HostCalibration[];
}

/** One run's measured wall figure as the part adds it up, or null when it has none. */
export interface MeasuredWall {
  wallKwh: number;
  uncertaintyKwh: number;
  sensorsKwh: number;
  estimatedCpu: boolean;
}

/** The wall-plug figures of one run (null without a measured wall figure). */
export function measuredWall(record: WallStatementRecord): MeasuredWall | null {
  if (!hasMeasuredWall(record)) return null;
  return {
    wallKwh: record.wall_energy!,
    uncertaintyKwh: record.wall_energy_uncertainty ?? 0,
    sensorsKwh: sensorEnergyKwh({ energy_consumed: record.energy_consumed, pue: record.pue ?? 1 }),
    estimatedCpu: (record.cpu_energy_method ?? '').startsWith('estimated:'),
  };
}

/** The facts of the wall-plug part over `records` (in their order). */
export function wallPlugFacts(records: readonly WallStatementRecord[], options: WallPlugOptions): WallPlugFacts {
  const facts: WallPlugFacts = { runs: records.length, measuredRuns: 0, estimatedCpuRuns: 0, measuredKwh: 0, uncertaintyKwh: 0, sensorsKwh: 0, calibratedRuns: 0, calibratedKwh: 0, calibrations: [] };
  const byHost = new Map<string, HostCalibration>();
  if (options.calibrated === true) {
    for (const c of options.calibrations ?? calibrate(records)) byHost.set(c.hostname, c);
  }
  const used = new Map<string, HostCalibration>();
  for (const record of records) {
    const measured = measuredWall(record);
    if (measured !== null) {
      facts.measuredRuns += 1;
      facts.measuredKwh += measured.wallKwh;
      facts.uncertaintyKwh += measured.uncertaintyKwh;
      facts.sensorsKwh += measured.sensorsKwh;
      if (measured.estimatedCpu) facts.estimatedCpuRuns += 1;
      continue;
    }
    const calibration = byHost.get((record.hostname ?? '').trim());
    if (calibration !== undefined) {
      facts.calibratedRuns += 1;
      facts.calibratedKwh += calibration.ratio * sensorEnergyKwh({ energy_consumed: record.energy_consumed, pue: record.pue ?? 1 });
      used.set(calibration.hostname, calibration);
    }
  }
  facts.calibrations = [...used.values()];
  return facts;
}

/**
 * The wall-plug part for `records`, or null when no run has a wall figure (and, calibrated,
 * none could be estimated). `energyText` prints an energy as the statement does; `percent` is
 * the percent sign of the output format (`\%` in LaTeX).
 */
export function wallPlugPart(
  records: readonly WallStatementRecord[],
  options: WallPlugOptions,
  energyText: (kwh: number) => string,
  percent = '%',
): WallPlugSummary | null {
  return wallPlugFromFacts(wallPlugFacts(records, options), energyText, percent);
}

/** The wall-plug part from its facts (see {@link wallPlugPart}). */
export function wallPlugFromFacts(facts: WallPlugFacts, energyText: (kwh: number) => string, percent = '%'): WallPlugSummary | null {
  const { runs, measuredRuns, estimatedCpuRuns, measuredKwh, uncertaintyKwh, sensorsKwh, calibratedRuns, calibratedKwh } = facts;
  if (measuredRuns === 0 && calibratedRuns === 0) return null;
  const parts: string[] = [];
  const below = measuredRuns > 0 && belowResolution(measuredKwh, uncertaintyKwh);
  if (measuredRuns > 0) {
    const relative = measuredKwh > 0 ? uncertaintyKwh / measuredKwh : Infinity;
    const precision = !below && relative > 0.05 ? ` (±${Math.round(relative * 100)}${percent})` : '';
    const which = measuredRuns === runs ? '' : ` for ${measuredRuns} of the ${runs} runs`;
    if (below) {
      parts.push(`a wall-plug meter measured ${energyText(measuredKwh)}${which}, below its resolution (±${energyText(uncertaintyKwh)})`);
    } else {
      const figure = comparedFigure(measuredRuns - estimatedCpuRuns, estimatedCpuRuns);
      const compared = comparedWithSensors(measuredKwh, sensorsKwh, figure).replace('%', percent);
      parts.push(`a wall-plug meter measured ${energyText(measuredKwh)}${precision}${which}, ${compared}${which === '' ? '' : ' for those runs'}`);
    }
  }
  let calibratedTotalKwh: number | null = null;
  if (calibratedRuns > 0) {
    calibratedTotalKwh = measuredKwh + calibratedKwh;
    const covered = measuredRuns + calibratedRuns;
    const subject = measuredRuns === 0 && covered === runs ? 'this comes' : `${covered === runs ? 'all' : `${covered} of the`} ${runs} runs come`;
    parts.push(`${measuredRuns > 0 ? 'and ' : ''}with ${ratioText(facts.calibrations)}, ${subject} to a calibrated estimate of ${energyText(calibratedTotalKwh)} at the wall`);
  }
  return {
    measuredRuns,
    runs,
    measuredKwh,
    uncertaintyKwh,
    sensorsKwh,
    belowResolution: below,
    calibratedRuns,
    calibrations: [...facts.calibrations],
    calibratedTotalKwh,
    text: `; ${parts.join(', ')}`,
  };
}
