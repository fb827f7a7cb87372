/**
 * EnergyTracker: measures the energy of a section of code (or a child process) and stores it
 * as a row of the central, CodeCarbon-compatible `emissions.csv`.
 *
 * Several trackers may run at once, nested or overlapping: each holds its own lease on the
 * shared native sampler and measures its own window (a fresh counter reading at start and
 * at stop, so the window is exact whatever the sampling interval).
 */
import type { Reading } from '../native/types.js';
import type { EmissionsRecord, RunStatus } from '../store/schema.js';
import { appendRecord, emissionsFile } from '../store/index.js';
import { carbonIntensity as countryCarbonIntensity } from '../carbon/index.js';
import { randomRunId } from './run-id.js';
import { resolveTrackerOptions, type EnergyTrackerOptions, type ResolvedTrackerOptions } from './options.js';
import { openMeasurement, type MeasurementSource } from './measurement.js';
import { runEnergy, type EstimationInputs, type RunEnergy } from './components.js';
import { systemInfo, type SystemInfo } from './system-info.js';
import { LIVE_SAMPLING_INTERVAL_MS, LiveLine } from '../live/index.js';
import { CheckpointWriter } from './checkpoint.js';
import { resolveStopOptions, type StopOptions } from './stop-options.js';
import { runEnded, runStarted } from './interruption.js';
import { recoverKilledRunsQuietly } from '../store/inflight.js';
import { GroundTruthSession, NOT_CONFIGURED, type WallEnergy } from '../groundtruth/tracker-support.js';
import { TimelineRecorder, storeTimelineOrWarn } from '../timeline/index.js';
import { notifyRunStopped } from './run-events.js';
import { RunRecordTemplate, estimationInputs } from './run-record.js';
import { printRunSummary } from './summary.js';
import { RunNotStoredError } from './errors.js';

/**
 * Monotonic milliseconds. Not `performance.now()`: the global `performance` loads node:perf_hooks
 * (~0.75 ms) on first use, which was in every process's first start().
 */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export { RunNotStoredError } from './errors.js';

/** Energy and power so far, for live views. */
export interface TrackerSnapshot {
  elapsedS: number;
  /** Energy so far per component, J (PUE not applied). */
  energyJ: { cpu: number; gpu: number; ram: number };
  /** Mean power since the previous snapshot per component, W. */
  powerW: { cpu: number; gpu: number; ram: number };
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
  private template: RunRecordTemplate | null = null;
  private lastSnapshot: { atMs: number; energyJ: TrackerSnapshot['energyJ'] } | null = null;
  private live: LiveLine | null = null;
  private lastRecord: EmissionsRecord | null = null;
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
    const samplingIntervalMs = this.options.live ? Math.min(this.options.samplingIntervalMs, LIVE_SAMPLING_INTERVAL_MS) : this.options.samplingIntervalMs;
    const source = openMeasurement({ ...this.options, samplingIntervalMs });
    try {
      this.system = systemInfo(source.cpuModel);
      this.estimation = estimationInputs(source.domains, this.system);
      this.startWallMs = Date.now();
      this.startPerfMs = monotonicMs();
      this.startReading = source.read();
      this.template = RunRecordTemplate.atStart(this.options, this.system, randomRunId(), this.startWallMs);
      this.groundTruth = this.options.groundTruth === null ? null : GroundTruthSession.begin(this.options.groundTruth, this.startWallMs);
    } catch (error) {
      source.release();
      throw error;
    }
    this.source = source;
    this.lastSnapshot = null;
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
    const now = monotonicMs();
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
    const { source, startReading, estimation, template } = this.requireRunning('stop');
    const { status, summaryTo, ...given } = resolveStopOptions(options);
    const save = this.options.save && given.save !== false;
    const checkpoints = this.checkpoints;
    try {
      const endReading = source.read();
      const durationS = (monotonicMs() - this.startPerfMs) / 1000;
      const availableMemory = source.availableMemoryBytes();
      const energy = this.energyBetween(source, startReading, endReading, durationS, estimation);
      const energyAt = (reading: Reading, elapsedS: number) => this.energyBetween(source, startReading, reading, elapsedS, estimation);
      const timeline =
        this.timeline?.finishOrWarn(endReading, energyAt, energy, { durationS, startTime: new Date(this.startWallMs), pue: this.options.pue }) ?? null;
      return { template, energy, durationS, availableMemory, status, timeline, groundTruth: this.groundTruth, stopWallMs: this.startWallMs + durationS * 1000, save, summaryTo, checkpoints };
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
    const record = ended.template.complete(ended.energy, ended.durationS, ended.status, wall, ended.availableMemory);
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
        printRunSummary(record, {
          outputDir: this.options.outputDir,
          wallMessage: wall.message,
          saved: ended.save,
          out: ended.summaryTo === 'stderr' ? process.stderr : process.stdout,
        });
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
    const { source, startReading, estimation, template } = this.requireRunning('stop');
    const endReading = source.read();
    const durationS = (monotonicMs() - this.startPerfMs) / 1000;
    const energy = this.energyBetween(source, startReading, endReading, durationS, estimation);
    return template.complete(energy, durationS, status, NOT_CONFIGURED, source.availableMemoryBytes());
  }

  private requireRunning(method: string) {
    if (this.source === null || this.startReading === null || this.estimation === null || this.template === null) {
      throw new Error(`EnergyTracker.${method}(): the tracker is not running; call start() first`);
    }
    return { source: this.source, startReading: this.startReading, estimation: this.estimation, template: this.template };
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
}
