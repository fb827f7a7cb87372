/**
 * A run's record, built in two steps: what is known when the run starts (project, host, system,
 * country and carbon intensity, PUE, options — none of which can change during the run) once at
 * `start()`, and what the run measured at `stop()`. Also the estimation inputs fixed at start.
 */
import { TRACKER_VERSION } from '../version.js';
import type { DomainInfo } from '../native/types.js';
import type { EmissionsRecord, RunStatus } from '../store/schema.js';
import { carbonIntensity as countryCarbonIntensity } from '../carbon/index.js';
import { lookupCpuTdp, ramDimmModel } from '../estimate/index.js';
import type { WallEnergy } from '../groundtruth/tracker-support.js';
import type { ResolvedTrackerOptions } from './options.js';
import { cpuEnergyDomains, type EstimationInputs, type RunEnergy } from './components.js';
import { ramInUse, type SystemInfo } from './system-info.js';
import { gpuModelField, localTimestamp } from './record-fields.js';

/** Joules in one kWh. */
export const JOULES_PER_KWH = 3.6e6;

const tdpCache = new Map<string, number>();

/** TDP for a CPU model, looked up once per process (matching scans the TDP table). */
function cpuTdpWatts(model: string, logicalCpus: number): number {
  const key = `${logicalCpus}\u0000${model}`;
  let watts = tdpCache.get(key);
  if (watts === undefined) {
    watts = lookupCpuTdp(model, logicalCpus).tdpWatts;
    tdpCache.set(key, watts);
  }
  return watts;
}

/** What the estimation models need, fixed for a run at its start. */
export function estimationInputs(domains: readonly DomainInfo[], system: SystemInfo): EstimationInputs {
  return {
    // The TDP table is consulted only when no CPU counter measures the run (NaN: not needed).
    cpuTdpWatts: cpuEnergyDomains(domains).length > 0 ? Number.NaN : cpuTdpWatts(system.cpuModel, system.cpuCount),
    ramModelWatts: ramDimmModel(system.ramTotalGiB, system.arch).powerWatts,
    processRamShare: 0,
  };
}

/** The fields of a record that the run's measurement fills in. */
type MeasuredField =
  | 'timestamp'
  | 'duration'
  | 'emissions'
  | 'emissions_rate'
  | 'cpu_power'
  | 'gpu_power'
  | 'ram_power'
  | 'cpu_energy'
  | 'gpu_energy'
  | 'ram_energy'
  | 'energy_consumed'
  | 'gpu_count'
  | 'gpu_model'
  | 'cpu_utilization_percent'
  | 'ram_utilization_percent'
  | 'ram_used_gb'
  | 'cpu_energy_method'
  | 'gpu_energy_method'
  | 'ram_energy_method'
  | 'run_status'
  | 'wall_energy'
  | 'wall_energy_method'
  | 'wall_energy_uncertainty';

/** The part of a run's record known at its start; {@link RunRecordTemplate.complete} adds the rest. */
export class RunRecordTemplate {
  private constructor(
    private readonly fixed: Omit<EmissionsRecord, MeasuredField>,
    private readonly startWallMs: number,
  ) {}

  /** The fixed fields of run `runId`, started at `startWallMs` (Date.now()). */
  static atStart(options: Readonly<ResolvedTrackerOptions>, system: SystemInfo, runId: string, startWallMs: number): RunRecordTemplate {
    const country = countryCarbonIntensity(options.countryIsoCode);
    const { projectName, pue } = options;
    return new RunRecordTemplate(
      {
        project_name: projectName,
        run_id: runId,
        experiment_id: `${projectName}___${system.user}___${system.hostname}`,
        water_consumed: 0,
        country_name: country.countryName,
        country_iso_code: country.isoCode,
        region: '',
        cloud_provider: '',
        cloud_region: '',
        os: system.os,
        python_version: '',
        codecarbon_version: '',
        cpu_count: system.cpuCount,
        cpu_model: system.cpuModel,
        longitude: null,
        latitude: null,
        ram_total_size: system.ramTotalGiB,
        tracking_mode: options.trackingMode,
        gpu_utilization_percent: null,
        on_cloud: 'N',
        pue,
        wue: 0,
        hostname: system.hostname,
        user: system.user,
        tracker_version: TRACKER_VERSION,
        carbon_intensity: options.carbonIntensity ?? country.gramsPerKwh,
      },
      startWallMs,
    );
  }

  /**
   * The whole record of the run: its energy over `durationS`, how it ended, the wall plug's
   * figure, and the machine's available memory at its end (bytes; null: `os.freemem()` now).
   */
  complete(energy: RunEnergy, durationS: number, status: RunStatus, wall: WallEnergy, availableMemoryBytes: number | null = null): EmissionsRecord {
    const { pue, carbon_intensity: gramsPerKwh } = this.fixed;
    const kwh = (joules: number) => (joules * (pue ?? 1)) / JOULES_PER_KWH;
    const cpuEnergy = kwh(energy.cpu.joules);
    const gpuEnergy = kwh(energy.gpu.joules);
    const ramEnergy = kwh(energy.ram.joules);
    const energyConsumed = cpuEnergy + gpuEnergy + ramEnergy;
    // As CodeCarbon: kg/kWh (g/kWh ÷ 1000) times kWh.
    const emissions = ((gramsPerKwh ?? 0) / 1000) * energyConsumed;
    const power = (joules: number) => (durationS > 0 ? (joules * (pue ?? 1)) / durationS : 0);
    const ram = ramInUse(availableMemoryBytes);
    const f = this.fixed;
    // In the schema's order (JSON output follows it).
    return {
      timestamp: localTimestamp(new Date(this.startWallMs + durationS * 1000)),
      project_name: f.project_name,
      run_id: f.run_id,
      experiment_id: f.experiment_id,
      duration: durationS,
      emissions,
      emissions_rate: durationS > 0 ? emissions / durationS : 0,
      cpu_power: power(energy.cpu.joules),
      gpu_power: power(energy.gpu.joules),
      ram_power: power(energy.ram.joules),
      cpu_energy: cpuEnergy,
      gpu_energy: gpuEnergy,
      ram_energy: ramEnergy,
      energy_consumed: energyConsumed,
      water_consumed: f.water_consumed,
      country_name: f.country_name,
      country_iso_code: f.country_iso_code,
      region: f.region,
      cloud_provider: f.cloud_provider,
      cloud_region: f.cloud_region,
      os: f.os,
      python_version: f.python_version,
      codecarbon_version: f.codecarbon_version,
      cpu_count: f.cpu_count,
      cpu_model: f.cpu_model,
      gpu_count: energy.gpuDomains.length,
      gpu_model: gpuModelField(energy.gpuDomains.map((domain) => domain.name)),
      longitude: f.longitude,
      latitude: f.latitude,
      ram_total_size: f.ram_total_size,
      tracking_mode: f.tracking_mode,
      cpu_utilization_percent: energy.cpuUtilizationPercent,
      gpu_utilization_percent: f.gpu_utilization_percent,
      ram_utilization_percent: ram.percent,
      ram_used_gb: ram.usedGiB,
      on_cloud: f.on_cloud,
      pue: f.pue,
      wue: f.wue,
      hostname: f.hostname,
      user: f.user,
      tracker_version: f.tracker_version,
      cpu_energy_method: energy.cpu.method,
      gpu_energy_method: energy.gpu.method,
      ram_energy_method: energy.ram.method,
      carbon_intensity: f.carbon_intensity,
      run_status: status,
      wall_energy: wall.energyKwh,
      wall_energy_method: wall.method,
      wall_energy_uncertainty: wall.uncertaintyKwh,
    };
  }
}
