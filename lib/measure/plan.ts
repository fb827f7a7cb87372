/**
 * Planning a measurement: the options checked and defaulted, the domains that can resolve a
 * call, each domain's criteria (minimum batch time and energy) and the idle baselines given.
 * Pure: nothing here reads a counter or runs the function.
 */
import type { DomainInfo } from '../native/types.js';
import type { DeviceKind, MeasureEnergyOptions } from './types.js';

/** The options of measureEnergy, checked and defaulted. */
export interface ResolvedOptions {
  batches: number;
  maxTimeMs: number;
  warmupMs: number;
  idleWindows: number;
  /** Calls per batch when fixed (no calibration). */
  fixedN: number | undefined;
  minBatchMsOption: number | undefined;
  minBatchEnergyOption: number | undefined;
  devices: readonly DeviceKind[];
  idlePowerW: MeasureEnergyOptions['idlePowerW'];
}

function positive(name: string, value: number | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

/** Check and default measureEnergy's options (RangeError naming the option). */
export function resolveOptions(options: MeasureEnergyOptions): ResolvedOptions {
  const devices = options.devices ?? ['cpu', 'gpu'];
  for (const d of devices) {
    if (d !== 'cpu' && d !== 'gpu') throw new RangeError(`option devices: unknown device ${JSON.stringify(d)}`);
  }
  return {
    batches: positive('batches', options.batches, true) ?? 10,
    maxTimeMs: positive('maxTimeMs', options.maxTimeMs) ?? 60000,
    warmupMs: options.warmupMs === 0 ? 0 : positive('warmupMs', options.warmupMs) ?? 100,
    idleWindows: positive('idleWindows', options.idleWindows, true) ?? 3,
    fixedN: positive('iterationsPerBatch', options.iterationsPerBatch, true),
    minBatchMsOption: positive('minBatchMs', options.minBatchMs),
    minBatchEnergyOption: positive('minBatchEnergyJ', options.minBatchEnergyJ),
    devices,
    idlePowerW: options.idlePowerW,
  };
}

/** Why no domain of the source can resolve a call. */
export interface NothingToMeasure {
  /** GPU domains with power samples only (no energy counter). */
  powerOnly: number;
  /** In words. */
  why: string;
}

/** What will be measured and what each batch must reach. */
export interface MeasurementPlan {
  /** Positions of the measured domains in the source's readings. */
  positions: number[];
  /** The measured domains (counters only: integrated power samples cannot resolve a call). */
  domains: DomainInfo[];
  /** GPU domains left out because they only have power samples. */
  powerOnly: number;
  /** Minimum batch duration per measured domain, ms. */
  domainMinMs: number[];
  /** Minimum batch energy per measured domain, µJ. */
  domainMinUj: number[];
  /** The longest of `domainMinMs`. */
  minBatchMs: number;
  /** Idle baseline given per measured domain, W (null: measured). */
  given: Array<number | null>;
  /** Whether any domain needs idle windows. */
  needIdle: boolean;
  /** Length of one idle window, ms. */
  idleWindowMs: number;
  /** Time the idle windows of one side take, ms. */
  idlePhaseMs: number;
}

/** Plan a measurement over `all` domains, or say why nothing can be measured. */
export function planMeasurement(all: readonly DomainInfo[], o: ResolvedOptions): MeasurementPlan | NothingToMeasure {
  const positions: number[] = [];
  let powerOnly = 0;
  for (let i = 0; i < all.length; i++) {
    const d = all[i]!;
    if (!o.devices.includes(d.device)) continue;
    if (d.method === 'nvml-power') {
      powerOnly++;
      continue;
    }
    positions.push(i);
  }
  if (positions.length === 0) {
    const why =
      powerOnly > 0
        ? 'only GPU power samples are available (no energy counter); integrated power cannot resolve one call.'
        : all.length > 0
          ? `no energy counter for the selected devices (${o.devices.join(', ')}).`
          : 'no energy counter is readable on this machine.';
    return { powerOnly, why };
  }
  const domains = positions.map((i) => all[i]!);
  const domainMinMs = domains.map((d) => o.minBatchMsOption ?? 50 * Math.max(1, d.updatePeriodMs || 1));
  const domainMinUj = domains.map((d) =>
    o.minBatchEnergyOption !== undefined ? o.minBatchEnergyOption * 1e6 : 1000 * (d.resolutionUj > 0 ? d.resolutionUj : 1),
  );
  const minBatchMs = Math.max(...domainMinMs);
  const given = givenIdle(domains, o.idlePowerW);
  const needIdle = given.some((g) => g === null);
  // Idle windows last a batch's minimum duration, but together (before and after) at most
  // 40% of the budget: a coarse counter then gives a coarser (and wider) baseline, not a
  // measurement that overruns maxTimeMs.
  const idleWindowMs = Math.max(1, Math.min(minBatchMs, (0.4 * o.maxTimeMs) / (2 * o.idleWindows)));
  return {
    positions,
    domains,
    powerOnly,
    domainMinMs,
    domainMinUj,
    minBatchMs,
    given,
    needIdle,
    idleWindowMs,
    idlePhaseMs: needIdle ? o.idleWindows * idleWindowMs : 0,
  };
}

/** The idle baselines given per measured domain (null where it is to be measured). */
function givenIdle(domains: readonly DomainInfo[], idlePowerW: ResolvedOptions['idlePowerW']): Array<number | null> {
  const given: Array<number | null> = domains.map(() => null);
  if (typeof idlePowerW === 'number') {
    if (!Number.isFinite(idlePowerW) || idlePowerW < 0) {
      throw new RangeError(`option idlePowerW must be ≥ 0 W, got ${idlePowerW}`);
    }
    const top = domains.map((d, k) => (d.parentId === null ? k : -1)).filter((k) => k >= 0);
    if (top.length !== 1) {
      throw new RangeError(
        `option idlePowerW: a single number needs exactly one top-level domain, found ${top.length} (${top
          .map((k) => domains[k]!.id)
          .join(', ')}); give { [domainId]: watts } instead`,
      );
    }
    given[top[0]!] = idlePowerW;
  } else if (idlePowerW !== undefined) {
    const known = new Set(domains.map((d) => d.id));
    for (const [id, watts] of Object.entries(idlePowerW)) {
      if (!known.has(id)) {
        throw new RangeError(`option idlePowerW: unknown domain ${JSON.stringify(id)}; measured domains: ${[...known].join(', ')}`);
      }
      if (typeof watts !== 'number' || !Number.isFinite(watts) || watts < 0) {
        throw new RangeError(`option idlePowerW[${JSON.stringify(id)}] must be ≥ 0 W, got ${String(watts)}`);
      }
    }
    domains.forEach((d, k) => {
      const w = idlePowerW[d.id];
      if (w !== undefined) given[k] = w;
    });
  }
  return given;
}
