/**
 * The public shapes of {@link measureEnergy}'s options and results, and the quality labels.
 * Shared by the planning, running and analysis steps (`plan.ts`, `runner.ts`, `analysis.ts`).
 */
import type { DomainInfo, UnavailableSensor } from '../native/types.js';

import { openNativeSource, type CounterReading, type EnergyCounterSource } from './source.js';

/**
 * How far a figure can be trusted.
 *
 * - `measured`: the counters resolved it; the numbers and their interval are meaningful.
 * - `below-resolution`: counters exist but the batches did not reach the energy or duration
 *   the counter's step and update period require (within `maxTimeMs`), or the active energy
 *   per batch is smaller than one counter step. `activeJ` is null; `upperBoundJ` bounds it.
 * - `estimate-only`: no energy counter is readable here (RAPL not permitted, or only GPU power
 *   samples): the tracker could estimate a run's energy from CPU time × TDP, but no function's
 *   energy can be measured. All energy figures are null.
 * - `no-sensor`: the native sampler cannot be opened at all. All energy figures are null.
 */
export type MeasurementQuality = 'measured' | 'below-resolution' | 'estimate-only' | 'no-sensor';

/** Which devices to measure. */
export type DeviceKind = 'cpu' | 'gpu';

/** Options of {@link measureEnergy}. Every field is optional. */
export interface MeasureEnergyOptions {
  /** Devices whose domains are measured. Default: every device found (`['cpu', 'gpu']`). */
  devices?: readonly DeviceKind[];
  /** Minimum energy of one batch in every domain, J. Default per domain: 1000 × its resolution (61 mJ for Intel RAPL). */
  minBatchEnergyJ?: number;
  /** Minimum duration of one batch, ms. Default: 50 × the longest update period of the measured domains (50 ms for RAPL). */
  minBatchMs?: number;
  /** Number of measured batches (≥ 2 for an interval). Default 10. */
  batches?: number;
  /** Budget for the whole measurement (idle, warm-up, calibration, batches), ms. Default 60000. */
  maxTimeMs?: number;
  /**
   * Calls per batch, fixed: skips calibration (the criteria are still checked and the quality
   * says whether they were met). Default: calibrated.
   */
  iterationsPerBatch?: number;
  /** Warm-up time before calibration, ms (at least one call). Default 100. */
  warmupMs?: number;
  /** Idle windows read before and after the batches, each the length of a batch's minimum duration. Default 3 each side. */
  idleWindows?: number;
  /**
   * Idle baseline instead of measuring it: watts for the only top-level domain measured, or
   * watts per domain id. Domains without a given baseline are measured idle.
   */
  idlePowerW?: number | Readonly<Record<string, number>>;
  /** Root under which /sys, /proc and /dev are read (simulated hardware). Passed to the sampler. */
  hardwareRoot?: string;
  /** Path of the NVML library; `''` disables NVML. Passed to the sampler. */
  nvmlLibrary?: string;
  /** GPUs to include, by NVML index or UUID (prefix). Passed to the sampler. */
  gpuIds?: string[];
  /** Counters to use instead of the native sampler (custom sensors, tests). */
  source?: EnergyCounterSource;
}

/** A 95% confidence interval, J (or s for time). */
export interface ConfidenceInterval {
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
}

/** The energy of one call in one domain, one device, or everything measured. */
export interface EnergyFigure {
  /** How far the numbers can be trusted; the numbers are null unless they are meaningful. */
  quality: MeasurementQuality;
  /** Why, in words. */
  message: string;
  /** Energy the domain(s) used per call, idle included, J. Null unless the counter criteria were met. */
  totalJ: number | null;
  /** 95% interval of `totalJ` across batches, J. */
  totalCi95J: ConfidenceInterval | null;
  /** Energy per call above idle (total − idle power × time per call), J. Null unless `quality` is `measured`. */
  activeJ: number | null;
  /** 95% interval of `activeJ` (batches and idle baseline), J. Null unless `quality` is `measured`. */
  activeCi95J: ConfidenceInterval | null;
  /** For `below-resolution`: the active energy per call is at most this (J). Null otherwise. */
  upperBoundJ: number | null;
  /** Mean power while the batches ran, W. Null unless the counter criteria were met. */
  meanPowerW: number | null;
  /** Idle baseline used, W. Null when no baseline was obtained. */
  idlePowerW: number | null;
  /** Energy of one batch, J (mean), or null without counters. */
  batchEnergyJ: number | null;
  /** Minimum batch energy required, J. */
  minBatchEnergyJ: number | null;
}

/** The energy of one call in one domain. */
export interface DomainEnergy extends EnergyFigure {
  /** The domain. */
  domain: DomainInfo;
  /** Idle power read before the batches, W (null when given or not read). */
  idleBeforeW: number | null;
  /** Idle power read after the batches, W (null when given or not read). */
  idleAfterW: number | null;
  /** Where the idle baseline comes from. */
  idleSource: 'measured' | 'given' | null;
  /** Whether the domain is summed into its device (top-level, not psys when a package exists). */
  summed: boolean;
}

/** The result of {@link measureEnergy}: figures per call. */
export interface EnergyMeasurement extends EnergyFigure {
  /** Per device: the sum of its top-level domains (null when the device has no measured domain). */
  devices: { cpu: EnergyFigure | null; gpu: EnergyFigure | null };
  /** Per domain, in reading order. */
  domains: DomainEnergy[];
  /** Wall time per call, s (null when the function was not run). */
  timePerOpS: number | null;
  /** 95% interval of `timePerOpS` across batches. */
  timePerOpCi95S: ConfidenceInterval | null;
  /** Calls measured (calibration and warm-up excluded). */
  iterations: number;
  /** Batches measured. */
  batches: number;
  /** Calls per batch. */
  iterationsPerBatch: number;
  /** Mean duration of a batch, ms. */
  batchMs: number | null;
  /** Duration of each measured batch, ms (between its two counter readings). */
  batchDurationsMs: number[];
  /** Minimum batch duration required, ms. */
  minBatchMs: number | null;
  /** Wall time of the whole measurement, ms. */
  elapsedMs: number;
  /** Whether the function returned promises (awaited one after another). */
  async: boolean;
  /** Sensors that exist but cannot be read. */
  unavailable: readonly UnavailableSensor[];
}

const QUALITY_RANK: Record<MeasurementQuality, number> = {
  measured: 0,
  'below-resolution': 1,
  'estimate-only': 2,
  'no-sensor': 3,
};

/** The least trustworthy of several qualities. */
export function worstQuality(qualities: readonly MeasurementQuality[]): MeasurementQuality {
  let worst: MeasurementQuality = 'measured';
  for (const q of qualities) if (QUALITY_RANK[q] > QUALITY_RANK[worst]) worst = q;
  return worst;
}

/** A figure with no numbers (quality says why). */
export function emptyFigure(quality: MeasurementQuality, message: string): EnergyFigure {
  return {
    quality,
    message,
    totalJ: null,
    totalCi95J: null,
    activeJ: null,
    activeCi95J: null,
    upperBoundJ: null,
    meanPowerW: null,
    idlePowerW: null,
    batchEnergyJ: null,
    minBatchEnergyJ: null,
  };
}
