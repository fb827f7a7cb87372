/**
 * What this machine can measure, what is estimated, and why: the data behind
 * `lamarr-energy-tracker probe` (text and `--json`).
 */
import type { DomainInfo, ProbeResult, Reading, UnavailableSensor } from '../native/types.js';
import { tryLoadNativeBinding } from '../native/loader.js';
import { probe as probeSensors } from '../native/probe.js';
import { lookupCpuTdp, ramDimmModel } from '../estimate/index.js';
import { cpuEnergyDomains, describeMethod, gpuEnergyDomains, ramEnergyDomains, runEnergy } from '../tracker/components.js';
import { systemInfo } from '../tracker/system-info.js';
import { TRACKER_VERSION } from '../version.js';
import type { EnergyMethod } from '../store/schema.js';

/** How one component will be obtained on this machine. */
export interface ComponentPlan {
  method: EnergyMethod;
  /** The method in words ("measured with RAPL (Linux powercap)", "estimated from the CPU's TDP and load"). */
  description: string;
  /** Domains read for it (measured), or the model's figures (estimated). */
  details: string[];
}

/** The whole report. */
export interface MachineReport {
  trackerVersion: string;
  /** Whether the native addon loaded; when not, why and how to fix it. */
  native: { loaded: true; platform: 'linux' | 'stub' } | { loaded: false; error: string };
  hardwareRoot: string | null;
  cpuModel: string;
  cpuVendor: string;
  logicalCpus: number;
  ramTotalGiB: number;
  cpu: ComponentPlan;
  ram: ComponentPlan;
  gpu: ComponentPlan;
  /** Every sensor found. */
  sensors: DomainInfo[];
  /** Sensors that exist but cannot be read, with reason and fix. */
  unavailable: UnavailableSensor[];
  nvml: { loaded: boolean; driverVersion: string };
}

function domainLine(domain: DomainInfo): string {
  const range = domain.wrapRangeUj > 0 ? `, wraps at ${(domain.wrapRangeUj / 1e6).toFixed(0)} J` : '';
  const where = domain.device === 'gpu' ? `GPU ${domain.index}${domain.uuid ? ` ${domain.uuid}` : ''}` : `package ${domain.index}`;
  return `${domain.name} (${where}; ${domain.method}; resolution ${domain.resolutionUj.toPrecision(4)} µJ${range}; ${domain.source})`;
}

/** Probe the machine (or a simulated hardware root) and describe what a tracker will do. */
export function machineReport(options: { hardwareRoot?: string; nvmlLibrary?: string } = {}): MachineReport {
  const loaded = tryLoadNativeBinding();
  let result: ProbeResult | null = null;
  if (loaded.binding !== null) result = probeSensors(options);
  const system = systemInfo(result?.cpuModel ?? '');
  const domains = result?.domains ?? [];
  const unavailable = result?.unavailable ?? [];

  const tdp = lookupCpuTdp(system.cpuModel, system.cpuCount);
  const dimm = ramDimmModel(system.ramTotalGiB, system.arch);
  // The tracker's own decision of what is measured and what is estimated, on an empty window.
  const idle: Reading = {
    timestampNs: 0,
    energyUj: domains.map(() => 0),
    attributedUj: domains.map(() => 0),
    cpu: { available: false, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: 0, logicalCpus: 0 },
  };
  const methods = runEnergy({
    domains,
    unavailable,
    start: idle,
    end: idle,
    durationS: 0,
    mode: 'machine',
    estimation: { cpuTdpWatts: tdp.tdpWatts, ramModelWatts: dimm.powerWatts, processRamShare: 0 },
  });
  const plan = (method: EnergyMethod, indices: number[], estimateDetails: string[]): ComponentPlan => ({
    method,
    description: describeMethod(method),
    details: method.startsWith('measured:') ? indices.map((index) => domainLine(domains[index]!)) : estimateDetails,
  });
  const cpu = plan(methods.cpu.method, cpuEnergyDomains(domains), [
    tdp.source === 'table'
      ? `TDP ${tdp.tdpWatts} W from CodeCarbon's table (matched "${tdp.matchedName}")`
      : `TDP ${tdp.tdpWatts} W: CPU model not in CodeCarbon's table, 4 W per logical CPU as CodeCarbon assumes`,
    'power = TDP × (0.1 + 0.9 × load³), load measured per sampling interval',
  ]);
  const ram = plan(methods.ram.method, ramEnergyDomains(domains), [
    `${system.ramTotalGiB.toFixed(1)} GiB as ${dimm.dimmCount} DIMM(s): ${dimm.powerWatts} W (CodeCarbon 3.x model)`,
  ]);
  const gpu = plan(methods.gpu.method, gpuEnergyDomains(domains), []);

  return {
    trackerVersion: TRACKER_VERSION,
    native: loaded.binding !== null ? { loaded: true, platform: loaded.binding.platform } : { loaded: false, error: loaded.error.message },
    hardwareRoot: result?.hardwareRoot ?? options.hardwareRoot ?? null,
    cpuModel: system.cpuModel,
    cpuVendor: result?.cpuVendor ?? '',
    logicalCpus: system.cpuCount,
    ramTotalGiB: system.ramTotalGiB,
    cpu,
    ram,
    gpu,
    sensors: domains,
    unavailable,
    nvml: { loaded: result?.nvmlLoaded ?? false, driverVersion: result?.nvmlDriverVersion ?? '' },
  };
}

/** The report in words, for a terminal. */
export function formatMachineReport(report: MachineReport): string {
  const lines: string[] = [];
  lines.push(`lamarr-energy-tracker ${report.trackerVersion} on ${report.cpuModel || 'an unknown CPU'} (${report.logicalCpus} logical CPUs, ${report.ramTotalGiB.toFixed(1)} GiB RAM)`);
  if (report.hardwareRoot && report.hardwareRoot !== '/') lines.push(`Hardware root: ${report.hardwareRoot} (simulated hardware)`);
  if (!report.native.loaded) {
    lines.push('', 'Native sampler: NOT LOADED — no hardware counter can be read, everything below is estimated.');
    lines.push(...report.native.error.split('\n').map((line) => `  ${line}`));
  }
  const component = (label: string, plan: ComponentPlan) => {
    lines.push('', `${label}: ${plan.description}`);
    for (const detail of plan.details) lines.push(`  - ${detail}`);
  };
  component('CPU', report.cpu);
  component('RAM', report.ram);
  component('GPU', report.gpu);
  if (report.unavailable.length > 0) {
    lines.push('', 'Sensors found but not readable:');
    for (const sensor of report.unavailable) {
      lines.push(`  - ${sensor.method} ${sensor.target}: ${sensor.reason}`);
      if (sensor.fix) lines.push(`    fix: ${sensor.fix}`);
    }
  } else if (report.sensors.length === 0 && report.native.loaded) {
    lines.push('', 'No energy counter exists on this machine (a VM, or a CPU/OS without RAPL); estimates are used and labelled as such.');
  }
  return lines.join('\n');
}
