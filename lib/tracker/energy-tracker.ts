/**
 * EnergyTracker: measures the energy of a section of code (or a child process) and stores it
 * as a row of the central, CodeCarbon-compatible `emissions.csv`.
 *
 * Several trackers may run at once, nested or overlapping: each holds its own lease on the
 * shared native sampler and measures its own window (a fresh counter reading at start and
 * at stop, so the window is exact whatever the sampling interval).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TRACKER_VERSION } from '../version.js';
import { formatDuration, formatEnergy } from '../format.js';
import type { Reading } from '../native/types.js';
import type { EmissionsRecord, RunStatus } from '../store/schema.js';
import { appendRecord, emissionsFile, loadResults } from '../store/index.js';
import { carbonIntensity as countryCarbonIntensity } from '../carbon/index.js';
import { statementFromRecords } from '../statement/index.js';
import { lookupCpuTdp, ramDimmModel } from '../estimate/index.js';
import { resolveTrackerOptions, type EnergyTrackerOptions, type ResolvedTrackerOptions } from './options.js';
import { openMeasurement, type MeasurementSource } from './measurement.js';
import { cpuEnergyDomains, describeMethod, runEnergy, type EstimationInputs, type RunEnergy } from './components.js';
import { ramInUse, systemInfo, type SystemInfo } from './system-info.js';
import { LiveLine } from '../live/index.js';
import { gpuModelField, localTimestamp } from './record-fields.js';
import { CheckpointWriter } from './checkpoint.js';
import { resolveStopOptions, type StopOptions } from './stop-options.js';
import { runEnded, runStarted } from './interruption.js';
import { recoverKilledRunsQuietly } from '../store/inflight.js';
import { GroundTruthSession, NOT_CONFIGURED, wallEnergySummary, type WallEnergy } from '../groundtruth/tracker-support.js';
import { TimelineRecorder, storeTimelineOrWarn } from '../timeline/index.js';

import { notifyRunStopped } from './run-events.js';

const JOULES_PER_KWH = 3.6e6;

const tdpCache = new Map<string, number>();

/** TDP for a CPU model, looked up once per process (matching scans ~4,900 table rows). */
function cpuTdpWatts(model: string, logicalCpus: number): number {
  const key = `${logicalCpus}\u0000${model}`;
  let watts = tdpCache.get(key);
  if (watts === undefined) {
    watts = lookupCpuTdp(model, logicalCpus).tdpWatts;
    tdpCache.set(key, watts);
  }
  return watts;
}

/** Energy and power so far, for live views. */
export interface TrackerSnapshot {
  elapsedS: number;
  /** Energy so far per component, J (PUE not applied). */
  energyJ: { cpu: number; gpu: number; ram: number };
  /** Mean power since the previous snapshot per component, W. */
  powerW: { cpu: number; gpu: number; ram: number };
}

/**
 * Thrown by `stop()` when the run was measured but could not be appended to `emissions.csv`
 * (a malformed file, a lock that cannot be taken, a read-only directory). The record is on
 * `error.record`, and `stop()` wrote its JSON to stderr before throwing, so the result is not lost.
 */
export class RunNotStoredError extends Error {
  /** The measured run, exactly as it would have been stored. */
  readonly record: EmissionsRecord;
  /** The file it could not be stored in. */
  readonly file: string;
  constructor(record: EmissionsRecord, file: string, cause: unknown) {
    super(
      `EnergyTracker.stop(): the run was measured but could not be stored in ${file}: ${(cause as Error)?.message ?? String(cause)}. ` +
        'The record is on error.record (and was printed to stderr as JSON).',
      { cause },
    );
    this.name = 'RunNotStoredError';
    this.record = record;
    this.file = file;
  }
}

export type { StopOptions } from './stop-options.js';

/**
 * Tracks the energy of a run.
 *
 * ```ts
 * const tracker = new EnergyTracker({ projectName: 'my-paper' }).start();
 * // … work …
 * const record = tracker.stop();
 * ```
 */
export class EnergyTracker implements Disposable, AsyncDisposable {
  /** The options in force, defaults applied. */
  readonly options: Readonly<ResolvedTrackerOptions>;
  private source: MeasurementSource | null = null;
  private startReading: Reading | null = null;
  private startWallMs = 0;
  private startPerfMs = 0;
  private system: SystemInfo | null = null;
  private estimation: EstimationInputs | null = null;
  private lastSnapshot: { atMs: number; energyJ: TrackerSnapshot['energyJ'] } | null = null;
  private live: LiveLine | null = null;
  private lastRecord: EmissionsRecord | null = null;
  private runId = '';
  private checkpoints: CheckpointWriter | null = null;
  private groundTruth: GroundTruthSession | null = null;
  private timeline: TimelineRecorder | null = null;

  /** Validates the options (TypeError/RangeError naming the option); measures nothing yet. */
  constructor(options?: EnergyTrackerOptions) {
    this.options = Object.freeze(resolveTrackerOptions(options));
    // Resolve the country now (the record names it even when carbonIntensity overrides its
    // intensity), so that a wrong code fails here and never at stop().
    countryCarbonIntensity(this.options.countryIsoCode);
  }

  /** Whether the tracker is between start() and stop(). */
  get running(): boolean {
    return this.source !== null;
  }

  /** The record of the last completed run, or null. */
  get lastResult(): EmissionsRecord | null {
    return this.lastRecord;
  }

  /** Start measuring. Returns the tracker (for `using t = new EnergyTracker().start()`). */
  start(): this {
    if (this.source !== null) throw new Error('EnergyTracker.start(): the tracker is already running; call stop() first');
    // Runs of this store killed without stopping become rows before this one starts.
    if (this.options.save) recoverKilledRunsQuietly(this.options.outputDir);
    // The live line shows power per interval: sample at least 4× a second while it is on.
    const samplingIntervalMs = this.options.live ? Math.min(this.options.samplingIntervalMs, 250) : this.options.samplingIntervalMs;
    const source = openMeasurement({ ...this.options, samplingIntervalMs });
    try {
      this.system = systemInfo(source.cpuModel);
      this.estimation = {
        // The TDP table is consulted only when no CPU counter measures the run (NaN: not needed).
        cpuTdpWatts: cpuEnergyDomains(source.domains).length > 0 ? Number.NaN : cpuTdpWatts(this.system.cpuModel, this.system.cpuCount),
        ramModelWatts: ramDimmModel(this.system.ramTotalGiB, this.system.arch).powerWatts,
        processRamShare: 0,
      };
      this.startWallMs = Date.now();
      this.startPerfMs = performance.now();
      this.startReading = source.read();
      this.groundTruth = this.options.groundTruth === null ? null : GroundTruthSession.begin(this.options.groundTruth, this.startWallMs);
    } catch (error) {
      source.release();
      throw error;
    }
    this.source = source;
    this.lastSnapshot = null;
    this.runId = randomUUID();
    if (this.options.save) {
      this.checkpoints = new CheckpointWriter(() => this.recordNow('killed'), this.options.outputDir, this.options.checkpointIntervalMs);
    }
    if (this.options.handleSignals) runStarted(this);
    if (this.options.timeline && this.options.save) this.timeline = new TimelineRecorder(source, this.startReading, { samplingIntervalMs });
    if (this.options.live) {
      this.live = new LiveLine(() => this.snapshot());
      this.live.start();
    }
    return this;
  }

  /**
   * Save the run's progress now (what `checkpointIntervalMs` does on a timer, which cannot run
   * while a long synchronous loop holds the event loop): call it now and then from such a loop.
   */
  checkpoint(): void {
    this.requireRunning('checkpoint');
    this.checkpoints?.write();
  }

  /** Energy so far and recent power per component (cheap: no hardware access). */
  snapshot(): TrackerSnapshot {
    const { source, startReading, estimation } = this.requireRunning('snapshot');
    const now = performance.now();
    const elapsedS = (now - this.startPerfMs) / 1000;
    const energy = this.energyBetween(source, startReading, source.latest(), elapsedS, estimation);
    const energyJ = { cpu: energy.cpu.joules, gpu: energy.gpu.joules, ram: energy.ram.joules };
    const previous = this.lastSnapshot ?? { atMs: this.startPerfMs, energyJ: { cpu: 0, gpu: 0, ram: 0 } };
    const dt = Math.max((now - previous.atMs) / 1000, 1e-9);
    this.lastSnapshot = { atMs: now, energyJ };
    return {
      elapsedS,
      energyJ,
      powerW: {
        cpu: (energyJ.cpu - previous.energyJ.cpu) / dt,
        gpu: (energyJ.gpu - previous.energyJ.gpu) / dt,
        ram: (energyJ.ram - previous.energyJ.ram) / dt,
      },
    };
  }

  /**
   * Stop measuring, store the run (unless `save: false`), print the summary and statement
   * (unless `printSummary: false`), and return the record exactly as stored.
   * With `groundTruth`, blocks for the plug's stop reading (at most `groundTruth.timeoutMs`;
   * no answer gives `wall_energy_method` `none:<reason>`); see {@link stopAsync}.
   */
  stop(options?: StopOptions): EmissionsRecord {
    const ended = this.endRun(options);
    return this.completeRun(ended, ended.groundTruth?.finishSync(ended.stopWallMs) ?? NOT_CONFIGURED);
  }

  /** As {@link stop}, awaiting the plug without blocking (`track()`, `await using` and `run` use it). */
  async stopAsync(options?: StopOptions): Promise<EmissionsRecord> {
    const ended = this.endRun(options);
    return this.completeRun(ended, (await ended.groundTruth?.finish(ended.stopWallMs)) ?? NOT_CONFIGURED);
  }

  /** Reads the sensors' end of the window and releases them. */
  private endRun(options: StopOptions | undefined) {
    const { source, startReading, estimation, system } = this.requireRunning('stop');
    const { status, summaryTo, ...given } = resolveStopOptions(options);
    const save = this.options.save && given.save !== false;
    const checkpoints = this.checkpoints;
    try {
      const endReading = source.read();
      const durationS = (performance.now() - this.startPerfMs) / 1000;
      const energy = this.energyBetween(source, startReading, endReading, durationS, estimation);
      const energyAt = (reading: Reading, elapsedS: number) => this.energyBetween(source, startReading, reading, elapsedS, estimation);
      const timeline =
        this.timeline?.finishOrWarn(endReading, energyAt, energy, { durationS, startTime: new Date(this.startWallMs), pue: this.options.pue }) ?? null;
      return { system, energy, durationS, status, timeline, groundTruth: this.groundTruth, stopWallMs: this.startWallMs + durationS * 1000, save, summaryTo, checkpoints };
    } finally {
      checkpoints?.close();
      this.checkpoints = null;
      runEnded(this);
      this.groundTruth = null;
      this.timeline?.cancel();
      this.timeline = null;
      this.live?.stop();
      this.live = null;
      this.source?.release();
      this.source = null;
      this.startReading = null;
    }
  }

  /** Builds, stores and prints the record of an ended run. */
  private completeRun(ended: ReturnType<EnergyTracker['endRun']>, wall: WallEnergy): EmissionsRecord {
    const record = this.buildRecord(ended.system, ended.energy, ended.durationS, ended.status, wall);
    this.lastRecord = record;
    notifyRunStopped(record);
    if (ended.save) {
      try {
        appendRecord(record, this.options.outputDir);
      } catch (error) {
        process.stderr.write(`lamarr-energy-tracker: unsaved run: ${JSON.stringify(record)}\n`);
        throw new RunNotStoredError(record, emissionsFile(this.options.outputDir), error);
      }
      if (ended.timeline !== null) storeTimelineOrWarn(record.run_id, ended.timeline, { outputDir: this.options.outputDir });
    }
    ended.checkpoints?.remove(record.run_id);
    if (this.options.printSummary) {
      try {
        this.printSummary(record, wall.message, ended.save, ended.summaryTo === 'stderr' ? process.stderr : process.stdout);
      } catch (error) {
        // The run is stored; a summary that cannot be printed must not lose it for the caller.
        process.stderr.write(`lamarr-energy-tracker: the run was stored, but the summary could not be printed: ${(error as Error).message}\n`);
      }
    }
    return record;
  }

  /**
   * Track an async (or sync) callback: starts, runs it, stops even when it throws (the row is
   * then stored with `run_status` `failed` and the error rethrown), and returns its value.
   */
  async track<T>(work: (tracker: this) => T | Promise<T>): Promise<T> {
    this.start();
    let result: T;
    try {
      result = await work(this);
    } catch (error) {
      if (this.running) await this.stopAsync({ status: 'failed' });
      throw error;
    }
    if (this.running) await this.stopAsync();
    return result;
  }

  /** `using`: stops the tracker if it is still running. */
  [Symbol.dispose](): void {
    if (this.running) this.stop();
  }

  /** `await using`: stops the tracker if it is still running. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.running) await this.stopAsync();
  }

  /** The run as it would be stored now, with `status` (a fresh counter reading). */
  private recordNow(status: RunStatus): EmissionsRecord {
    const { source, startReading, estimation, system } = this.requireRunning('stop');
    const endReading = source.read();
    const durationS = (performance.now() - this.startPerfMs) / 1000;
    const energy = this.energyBetween(source, startReading, endReading, durationS, estimation);
    return this.buildRecord(system, energy, durationS, status, NOT_CONFIGURED);
  }

  private requireRunning(method: string) {
    if (this.source === null || this.startReading === null || this.estimation === null || this.system === null) {
      throw new Error(`EnergyTracker.${method}(): the tracker is not running; call start() first`);
    }
    return { source: this.source, startReading: this.startReading, estimation: this.estimation, system: this.system };
  }

  private energyBetween(
    source: MeasurementSource,
    start: Reading,
    end: Reading,
    durationS: number,
    estimation: EstimationInputs,
  ): RunEnergy {
    let processRamShare = 0;
    if (this.options.trackingMode === 'process') {
      processRamShare = process.memoryUsage.rss() / (this.system!.ramTotalGiB * 2 ** 30);
    }
    return runEnergy({
      domains: source.domains,
      unavailable: source.unavailable,
      start,
      end,
      durationS,
      mode: this.options.trackingMode,
      estimation: { ...estimation, processRamShare },
    });
  }

  private carbon(): { gramsPerKwh: number; countryName: string; isoCode: string } {
    const country = countryCarbonIntensity(this.options.countryIsoCode);
    return {
      gramsPerKwh: this.options.carbonIntensity ?? country.gramsPerKwh,
      countryName: country.countryName,
      isoCode: country.isoCode,
    };
  }

  private buildRecord(system: SystemInfo, energy: RunEnergy, durationS: number, status: RunStatus, wall: WallEnergy): EmissionsRecord {
    const { pue } = this.options;
    const carbon = this.carbon();
    const kwh = (joules: number) => (joules * pue) / JOULES_PER_KWH;
    const cpuEnergy = kwh(energy.cpu.joules);
    const gpuEnergy = kwh(energy.gpu.joules);
    const ramEnergy = kwh(energy.ram.joules);
    const energyConsumed = cpuEnergy + gpuEnergy + ramEnergy;
    // As CodeCarbon: kg/kWh (g/kWh ÷ 1000) times kWh.
    const emissions = (carbon.gramsPerKwh / 1000) * energyConsumed;
    const power = (joules: number) => (durationS > 0 ? (joules * pue) / durationS : 0);
    const ram = ramInUse();
    const { projectName } = this.options;
    return {
      timestamp: localTimestamp(new Date(this.startWallMs + durationS * 1000)),
      project_name: projectName,
      run_id: this.runId,
      experiment_id: `${projectName}___${system.user}___${system.hostname}`,
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
      water_consumed: 0,
      country_name: carbon.countryName,
      country_iso_code: carbon.isoCode,
      region: '',
      cloud_provider: '',
      cloud_region: '',
      os: system.os,
      python_version: '',
      codecarbon_version: '',
      cpu_count: system.cpuCount,
      cpu_model: system.cpuModel,
      gpu_count: energy.gpuDomains.length,
      gpu_model: gpuModelField(energy.gpuDomains.map((domain) => domain.name)),
      longitude: null,
      latitude: null,
      ram_total_size: system.ramTotalGiB,
      tracking_mode: this.options.trackingMode,
      cpu_utilization_percent: energy.cpuUtilizationPercent,
      gpu_utilization_percent: null,
      ram_utilization_percent: ram.percent,
      ram_used_gb: ram.usedGiB,
      on_cloud: 'N',
      pue,
      wue: 0,
      hostname: system.hostname,
      user: system.user,
      tracker_version: TRACKER_VERSION,
      cpu_energy_method: energy.cpu.method,
      gpu_energy_method: energy.gpu.method,
      ram_energy_method: energy.ram.method,
      carbon_intensity: carbon.gramsPerKwh,
      run_status: status,
      wall_energy: wall.energyKwh,
      wall_energy_method: wall.method,
      wall_energy_uncertainty: wall.uncertaintyKwh,
    };
  }

  private printSummary(record: EmissionsRecord, wallMessage: string | null, saved: boolean, out: NodeJS.WritableStream): void {
    const joules = (kwh: number | null) => ((kwh ?? 0) * JOULES_PER_KWH) / (record.pue ?? 1);
    const parts = [
      `CPU ${formatEnergy(joules(record.cpu_energy))} ${describeMethod(record.cpu_energy_method)}`,
      record.gpu_energy_method.startsWith('none:')
        ? `GPU ${describeMethod(record.gpu_energy_method)}`
        : `GPU ${formatEnergy(joules(record.gpu_energy))} ${describeMethod(record.gpu_energy_method)}`,
      `RAM ${formatEnergy(joules(record.ram_energy))} ${describeMethod(record.ram_energy_method)}`,
    ];
    const total = formatEnergy((record.energy_consumed ?? 0) * JOULES_PER_KWH);
    const lines = [
      `Tracker stopped - this experiment consumed ${total} in ${formatDuration(record.duration ?? 0)}` +
        `${(record.pue ?? 1) !== 1 ? ` (PUE ${record.pue} applied)` : ''}: ${parts.join('; ')}.`,
    ];
    const wallLine = wallEnergySummary(record, wallMessage);
    if (wallLine !== null) lines.push(wallLine);
    if (record.cpu_energy_method.startsWith('estimated:')) {
      lines.push('(No CPU energy counter could be read: `npx lamarr-energy-tracker probe` says why and how to enable measurement.)');
    }
    const filters = {
      outputDir: this.options.outputDir,
      projectName: record.project_name,
      user: record.user,
      hostname: record.hostname,
    };
    const history = saved ? loadResults(filters) : [...loadResultsOrEmpty(filters), record];
    lines.push(statementFromRecords(history, {}).text);
    out.write(`${lines.join('\n')}\n`);
  }
}

function loadResultsOrEmpty(filters: Parameters<typeof loadResults>[0]): EmissionsRecord[] {
  try {
    return loadResults(filters);
  } catch {
    return [];
  }
}
