/**
 * The whole machine's energy as series for an exporter: one cumulative energy value per
 * component domain (RAPL package and DRAM zones, NVML GPUs; the TDP and DIMM models where no
 * counter exists), the mean power per domain, emissions per component, and the sampler's
 * health. Readings come through the tracker's measurement layer (the shared native sampler, or
 * the JavaScript estimator when the addon cannot be loaded), in machine mode.
 *
 * Energies count from the meter's creation. A measured value is the counter's integer µJ delta
 * divided by 10^6, so it is exact to the counter's resolution at the instant of each read.
 */
import { rejectUnknownOptions } from '../options-check.js';
import type { DomainInfo, Reading, SamplerStats } from '../native/types.js';
import { totalmem } from 'node:os';
import { openMeasurement, type MeasurementSource } from '../tracker/measurement.js';
import { cpuEnergyDomains, gpuEnergyDomains, ramEnergyDomains } from '../tracker/components.js';
import { resolveTrackerOptions, type EnergyTrackerOptions } from '../tracker/options.js';
import { systemInfo } from '../tracker/system-info.js';
import type { TrackingMode } from '../tracker/options.js';
import { estimateCpuEnergyJ, lookupCpuTdp, ramDimmModel } from '../estimate/index.js';
import { carbonIntensity as countryCarbonIntensity } from '../carbon/index.js';

/** Options of a machine meter: where and how often to sample, and how to turn energy into CO2. */
export type MachineMeterOptions = Pick<
  EnergyTrackerOptions,
  'samplingIntervalMs' | 'hardwareRoot' | 'nvmlLibrary' | 'gpuIds' | 'countryIsoCode' | 'carbonIntensity' | 'pue'
> & {
  /** Shortest window of the power gauge, ms (collections closer together keep the last value). Default 500. */
  minPowerWindowMs?: number;
  /**
   * `'machine'` (default): the whole machine's energy. `'process'`: this process's share, as a
   * tracker in process mode charges it (CPU and DRAM energy by its share of CPU time in each
   * sampling interval, the RAM model by its share of memory; GPUs whole).
   */
  trackingMode?: TrackingMode;
};

/** The option names of a machine meter. */
export const MACHINE_METER_OPTIONS: readonly string[] = [
  'samplingIntervalMs',
  'hardwareRoot',
  'nvmlLibrary',
  'gpuIds',
  'countryIsoCode',
  'carbonIntensity',
  'pue',
  'minPowerWindowMs',
  'trackingMode',
];

/** Whether a value comes from a hardware counter or from a model. */
export type Measurement = 'measured' | 'estimated';

/** Labels of one energy/power series. */
export interface DomainLabels {
  /** `cpu`, `ram` or `gpu`. */
  component: 'cpu' | 'ram' | 'gpu';
  /** `socket<N>` for RAPL zones, `platform` for psys, `gpu<N>` for NVML devices, `machine` for models. */
  device: string;
  /** Zone or device name (`package-0`, `dram`, the GPU's name), `model` for estimates. */
  domain: string;
  /** Sensor (`powercap`, `msr`, `nvml-energy`, `nvml-power`) or model (`tdp-load-model`, `dimm-model`). */
  method: string;
  measurement: Measurement;
  /** `machine` or `process` (the meter's tracking mode). */
  scope: TrackingMode;
}

/** One energy series at a collection. */
export interface DomainSeries {
  labels: DomainLabels;
  /** Energy since the meter started, J. */
  joules: number;
  /** Mean power over the last power window, W. */
  watts: number;
}

/** Per-domain trouble counters of the native sampler. */
export interface DomainHealth {
  labels: { device: string; domain: string; method: string; measurement: Measurement };
  readErrors: number;
  anomalies: number;
  wraps: number;
  resets: number;
}

/** Everything an exporter shows, at one instant. */
export interface MachineSnapshot {
  /** CLOCK_MONOTONIC time of the reading, ns. */
  timestampNs: number;
  series: DomainSeries[];
  /** Grams of CO2eq per component and measurement since the meter started (PUE applied). */
  emissions: Array<{ component: DomainLabels['component']; measurement: Measurement; scope: TrackingMode; grams: number }>;
  carbon: { countryIsoCode: string; gramsPerKwh: number };
  sampler: {
    /** `measured`: the native sampler; `estimated`: the JavaScript fallback. */
    measurement: Measurement;
    up: boolean;
    samples: number;
    intervalS: number;
    domains: DomainHealth[];
  };
}

interface SeriesSource {
  labels: DomainLabels;
  joules(start: Reading, now: Reading): number;
}

const JOULES_PER_KWH = 3.6e6;

function deviceOf(domain: DomainInfo): string {
  if (domain.device === 'gpu') return `gpu${domain.index}`;
  if (domain.kind === 'psys') return 'platform';
  return `socket${Math.max(0, domain.index)}`;
}

/** Measures the whole machine for an exporter; `close()` gives the sampler back. */
export class MachineEnergyMeter {
  private readonly source: MeasurementSource;
  private readonly sources: SeriesSource[];
  private readonly start: Reading;
  private readonly pue: number;
  private readonly carbon: { countryIsoCode: string; gramsPerKwh: number };
  private readonly minPowerWindowNs: number;
  private readonly samplingIntervalMs: number;
  private readonly scope: TrackingMode;
  private powerBase: { timestampNs: number; joules: number[] };
  private watts: number[];
  private closed = false;

  /** Validates the options (errors name the option) and starts sampling. */
  constructor(options: MachineMeterOptions = {}) {
    rejectUnknownOptions('MachineEnergyMeter', options, MACHINE_METER_OPTIONS);
    const { minPowerWindowMs = 500, trackingMode = 'machine', ...trackerOptions } = options;
    if (typeof minPowerWindowMs !== 'number' || !Number.isFinite(minPowerWindowMs) || minPowerWindowMs < 0) {
      throw new RangeError(`option minPowerWindowMs must be a finite number ≥ 0, got ${String(minPowerWindowMs)}`);
    }
    const resolved = resolveTrackerOptions({ ...trackerOptions, trackingMode, save: false, printSummary: false });
    this.scope = resolved.trackingMode;
    const country = countryCarbonIntensity(resolved.countryIsoCode);
    this.carbon = { countryIsoCode: country.isoCode, gramsPerKwh: resolved.carbonIntensity ?? country.gramsPerKwh };
    this.pue = resolved.pue;
    this.minPowerWindowNs = minPowerWindowMs * 1e6;
    this.samplingIntervalMs = resolved.samplingIntervalMs;
    this.source = openMeasurement({ ...resolved, attributionPid: null, includeDescendants: false });
    try {
      this.sources = this.seriesSources();
      this.start = this.source.read();
    } catch (error) {
      this.source.release();
      throw error;
    }
    this.powerBase = { timestampNs: this.start.timestampNs, joules: this.sources.map(() => 0) };
    this.watts = this.sources.map(() => 0);
  }

  /** The energy series this machine has (fixed at creation). */
  get labels(): DomainLabels[] {
    return this.sources.map((source) => ({ ...source.labels }));
  }

  private seriesSources(): SeriesSource[] {
    const domains = this.source.domains;
    const scope = this.scope;
    const attributed = scope === 'process';
    const measured = (component: DomainLabels['component'], index: number): SeriesSource => {
      const domain = domains[index]!;
      // GPU energy is never attributed to a process: NVML gives whole-device energy.
      const counter = attributed && component !== 'gpu' ? 'attributedUj' : 'energyUj';
      return {
        labels: { component, device: deviceOf(domain), domain: domain.name, method: domain.method, measurement: 'measured', scope },
        joules: (start, now) => ((now[counter][index] ?? 0) - (start[counter][index] ?? 0)) / 1e6,
      };
    };
    const model = (component: 'cpu' | 'ram', method: string): DomainLabels => ({ component, device: 'machine', domain: 'model', method, measurement: 'estimated', scope });
    const sources: SeriesSource[] = [];
    const cpu = cpuEnergyDomains(domains);
    const ram = ramEnergyDomains(domains);
    const system = systemInfo(this.source.cpuModel);
    if (cpu.length > 0) sources.push(...cpu.map((index) => measured('cpu', index)));
    else {
      const tdpWatts = lookupCpuTdp(system.cpuModel, system.cpuCount).tdpWatts;
      sources.push({
        labels: model('cpu', attributed ? 'tdp-process-share' : 'tdp-load-model'),
        joules: (start, now) => estimateCpuEnergyJ(scope, tdpWatts, start.cpu, now.cpu),
      });
    }
    if (ram.length > 0) sources.push(...ram.map((index) => measured('ram', index)));
    else {
      const ramWatts = ramDimmModel(system.ramTotalGiB, system.arch).powerWatts;
      // Process mode: the model's power × this process's share of memory, integrated read by read.
      let joules = 0;
      let lastNs: number | null = null;
      sources.push({
        labels: model('ram', attributed ? 'dimm-model-rss-share' : 'dimm-model'),
        joules: (start, now) => {
          if (!attributed) return (ramWatts * Math.max(0, now.timestampNs - start.timestampNs)) / 1e9;
          const share = Math.min(1, Math.max(0, process.memoryUsage.rss() / totalmem()));
          joules += (ramWatts * share * Math.max(0, now.timestampNs - (lastNs ?? start.timestampNs))) / 1e9;
          lastNs = now.timestampNs;
          return joules;
        },
      });
    }
    sources.push(...gpuEnergyDomains(domains).map((index) => measured('gpu', index)));
    return sources;
  }

  /** Take a fresh reading of every counter now and return the machine's series. */
  read(): MachineSnapshot {
    if (this.closed) throw new Error('MachineEnergyMeter.read(): the meter is closed');
    const now = this.source.read();
    const joules = this.sources.map((source) => source.joules(this.start, now));
    const windowNs = now.timestampNs - this.powerBase.timestampNs;
    if (windowNs > 0 && windowNs >= this.minPowerWindowNs) {
      this.watts = joules.map((value, i) => Math.max(0, value - this.powerBase.joules[i]!) / (windowNs / 1e9));
      this.powerBase = { timestampNs: now.timestampNs, joules };
    }
    const series = this.sources.map((source, i) => ({ labels: { ...source.labels }, joules: joules[i]!, watts: this.watts[i]! }));
    return {
      timestampNs: now.timestampNs,
      series,
      emissions: this.emissions(series),
      carbon: { ...this.carbon },
      sampler: this.samplerHealth(this.source.stats()),
    };
  }

  private emissions(series: DomainSeries[]): MachineSnapshot['emissions'] {
    const groups = new Map<string, MachineSnapshot['emissions'][number]>();
    for (const { labels, joules } of series) {
      const key = `${labels.component}\u0000${labels.measurement}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { component: labels.component, measurement: labels.measurement, scope: labels.scope, grams: 0 }));
      group.grams += ((joules * this.pue) / JOULES_PER_KWH) * this.carbon.gramsPerKwh;
    }
    return [...groups.values()];
  }

  private samplerHealth(stats: SamplerStats | null): MachineSnapshot['sampler'] {
    if (stats === null) {
      return { measurement: 'estimated', up: true, samples: 0, intervalS: Math.max(this.samplingIntervalMs, 100) / 1000, domains: [] };
    }
    return {
      measurement: 'measured',
      up: stats.threadRunning,
      samples: stats.samples,
      intervalS: stats.intervalMs / 1000,
      domains: this.source.domains.map((domain, i) => {
        const counts = stats.perDomain[i] ?? { readErrors: 0, anomalies: 0, wraps: 0, resets: 0 };
        return {
          labels: { device: deviceOf(domain), domain: domain.name, method: domain.method, measurement: 'measured' as const },
          readErrors: counts.readErrors,
          anomalies: counts.anomalies,
          wraps: counts.wraps,
          resets: counts.resets,
        };
      }),
    };
  }

  /** Give the sampler back; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.release();
  }
}
