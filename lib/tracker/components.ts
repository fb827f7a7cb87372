/**
 * Turns two readings of the sampler (start and stop of a run) into the energy of each
 * component (CPU, GPU, RAM), each labelled with how it was obtained. Pure functions: the
 * tracker, `measureEnergy` and the tests share them.
 */
import type { CpuTimesUse, DomainInfo, Reading, UnavailableSensor } from '../native/types.js';
import { summedDomainIndices } from '../native/domains.js';
import { cpuTimesDelta, estimateCpuEnergyJ, machineLoadFraction } from '../estimate/index.js';
import type { EnergyMethod } from '../store/schema.js';
import type { TrackingMode } from './options.js';

/**
 * The method detail that marks a CPU estimate whose CPU times came from `os.cpus()` and
 * `process.cpuUsage()` because /proc/stat was missing (`estimated:tdp-load-model+os-cpus`).
 */
export const OS_CPUS = 'os-cpus';

/** Words appended to an estimate whose CPU times came from os.cpus(): see {@link OS_CPUS}. */
export const OS_CPUS_WORDS = 'CPU times from os.cpus() and process.cpuUsage(), as /proc/stat was missing';

/** Energy of one component over a run. */
export interface ComponentEnergy {
  /** Joules (before PUE). */
  joules: number;
  /** How it was obtained, as stored in the `*_energy_method` column. */
  method: EnergyMethod;
}

/** What the estimation models need when a counter is missing. */
export interface EstimationInputs {
  /** CPU TDP in W (from the TDP table or CodeCarbon's per-thread default). */
  cpuTdpWatts: number;
  /** RAM power from the DIMM model, W. */
  ramModelWatts: number;
  /** Share of the machine's RAM used by the attributed process (process mode), 0–1. */
  processRamShare: number;
}

/** Energy of the components of one run. */
export interface RunEnergy {
  cpu: ComponentEnergy;
  gpu: ComponentEnergy;
  ram: ComponentEnergy;
  /** GPU domains that contributed (for gpu_count/gpu_model). */
  gpuDomains: DomainInfo[];
  /** Machine CPU busy share over the run in percent, null when unknown. */
  cpuUtilizationPercent: number | null;
}

/**
 * CPU domains whose energy is the CPU's: the CPU's summed domains (top-level packages and dies;
 * psys only when no package exists), by the one rule in {@link summedDomainIndices}.
 */
export function cpuEnergyDomains(domains: readonly DomainInfo[]): number[] {
  return summedDomainIndices(domains, 'cpu');
}

/** DRAM domains (one per socket; never de-duplicated by name). */
export function ramEnergyDomains(domains: readonly DomainInfo[]): number[] {
  return domains
    .map((domain, index) => ({ domain, index }))
    .filter(({ domain }) => domain.device === 'cpu' && domain.kind === 'dram')
    .map(({ index }) => index);
}

/** GPU domains. */
export function gpuEnergyDomains(domains: readonly DomainInfo[]): number[] {
  return domains
    .map((domain, index) => ({ domain, index }))
    .filter(({ domain }) => domain.device === 'gpu')
    .map(({ index }) => index);
}

function sumDelta(indices: number[], start: number[], end: number[]): number {
  let microjoules = 0;
  for (const index of indices) microjoules += (end[index] ?? 0) - (start[index] ?? 0);
  return microjoules / 1e6;
}

/** The sensor methods of some domains, as stored after `measured:` (`powercap`, `msr+powercap`). */
export function methodOf(domains: readonly DomainInfo[], indices: readonly number[]): string {
  return [...new Set(indices.map((index) => domains[index]!.method))].sort().join('+');
}

/** Which domains make up each component, and the `measured:` method of each (where measured). */
interface ComponentDomains {
  cpuIndices: number[];
  ramIndices: number[];
  gpuIndices: number[];
  methods: { cpu: EnergyMethod; ram: EnergyMethod; gpu: EnergyMethod };
}

/** Per domains array (a sampler's `domains`, which never changes): found once, not per run. */
const componentDomains = new WeakMap<readonly DomainInfo[], ComponentDomains>();

function componentsOf(domains: readonly DomainInfo[]): ComponentDomains {
  let found = componentDomains.get(domains);
  if (found === undefined) {
    const cpuIndices = cpuEnergyDomains(domains);
    const ramIndices = ramEnergyDomains(domains);
    const gpuIndices = gpuEnergyDomains(domains);
    const measured = (indices: number[]) => `measured:${methodOf(domains, indices)}` as EnergyMethod;
    found = { cpuIndices, ramIndices, gpuIndices, methods: { cpu: measured(cpuIndices), ram: measured(ramIndices), gpu: measured(gpuIndices) } };
    componentDomains.set(domains, found);
  }
  return found;
}

/**
 * Energy per component between `start` and `end`.
 * - CPU: RAPL packages when present (process mode: the attributed share), else the TDP model.
 * - RAM: RAPL DRAM domains when present, else the DIMM model over the run's duration.
 * - GPU: NVML domains; no GPU is `none:no-gpu`, an NVML that exists but failed is `none:nvml-unavailable`.
 */
export function runEnergy(input: {
  domains: readonly DomainInfo[];
  unavailable: readonly UnavailableSensor[];
  start: Reading;
  end: Reading;
  durationS: number;
  mode: TrackingMode;
  estimation: EstimationInputs;
}): RunEnergy {
  const { domains, start, end, mode, estimation, durationS } = input;
  const counters = (index: number[]) =>
    mode === 'process' ? sumDelta(index, start.attributedUj, end.attributedUj) : sumDelta(index, start.energyUj, end.energyUj);
  const { cpuIndices, ramIndices, gpuIndices, methods } = componentsOf(domains);

  let cpu: ComponentEnergy;
  if (cpuIndices.length > 0) {
    cpu = { joules: counters(cpuIndices), method: methods.cpu };
  } else {
    // CPU times from os.cpus()/process.cpuUsage() (no /proc/stat) say so: `+os-cpus`.
    const origin = start.cpu.origin === 'os-cpus' || end.cpu.origin === 'os-cpus' ? `+${OS_CPUS}` : '';
    cpu = {
      joules: estimateCpuEnergyJ(mode, estimation.cpuTdpWatts, start.cpu, end.cpu),
      method: mode === 'process' ? `estimated:tdp-process-share${origin}` : `estimated:tdp-load-model${origin}`,
    };
  }

  let ram: ComponentEnergy;
  if (ramIndices.length > 0) {
    ram = { joules: counters(ramIndices), method: methods.ram };
  } else if (mode === 'process') {
    ram = {
      joules: estimation.ramModelWatts * durationS * Math.min(1, Math.max(0, estimation.processRamShare)),
      method: 'estimated:dimm-model-rss-share',
    };
  } else {
    ram = { joules: estimation.ramModelWatts * durationS, method: 'estimated:dimm-model' };
  }

  let gpu: ComponentEnergy;
  if (gpuIndices.length > 0) {
    // GPU energy is never attributed to a process: NVML gives whole-device energy.
    gpu = { joules: sumDelta(gpuIndices, start.energyUj, end.energyUj), method: methods.gpu };
  } else if (input.unavailable.some((sensor) => sensor.method === 'nvml')) {
    gpu = { joules: 0, method: 'none:nvml-unavailable' };
  } else {
    gpu = { joules: 0, method: 'none:no-gpu' };
  }

  const cpuTimes = cpuTimesDelta(start.cpu, end.cpu);
  const cpuUtilizationPercent = cpuTimes.available && cpuTimes.machineTotalS > 0 ? 100 * machineLoadFraction(cpuTimes) : null;

  return { cpu, gpu, ram, gpuDomains: gpuIndices.map((index) => domains[index]!), cpuUtilizationPercent };
}

/**
 * Which CPU times a run needs the sampling thread to read on each tick (the one place that
 * decides it; start and stop readings always have both):
 * - machine mode with a CPU counter: none (the counters are the measurement);
 * - machine mode without one: the machine's (the load model integrates each interval's load);
 * - process mode with a CPU or RAM counter: both (the counters' energy is attributed per
 *   interval by the process's share of CPU time);
 * - process mode without counters: the estimate needs only start and stop, so nothing, unless a
 *   live view shows the power as it goes (then the process's).
 */
export function cpuTimesUse(domains: readonly DomainInfo[], mode: TrackingMode, live: boolean): CpuTimesUse {
  const cpuMeasured = cpuEnergyDomains(domains).length > 0;
  if (mode === 'machine') return { machine: !cpuMeasured, process: false };
  if (cpuMeasured || ramEnergyDomains(domains).length > 0) return { machine: true, process: true };
  return { machine: false, process: live };
}

/** Words for a method, as used in summaries, `probe` and statements. */
export function describeMethod(method: string): string {
  const [kind, detail = ''] = method.split(':', 2) as [string, string | undefined];
  const sensors: Record<string, string> = {
    powercap: 'RAPL (Linux powercap)',
    msr: 'RAPL (MSR)',
    'nvml-energy': "NVML's energy counter",
    'nvml-power': 'NVML power readings integrated over time',
    'tdp-load-model': "the CPU's TDP and load",
    'tdp-process-share': "the CPU's TDP and this process's CPU time",
    'dimm-model': 'a DIMM power model',
    'dimm-model-rss-share': "a DIMM power model and this process's memory share",
    'no-gpu': 'no GPU found',
    'nvml-unavailable': 'NVML could not be used',
    'no-sensor': 'no sensor',
  };
  const parts = detail.split('+');
  const words = parts
    .filter((part) => part !== OS_CPUS)
    .map((part) => sensors[part] ?? part)
    .join(' and ');
  if (kind === 'measured') return `measured with ${words}`;
  if (kind === 'estimated') return `estimated from ${words}${parts.includes(OS_CPUS) ? ` (${OS_CPUS_WORDS})` : ''}`;
  return `not counted (${words})`;
}
