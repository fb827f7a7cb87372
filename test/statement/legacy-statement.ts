/**
 * The statement's accumulation as it was before summaries existed (copied from
 * lib/statement/statement.ts and methodology.ts at cfb7281, and the wall-plug part at cee07d3), kept as the oracle the property
 * tests compare against: same rows → bit-identical sums, same configurations, same methodology.
 */
import { carbonIntensity as countryCarbonIntensity, isKnownCountry } from '../../lib/carbon/index.js';
import { describeHardware, joinAnd } from '../../lib/statement/hardware.js';
import { methodPhrase, recordSource, type MethodologyRecord } from '../../lib/statement/methodology.js';
import type { StatementRecord } from '../../lib/statement/statement.js';
import { TRACKER_VERSION } from '../../lib/version.js';
import { calibrate, hasMeasuredWall, type HostCalibration } from '../../lib/groundtruth/calibration.js';
import { comparedFigure, comparedWithSensors, sensorEnergyKwh } from '../../lib/groundtruth/describe.js';
import type { WallPlugOptions, WallPlugSummary, WallStatementRecord } from '../../lib/groundtruth/statement-part.js';
import { belowResolution } from '../../lib/groundtruth/window.js';

/** What the old loop computed: everything the statement's text and JSON are made from. */
export interface LegacyFacts {
  runs: number;
  energyKwh: number;
  emissionsKg: number;
  carbonIntensity: number;
  methodology: string;
  configurations: { hardware: string; runs: number; energyKwh: number }[];
}

function clean(value: number): number {
  return Number(value.toPrecision(12));
}

function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}
class LegacyMethodologyCollector {
  private readonly order: ('let' | 'codecarbon')[] = [];
  private readonly trackerVersions = new Set<string>();
  private readonly codecarbonVersions = new Set<string>();
  private readonly methods: Record<'CPU' | 'GPU' | 'RAM', Set<string>> = { CPU: new Set(), GPU: new Set(), RAM: new Set() };
  private hasTracker = false;
  private hasCodeCarbon = false;
  private lastTrackerVersion: string | undefined;
  private lastCodeCarbonVersion: string | undefined;
  private lastCpu: string | undefined;
  private lastGpu: string | undefined;
  private lastRam: string | undefined;

  /** Adds one row. */
  add(record: MethodologyRecord): void {
    // Per-column "same as the last value seen" checks: rows repeat their values, so most rows
    // add nothing and touch no set.
    if (recordSource(record) === 'lamarr-energy-tracker') {
      if (!this.hasTracker) {
        this.hasTracker = true;
        this.order.push('let');
      }
      const version = record.tracker_version;
      if (version !== this.lastTrackerVersion) {
        this.lastTrackerVersion = version;
        this.trackerVersions.add(version.trim() || TRACKER_VERSION);
      }
      const cpu = record.cpu_energy_method;
      if (cpu !== this.lastCpu) {
        this.lastCpu = cpu;
        this.methods.CPU.add(cpu);
      }
      const gpu = record.gpu_energy_method;
      if (gpu !== this.lastGpu) {
        this.lastGpu = gpu;
        this.methods.GPU.add(gpu);
      }
      const ram = record.ram_energy_method;
      if (ram !== this.lastRam) {
        this.lastRam = ram;
        this.methods.RAM.add(ram);
      }
    } else {
      if (!this.hasCodeCarbon) {
        this.hasCodeCarbon = true;
        this.order.push('codecarbon');
      }
      const raw = record.codecarbon_version;
      if (raw !== this.lastCodeCarbonVersion) {
        this.lastCodeCarbonVersion = raw;
        const version = raw.trim();
        if (version !== '') this.codecarbonVersions.add(version);
      }
    }
  }

  /** The methodology phrase, e.g. "the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, …)". */
  describe(): string {
    const parts = this.order.map((source) => {
      if (source === 'codecarbon') {
        const versions = [...this.codecarbonVersions].sort(compareVersions);
        return versions.length === 0 ? 'CodeCarbon' : `CodeCarbon ${joinAnd(versions)}`;
      }
      const versions = [...this.trackerVersions].sort(compareVersions);
      const components = (['CPU', 'GPU', 'RAM'] as const).flatMap((label) => {
        const phrases = [...new Set([...this.methods[label]].map(methodPhrase).filter((p): p is string => p !== null))];
        if (phrases.length === 0) return [];
        if (phrases.length === 1) return [`${label} energy ${phrases[0]!}`];
        if (phrases.length === 2) return [`${label} energy ${phrases[0]!} in some runs and ${phrases[1]!} in others`];
        return [`${label} energy ${joinOr(phrases)}, depending on the run`];
      });
      const name = `the Lamarr Energy Tracker ${joinAnd(versions)}`;
      // Semicolons keep the components apart when one of them contains a comma.
      const separator = components.some((c) => c.includes(',')) ? '; ' : ', ';
      return components.length === 0 ? name : `${name} (${components.join(separator)})`;
    });
    return joinAnd(parts);
  }
}
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+]/);
  const pb = b.split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff = Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== '' ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The old statementFromRecords loop, returning its facts (throws as it did). */
export function legacyFacts(records: readonly StatementRecord[]): LegacyFacts {
  if (records.length === 0) throw new RangeError('No tracked runs to summarise: the statement needs at least one record.');
  const methodology = new LegacyMethodologyCollector();
  const configurations = new Map<string, { runs: number; energyKwh: number }>();
  let energyKwh = 0;
  let emissionsKg = 0;
  let fallbackIntensity: number | null = null;
  for (const record of records) {
    methodology.add(record);
    const hardware = describeHardware(record.cpu_model, record.gpu_count, record.gpu_model) || 'unspecified hardware';
    let config = configurations.get(hardware);
    if (config === undefined) {
      config = { runs: 0, energyKwh: 0 };
      configurations.set(hardware, config);
    }
    const consumed = record.energy_consumed;
    const energy =
      typeof consumed === 'number' && Number.isFinite(consumed)
        ? consumed
        : (finite(record.cpu_energy) ?? 0) + (finite(record.gpu_energy) ?? 0) + (finite(record.ram_energy) ?? 0);
    energyKwh += energy;
    config.runs += 1;
    config.energyKwh += energy;
    const recorded = record.emissions;
    if (typeof recorded === 'number' && Number.isFinite(recorded)) emissionsKg += recorded;
    else {
      const rowIntensity = finite(record.carbon_intensity);
      if (rowIntensity !== null) emissionsKg += (energy * rowIntensity) / 1000;
    }
    if (fallbackIntensity === null) {
      const rowIntensity = finite(record.carbon_intensity);
      if (rowIntensity !== null) fallbackIntensity = rowIntensity;
      else if (record.country_iso_code.trim() !== '' && isKnownCountry(record.country_iso_code)) {
        fallbackIntensity = countryCarbonIntensity(record.country_iso_code).gramsPerKwh;
      }
    }
  }
  let intensity: number;
  if (energyKwh > 0) intensity = Math.trunc(clean((emissionsKg * 1000) / energyKwh));
  else if (fallbackIntensity !== null) intensity = Math.trunc(clean(fallbackIntensity));
  else {
    throw new RangeError('Cannot derive a carbon intensity: the runs consumed no energy and name no carbon intensity or known country.');
  }
  return {
    runs: records.length,
    energyKwh,
    emissionsKg,
    carbonIntensity: intensity,
    methodology: methodology.describe(),
    configurations: [...configurations].map(([hardware, c]) => ({ hardware, runs: c.runs, energyKwh: c.energyKwh })),
  };
}

// ---- The wall-plug part as it was before summaries (copied from lib/groundtruth/statement-part.ts at cee07d3). ----
function ratioText(calibrations: readonly HostCalibration[]): string {
  if (calibrations.length === 1) {
    const c = calibrations[0]!;
    return `the wall/sensor ratio measured on this host (${c.ratio.toFixed(2)} ± ${c.spread.toFixed(2)} from ${c.runs} runs)`;
  }
  return `the wall/sensor ratios measured on their ${calibrations.length} hosts (${calibrations
    .map((c) => `${c.ratio.toFixed(2)} ± ${c.spread.toFixed(2)} from ${c.runs} runs`)
    .join('; ')})`;
}
export function legacyWallPlugPart(
  records: readonly WallStatementRecord[],
  options: WallPlugOptions,
  energyText: (kwh: number) => string,
  percent = '%',
): WallPlugSummary | null {
  let measuredRuns = 0;
  let measuredKwh = 0;
  let uncertaintyKwh = 0;
  let sensorsKwh = 0;
  let estimatedCpuRuns = 0;
  const byHost = new Map<string, HostCalibration>();
  if (options.calibrated === true) {
    for (const c of options.calibrations ?? calibrate(records)) byHost.set(c.hostname, c);
  }
  const used = new Map<string, HostCalibration>();
  let calibratedRuns = 0;
  let calibratedKwh = 0;
  for (const record of records) {
    const sensors = sensorEnergyKwh({ energy_consumed: record.energy_consumed, pue: record.pue ?? 1 });
    if (hasMeasuredWall(record)) {
      measuredRuns += 1;
      measuredKwh += record.wall_energy!;
      uncertaintyKwh += record.wall_energy_uncertainty ?? 0;
      sensorsKwh += sensors;
      if ((record.cpu_energy_method ?? '').startsWith('estimated:')) estimatedCpuRuns += 1;
      continue;
    }
    const calibration = byHost.get((record.hostname ?? '').trim());
    if (calibration !== undefined) {
      calibratedRuns += 1;
      calibratedKwh += calibration.ratio * sensors;
      used.set(calibration.hostname, calibration);
    }
  }
  if (measuredRuns === 0 && calibratedRuns === 0) return null;
  const runs = records.length;
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
    parts.push(`${measuredRuns > 0 ? 'and ' : ''}with ${ratioText([...used.values()])}, ${subject} to a calibrated estimate of ${energyText(calibratedTotalKwh)} at the wall`);
  }
  return {
    measuredRuns,
    runs,
    measuredKwh,
    uncertaintyKwh,
    sensorsKwh,
    belowResolution: below,
    calibratedRuns,
    calibrations: [...used.values()],
    calibratedTotalKwh,
    text: `; ${parts.join(', ')}`,
  };
}
