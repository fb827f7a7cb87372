import type { StatementRecord } from '../../lib/statement/index.js';

/** A row as the tracker writes it: 0.1 kWh at Germany's 380.95 g/kWh on an i7 laptop, measured with RAPL. */
export function row(overrides: Partial<StatementRecord> = {}): StatementRecord {
  const energy = overrides.energy_consumed ?? 0.1;
  const intensity = overrides.carbon_intensity ?? 380.95;
  return {
    energy_consumed: energy,
    emissions: energy === null || intensity === null ? null : (energy * intensity) / 1000,
    cpu_model: 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz',
    gpu_count: 0,
    gpu_model: '',
    codecarbon_version: '',
    tracker_version: '0.1.0',
    cpu_energy_method: 'measured:powercap',
    gpu_energy_method: 'none:no-gpu',
    ram_energy_method: 'estimated:dimm-model',
    carbon_intensity: intensity,
    country_iso_code: 'DEU',
    written_by: 'lamarr-energy-tracker',
    ...overrides,
  };
}

/** A row written by CodeCarbon itself. */
export function codecarbonRow(overrides: Partial<StatementRecord> = {}): StatementRecord {
  return row({
    tracker_version: '',
    codecarbon_version: '3.0.8',
    cpu_energy_method: '',
    gpu_energy_method: '',
    ram_energy_method: '',
    carbon_intensity: null,
    emissions: ((overrides.energy_consumed ?? 0.1) ?? 0) * 0.38095,
    written_by: 'codecarbon',
    ...overrides,
  });
}

/** The sentence after "Using …," up to "is estimated": what the statement says the runs ran on. */
export function hardwareOf(text: string): string {
  const match = /running all experiments on (.*) is estimated to/.exec(text);
  if (match === null) throw new Error(`no hardware in ${text}`);
  return match[1]!;
}
