/**
 * Calibration: from a host's runs that have both a wall-plug figure and a sensor figure, the
 * wall/sensor ratio and its spread; applied to that host's runs without a plug, it gives a
 * calibrated estimate of their wall energy. The method and its limits: docs/ground-truth.md.
 */
import type { EmissionsRecord } from '../store/schema.js';
import { sensorEnergyKwh } from './describe.js';

/** No calibration from fewer runs than this (per host). */
export const CALIBRATION_MIN_RUNS = 5;
/** Runs whose wall figure is less precise than this (uncertainty ÷ energy) do not calibrate. */
export const CALIBRATION_MAX_RELATIVE_UNCERTAINTY = 0.1;

/** The columns calibration reads. */
export type CalibrationRecord = Pick<EmissionsRecord, 'energy_consumed'> &
  Partial<Pick<EmissionsRecord, 'pue' | 'hostname' | 'wall_energy' | 'wall_energy_method' | 'wall_energy_uncertainty'>>;

/** One host's wall/sensor ratio. */
export interface HostCalibration {
  hostname: string;
  /** Runs it was computed from. */
  runs: number;
  /** Σ wall energy ÷ Σ sensor energy (PUE removed) over those runs. */
  ratio: number;
  /** Sample standard deviation of the runs' own ratios. */
  spread: number;
  /** Smallest and largest run ratio. */
  min: number;
  max: number;
}

/** Whether a record has a wall figure good enough to calibrate with (or to count as measured). */
export function hasMeasuredWall(record: CalibrationRecord): boolean {
  return typeof record.wall_energy === 'number' && Number.isFinite(record.wall_energy) && (record.wall_energy_method ?? '').startsWith('measured:');
}

function calibrates(record: CalibrationRecord): boolean {
  if (!hasMeasuredWall(record) || (record.hostname ?? '').trim() === '') return false;
  const wall = record.wall_energy!;
  const uncertainty = record.wall_energy_uncertainty ?? Infinity;
  return wall > 0 && uncertainty <= CALIBRATION_MAX_RELATIVE_UNCERTAINTY * wall && sensorEnergyKwh({ energy_consumed: record.energy_consumed, pue: record.pue ?? 1 }) > 0;
}

/** Per host: the runs that qualify, and the calibration when there are enough of them. */
export function calibrationReport(records: readonly CalibrationRecord[]): { calibrations: HostCalibration[]; tooFew: { hostname: string; runs: number }[] } {
  const byHost = new Map<string, { wall: number; sensors: number; ratios: number[] }>();
  for (const record of records) {
    if (!calibrates(record)) continue;
    const host = record.hostname!.trim();
    let entry = byHost.get(host);
    if (entry === undefined) byHost.set(host, (entry = { wall: 0, sensors: 0, ratios: [] }));
    const sensors = sensorEnergyKwh({ energy_consumed: record.energy_consumed, pue: record.pue ?? 1 });
    entry.wall += record.wall_energy!;
    entry.sensors += sensors;
    entry.ratios.push(record.wall_energy! / sensors);
  }
  const calibrations: HostCalibration[] = [];
  const tooFew: { hostname: string; runs: number }[] = [];
  for (const [hostname, entry] of [...byHost].sort(([a], [b]) => a.localeCompare(b))) {
    const n = entry.ratios.length;
    if (n < CALIBRATION_MIN_RUNS) {
      tooFew.push({ hostname, runs: n });
      continue;
    }
    const mean = entry.ratios.reduce((sum, r) => sum + r, 0) / n;
    const variance = entry.ratios.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (n - 1);
    // A loop, not Math.min(...ratios): spreading ~125k arguments overflows the stack.
    let min = Infinity;
    let max = -Infinity;
    for (const r of entry.ratios) {
      if (r < min) min = r;
      if (r > max) max = r;
    }
    calibrations.push({ hostname, runs: n, ratio: entry.wall / entry.sensors, spread: Math.sqrt(variance), min, max });
  }
  return { calibrations, tooFew };
}

/** The hosts' calibrations (only hosts with at least {@link CALIBRATION_MIN_RUNS} qualifying runs). */
export function calibrate(records: readonly CalibrationRecord[]): HostCalibration[] {
  return calibrationReport(records).calibrations;
}
