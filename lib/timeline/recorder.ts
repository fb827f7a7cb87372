/**
 * Records a run's power timeline while a tracker runs.
 *
 * The native sampler keeps its last 4,096 samples (full cumulative readings) in a ring; the
 * recorder drains the samples newer than the last one it has, on an unref'd timer, often
 * enough that the ring never wraps between two drains at the tracker's interval (an event
 * loop blocked for longer only costs resolution, never energy: the points are cumulative).
 * The JavaScript fallback has no ring: each tick takes one reading.
 *
 * At stop, each kept reading is turned into cumulative component energies by the same
 * function the record uses (`runEnergy` between the start reading and that reading), and the
 * last point is the record's own energy: the timeline's total is the record's, exactly.
 */
import type { Reading } from '../native/types.js';
import type { RunEnergy } from '../tracker/components.js';
import { keptIndices, pick } from './downsample.js';
import { TIMELINE_MAX_POINTS, type TimelineComponent, type TimelineComponentName, type TimelineData } from './format.js';

/** What the recorder needs from a measurement source. */
export interface TimelineSource {
  /** `native`: samples come from the sampler's ring; `fallback`: one reading per tick. */
  readonly kind: 'native' | 'fallback';
  /** Readings taken after `sinceNs` (monotonic ns), oldest first. */
  samplesSince(sinceNs: number): Reading[];
}

/** Options of a {@link TimelineRecorder}. */
export interface TimelineRecorderOptions {
  /** The tracker's sampling interval, ms. */
  samplingIntervalMs: number;
  /** Most points stored. Default {@link TIMELINE_MAX_POINTS}. */
  maxPoints?: number;
}

/** How the run's energy at a reading is computed (the tracker's own accounting). */
export type EnergyAt = (reading: Reading, elapsedS: number) => RunEnergy;

/** Ring entries the native sampler keeps (see native/sampler.h). */
const RING_CAPACITY = 4096;

/** The drain period for a source: a quarter of the ring at the sampling interval (native), else the interval. */
export function drainPeriodMs(kind: TimelineSource['kind'], samplingIntervalMs: number): number {
  if (kind === 'fallback') return Math.max(samplingIntervalMs, 100);
  return Math.min(Math.max((samplingIntervalMs * RING_CAPACITY) / 4, 100), 60_000);
}

/** Collects a run's readings between start and stop; see the file comment. */
export class TimelineRecorder {
  private readonly maxPoints: number;
  private readonly startNs: number;
  private readings: Reading[] = [];
  private lastNs: number;
  private timer: NodeJS.Timeout | null;

  /** Starts draining `source` on an unref'd timer. `start` is the run's start reading. */
  constructor(
    private readonly source: TimelineSource,
    private readonly start: Reading,
    private readonly options: TimelineRecorderOptions,
  ) {
    this.maxPoints = options.maxPoints ?? TIMELINE_MAX_POINTS;
    if (!Number.isInteger(this.maxPoints) || this.maxPoints < 2) throw new RangeError(`maxPoints must be an integer ≥ 2, got ${this.maxPoints}`);
    this.startNs = start.timestampNs;
    this.lastNs = start.timestampNs;
    this.timer = setInterval(() => this.drain(), drainPeriodMs(source.kind, options.samplingIntervalMs));
    this.timer.unref();
  }

  /** Takes the samples the source has gathered since the last drain. */
  drain(): void {
    let samples: Reading[];
    try {
      samples = this.source.samplesSince(this.lastNs);
    } catch {
      return; // a closed source: the run is ending; stop() reads what it has
    }
    for (const sample of samples) {
      if (sample.timestampNs <= this.lastNs) continue;
      this.readings.push(sample);
      this.lastNs = sample.timestampNs;
    }
    // Bound memory on long runs: thin out to 2× the stored size (cumulative: no energy lost).
    if (this.readings.length > 4 * this.maxPoints) {
      const times = this.readings.map((reading) => reading.timestampNs);
      this.readings = pick(this.readings, keptIndices(times, 2 * this.maxPoints));
    }
  }

  /** Stops the timer without producing a timeline (idempotent). */
  cancel(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** {@link finish} for the tracker: null (and a line on stderr) when the timeline cannot be built. */
  finishOrWarn(...args: Parameters<TimelineRecorder['finish']>): TimelineData | null {
    try {
      return this.finish(...args);
    } catch (error) {
      this.cancel();
      process.stderr.write(`lamarr-energy-tracker: the run's power timeline could not be built: ${(error as Error).message}\n`);
      return null;
    }
  }

  /**
   * Stops recording and returns the timeline of the run that ended with `end`.
   * @param finalEnergy the energy the record was computed from (becomes the last point).
   * @param durationS the record's duration.
   */
  finish(end: Reading, energyAt: EnergyAt, finalEnergy: RunEnergy, run: { durationS: number; startTime: Date; pue: number }): TimelineData {
    this.drain();
    this.cancel();
    const inside = this.readings.filter((reading) => reading.timestampNs > this.startNs && reading.timestampNs < end.timestampNs);
    const readings = [this.start, ...inside, end];
    const elapsed = readings.map((reading, index) =>
      index === readings.length - 1 ? Math.max(run.durationS, 0) : (reading.timestampNs - this.startNs) / 1e9,
    );
    // The last point's time is the record's duration; never let an earlier point pass it.
    for (let index = elapsed.length - 2; index >= 0; index--) elapsed[index] = Math.min(elapsed[index]!, elapsed[index + 1]!);
    const kept = keptIndices(elapsed, this.maxPoints);
    const energies = kept.map((index, position) => {
      if (position === 0) return null;
      if (position === kept.length - 1) return finalEnergy;
      return energyAt(readings[index]!, elapsed[index]!);
    });
    const names: TimelineComponentName[] = ['cpu', 'gpu', 'ram'];
    const components: TimelineComponent[] = [];
    for (const name of names) {
      const method = finalEnergy[name].method;
      if (method.startsWith('none:')) continue;
      const estimated = method.startsWith('estimated:');
      components.push({
        component: name,
        method,
        estimated,
        energy_j: energies.map((energy) => (energy === null ? 0 : roundIntermediate(energy[name].joules, energy === finalEnergy, estimated))),
      });
    }
    const times = pick(elapsed, kept).map((seconds, index, all) => (index === all.length - 1 ? seconds : roundMicro(seconds)));
    // Rounding never reorders: enforce non-decreasing times and energies after it.
    for (let index = 1; index < times.length; index++) times[index] = Math.max(times[index]!, times[index - 1]!);
    for (const component of components) monotone(component.energy_j);
    return {
      format: 'lamarr-energy-tracker/timeline',
      version: 1,
      start_time: run.startTime.toISOString(),
      duration_s: times.at(-1)!,
      pue: run.pue,
      sampling_interval_ms: this.options.samplingIntervalMs,
      t_s: times,
      components,
    };
  }
}

/** Seconds rounded to the microsecond (the stored resolution of intermediate times). */
function roundMicro(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * Measured energies are integer µJ ÷ 1e6 already (stored as they are); estimated intermediate
 * points are rounded to the µJ to keep files small. The last point is never rounded.
 */
function roundIntermediate(joules: number, last: boolean, estimated: boolean): number {
  return last || !estimated ? joules : Math.round(joules * 1e6) / 1e6;
}

/** Cumulative values never decrease: an earlier point above a later one is lowered to it. */
function monotone(values: number[]): void {
  for (let index = values.length - 2; index >= 0; index--) values[index] = Math.min(values[index]!, values[index + 1]!);
}
