/**
 * The layout of `emissions.csv`: CodeCarbon 3.x's 38 columns in their order, then ours.
 *
 * This file is the contract between the tracker (which produces records), the store (which
 * writes and reads them) and the statement (which summarises them).
 */

/** CodeCarbon 3.2.x/3.3.x columns, in CodeCarbon's order. */
export const CODECARBON_COLUMNS = [
  'timestamp',
  'project_name',
  'run_id',
  'experiment_id',
  'duration',
  'emissions',
  'emissions_rate',
  'cpu_power',
  'gpu_power',
  'ram_power',
  'cpu_energy',
  'gpu_energy',
  'ram_energy',
  'energy_consumed',
  'water_consumed',
  'country_name',
  'country_iso_code',
  'region',
  'cloud_provider',
  'cloud_region',
  'os',
  'python_version',
  'codecarbon_version',
  'cpu_count',
  'cpu_model',
  'gpu_count',
  'gpu_model',
  'longitude',
  'latitude',
  'ram_total_size',
  'tracking_mode',
  'cpu_utilization_percent',
  'gpu_utilization_percent',
  'ram_utilization_percent',
  'ram_used_gb',
  'on_cloud',
  'pue',
  'wue',
] as const;

/** Our own columns, appended after CodeCarbon's. */
export const TRACKER_COLUMNS = [
  'hostname',
  'user',
  'tracker_version',
  'cpu_energy_method',
  'gpu_energy_method',
  'ram_energy_method',
  'carbon_intensity',
  'run_status',
  'wall_energy',
  'wall_energy_method',
  'wall_energy_uncertainty',
] as const;

/** Every column we write, in order. */
export const ALL_COLUMNS = [...CODECARBON_COLUMNS, ...TRACKER_COLUMNS] as const;

export type CodeCarbonColumn = (typeof CODECARBON_COLUMNS)[number];
export type TrackerColumn = (typeof TRACKER_COLUMNS)[number];
export type Column = (typeof ALL_COLUMNS)[number];

/** Columns holding numbers (parsed as numbers; empty → null). */
export const NUMERIC_COLUMNS: ReadonlySet<Column> = new Set<Column>([
  'duration',
  'emissions',
  'emissions_rate',
  'cpu_power',
  'gpu_power',
  'ram_power',
  'cpu_energy',
  'gpu_energy',
  'ram_energy',
  'energy_consumed',
  'water_consumed',
  'cpu_count',
  'gpu_count',
  'longitude',
  'latitude',
  'ram_total_size',
  'cpu_utilization_percent',
  'gpu_utilization_percent',
  'ram_utilization_percent',
  'ram_used_gb',
  'pue',
  'wue',
  'carbon_intensity',
  'wall_energy',
  'wall_energy_uncertainty',
]);

/**
 * How one component's energy was obtained.
 * - `measured:<sensor>`: read from a hardware counter (`powercap`, `msr`, `nvml-energy`,
 *   `nvml-power` = NVML power integrated over time).
 * - `estimated:<model>`: computed from a model (`tdp-load-model`, `tdp-process-share`,
 *   `dimm-model`).
 * - `none:<why>`: not counted (`no-gpu`, `nvml-unavailable`, `no-sensor`).
 */
export type EnergyMethod = `measured:${string}` | `estimated:${string}` | `none:${string}`;

/**
 * How a run ended: `completed`; `failed` (the work threw, or the command failed or crashed);
 * `interrupted` (SIGINT, SIGTERM or SIGHUP); `killed` (the process died without stopping, e.g.
 * SIGKILL, the OOM killer or a power loss: the row holds the energy up to its last checkpoint).
 */
export type RunStatus = 'completed' | 'interrupted' | 'failed' | 'killed';

/**
 * One row of `emissions.csv`, as written by `stop()` and as returned by `loadResults()`.
 * Units are CodeCarbon's: kWh, kg CO2eq, W, s, GiB. Empty numeric fields read as `null`.
 */
export interface EmissionsRecord {
  /** Local time at the end of the run, `YYYY-MM-DDTHH:MM:SS` (no zone), as CodeCarbon writes it. */
  timestamp: string;
  /** The project (for CodeCarbon-written rows: CodeCarbon's `project_name`). */
  project_name: string;
  /** UUID v4 of the run. */
  run_id: string;
  /** `<project>___<user>___<hostname>`, the Python package's key. */
  experiment_id: string;
  duration: number | null;
  emissions: number | null;
  emissions_rate: number | null;
  cpu_power: number | null;
  gpu_power: number | null;
  ram_power: number | null;
  cpu_energy: number | null;
  gpu_energy: number | null;
  ram_energy: number | null;
  energy_consumed: number | null;
  water_consumed: number | null;
  country_name: string;
  country_iso_code: string;
  region: string;
  cloud_provider: string;
  cloud_region: string;
  os: string;
  python_version: string;
  codecarbon_version: string;
  cpu_count: number | null;
  cpu_model: string;
  gpu_count: number | null;
  gpu_model: string;
  longitude: number | null;
  latitude: number | null;
  ram_total_size: number | null;
  tracking_mode: string;
  cpu_utilization_percent: number | null;
  gpu_utilization_percent: number | null;
  ram_utilization_percent: number | null;
  ram_used_gb: number | null;
  on_cloud: string;
  pue: number | null;
  wue: number | null;
  hostname: string;
  user: string;
  /** Version of lamarr-energy-tracker that wrote the row; '' for rows written by other tools. */
  tracker_version: string;
  cpu_energy_method: EnergyMethod | '';
  gpu_energy_method: EnergyMethod | '';
  ram_energy_method: EnergyMethod | '';
  /** gCO2eq/kWh used for this row. */
  carbon_intensity: number | null;
  run_status: RunStatus | '';
  /** Energy at the wall plug over the run, kWh (PUE not applied); null without ground truth. */
  wall_energy: number | null;
  /**
   * How `wall_energy` was obtained: `measured:tasmota`, `measured:shelly-gen2`,
   * `measured:shelly-gen1`, `measured:gt-server`; `none:<reason>` when ground truth was
   * configured but not obtained (`none:timeout`, `none:counter-went-backwards`, …); '' when
   * no ground truth was configured.
   */
  wall_energy_method: string;
  /** ± kWh bound on `wall_energy` (resolution, update period, timing); null without ground truth. */
  wall_energy_uncertainty: number | null;
}

/** A record read back from a file, with where it came from. */
export interface LoadedRecord extends EmissionsRecord {
  /** Absolute path of the file the row was read from. */
  source_file: string;
  /** 1-based line number of the row in that file. */
  source_line: number;
  /** Which tool wrote the row: this tracker, the Python package (experiment_id triple), or CodeCarbon. */
  written_by: 'lamarr-energy-tracker' | 'lamarr-energy-tracker-python' | 'codecarbon';
}

/** Filters shared by loadResults, deleteResults and the statement. */
export interface ResultFilters {
  /** Directory holding `emissions.csv`. Default `~/.let`. */
  outputDir?: string;
  projectName?: string;
  user?: string;
  hostname?: string;
  /** Keep rows whose timestamp is at or after this time. */
  since?: Date;
  /** Keep rows whose timestamp is before this time. */
  until?: Date;
}
