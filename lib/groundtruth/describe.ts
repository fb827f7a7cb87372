/**
 * Ground truth in words: the summary line printed at `stop()`, and the comparison of the wall
 * energy with the sensors' shared by the summary and the paper statement.
 */
import { formatEnergy } from '../format.js';
import type { EmissionsRecord } from '../store/schema.js';
import { belowResolution, type WallEnergy } from './window.js';

const JOULES_PER_KWH = 3.6e6;

/** The record fields of a run without ground truth configured. */
export const NOT_CONFIGURED: WallEnergy = { energyKwh: null, method: '', uncertaintyKwh: null, message: null };

/** What the wall figure is compared with: `the sensors` (CPU measured), `the estimates` (CPU estimated), or both. */
export function comparedFigure(measuredCpuRuns: number, estimatedCpuRuns: number): string {
  if (estimatedCpuRuns === 0) return 'the sensors';
  return measuredCpuRuns === 0 ? 'the estimates' : 'the sensors and estimates';
}

/** "31% more than the sensors", "8% less than the sensors", "as much as the sensors" (within 0.5%). */
export function comparedWithSensors(wallKwh: number, sensorsKwh: number, figure = 'the sensors'): string {
  if (!(sensorsKwh > 0)) return `while ${figure} counted nothing`;
  const percent = Math.round((wallKwh / sensorsKwh - 1) * 100);
  if (percent === 0) return `as much as ${figure}`;
  return percent > 0 ? `${percent}% more than ${figure}` : `${-percent}% less than ${figure}`;
}

/** The sensors' energy of a run without PUE (the wall plug sees the machine, not the data centre). */
export function sensorEnergyKwh(record: Pick<EmissionsRecord, 'energy_consumed' | 'pue'>): number {
  const pue = record.pue !== null && record.pue > 0 ? record.pue : 1;
  return (record.energy_consumed ?? 0) / pue;
}

/** Source names in words. */
export function sourceName(method: string): string {
  switch (method.slice(method.indexOf(':') + 1)) {
    case 'tasmota':
      return 'Tasmota plug';
    case 'shelly-gen2':
      return 'Shelly Gen2 plug';
    case 'shelly-gen1':
      return 'Shelly Gen1 plug';
    case 'gt-server':
      return 'ground-truth server';
    default:
      return method;
  }
}

/** `no ground truth: <reason>` for a `none:` method. */
export function noGroundTruthLabel(method: string): string {
  return `no ground truth: ${method.slice('none:'.length)}`;
}

/**
 * The summary's wall-plug line for a record (null when no ground truth was configured), e.g.
 * "Wall plug (Tasmota plug): 12.34 Wh ± 28.00 mWh… at the plug, 31% more than the sensors".
 */
export function wallEnergySummary(record: EmissionsRecord, message: string | null = null): string | null {
  const method = record.wall_energy_method;
  if (method === '') return null;
  if (method.startsWith('none:') || record.wall_energy === null) {
    return `Wall plug: ${noGroundTruthLabel(method.startsWith('none:') ? method : 'none:unknown')}${message ? ` (${message})` : ''}.`;
  }
  const energy = record.wall_energy;
  const uncertainty = record.wall_energy_uncertainty ?? 0;
  const figure = `${formatEnergy(energy * JOULES_PER_KWH)} ± ${formatEnergy(uncertainty * JOULES_PER_KWH)}`;
  if (belowResolution(energy, uncertainty)) {
    return `Wall plug (${sourceName(method)}): ${figure}, below the plug's resolution (the run was too short or drew too little for this plug): not compared with the sensors.`;
  }
  const estimated = record.cpu_energy_method.startsWith('estimated:');
  const compared = comparedWithSensors(energy, sensorEnergyKwh(record), comparedFigure(estimated ? 0 : 1, estimated ? 1 : 0));
  return `Wall plug (${sourceName(method)}): ${figure} at the plug, ${compared} (PUE not applied).`;
}
