/**
 * measureEnergy: the energy of one call of a function, measured honestly on counters whose
 * step (61 µJ for Intel RAPL, 1 mJ for NVML) and update period (~1 ms RAPL, 10–100 ms NVML)
 * are far coarser than a microbenchmark's call.
 *
 * Method:
 *  1. idle power is read before the run (the process sleeps; the counters are read at the ends
 *     of several windows), unless a baseline is given;
 *  2. a warm-up estimates the time per call;
 *  3. calibration grows the batch (calls between two fresh counter readings) until a batch
 *     lasts ≥ minBatchMs and accumulates ≥ minBatchEnergyJ in every domain, within the time
 *     budget;
 *  4. `batches` batches of that size are measured back to back (each batch's end reading is
 *     the next one's start);
 *  5. idle power is read again after the run; the idle baseline is the mean of all windows;
 *  6. per call: total = batch energy / calls, active = (batch energy − idle power × batch
 *     time) / calls, with a 95% Student t interval across batches that also carries the
 *     uncertainty of the idle baseline (Welch–Satterthwaite).
 *
 * The steps live in their own modules: `plan.ts` (options, domains, criteria), `runner.ts`
 * (steps 1–5: reading counters and calling the function) and `analysis.ts` (step 6, pure).
 * A figure that cannot be trusted is never returned as a number: see {@link MeasurementQuality}.
 */
import type { UnavailableSensor } from '../native/types.js';
import { analyseMeasurement, describeUnavailable } from './analysis.js';
import { planMeasurement, resolveOptions } from './plan.js';
import { nowNs, runMeasurement } from './runner.js';
import { openNativeSource, type EnergyCounterSource } from './source.js';
import { emptyFigure, type EnergyMeasurement, type MeasureEnergyOptions, type MeasurementQuality } from './types.js';
import { rejectUnknownOptions } from '../options-check.js';

/** The keys of {@link MeasureEnergyOptions}. */
export const MEASURE_ENERGY_OPTIONS = [
  'devices', 'minBatchEnergyJ', 'minBatchMs', 'batches', 'maxTimeMs', 'iterationsPerBatch', 'warmupMs',
  'idleWindows', 'idlePowerW', 'hardwareRoot', 'nvmlLibrary', 'gpuIds', 'source',
] as const satisfies readonly (keyof MeasureEnergyOptions)[];

export {
  worstQuality,
  type MeasurementQuality,
  type DeviceKind,
  type MeasureEnergyOptions,
  type ConfidenceInterval,
  type EnergyFigure,
  type DomainEnergy,
  type EnergyMeasurement,
} from './types.js';

/** A result without figures: nothing could be measured. */
function unmeasured(
  quality: Extract<MeasurementQuality, 'estimate-only' | 'no-sensor'>,
  message: string,
  unavailable: readonly UnavailableSensor[],
  startNs: number,
): EnergyMeasurement {
  return {
    ...emptyFigure(quality, message),
    devices: { cpu: null, gpu: null },
    domains: [],
    timePerOpS: null,
    timePerOpCi95S: null,
    iterations: 0,
    batches: 0,
    iterationsPerBatch: 0,
    batchMs: null,
    batchDurationsMs: [],
    minBatchMs: null,
    elapsedMs: (nowNs() - startNs) / 1e6,
    async: false,
    unavailable,
  };
}

/**
 * Measure the energy of one call of `fn` (sync, or async: a returned promise is awaited
 * before the next call). See the module documentation for the method and
 * {@link MeasurementQuality} for what the figures mean.
 *
 * @example
 * const m = await measureEnergy(() => JSON.parse(text), { devices: ['cpu'] });
 * if (m.quality === 'measured') console.log(`${m.activeJ! * 1e6} µJ per call`);
 * else console.log(m.message);
 */
export async function measureEnergy(fn: () => unknown, options: MeasureEnergyOptions = {}): Promise<EnergyMeasurement> {
  if (typeof fn !== 'function') throw new TypeError('measureEnergy: fn must be a function');
  rejectUnknownOptions('measureEnergy', options, MEASURE_ENERGY_OPTIONS);
  const startNs = nowNs();
  const resolved = resolveOptions(options);

  let source: EnergyCounterSource;
  if (options.source !== undefined) source = options.source;
  else {
    const opened = await openNativeSource({
      ...(options.hardwareRoot !== undefined ? { hardwareRoot: options.hardwareRoot } : {}),
      ...(options.nvmlLibrary !== undefined ? { nvmlLibrary: options.nvmlLibrary } : {}),
      ...(options.gpuIds !== undefined ? { gpuIds: options.gpuIds } : {}),
    });
    if (!opened.ok) return unmeasured('no-sensor', `No energy sensor: ${opened.reason}.`, [], startNs);
    source = opened.source;
  }

  try {
    const unavailable = source.unavailable ?? [];
    const plan = planMeasurement(source.domains, resolved);
    if (!('positions' in plan)) {
      // GPU power samples are an estimate in themselves; otherwise the CPU time counters are.
      const estimates = plan.powerOnly > 0 || source.estimatesAvailable !== false;
      return unmeasured(
        estimates ? 'estimate-only' : 'no-sensor',
        `${estimates ? 'Estimates only' : 'No energy sensor'}: ${plan.why}${describeUnavailable(unavailable)}`,
        unavailable,
        startNs,
      );
    }
    const run = await runMeasurement(fn, source, plan, resolved, startNs);
    return analyseMeasurement(plan, run, { maxTimeMs: resolved.maxTimeMs, unavailable, elapsedMs: (nowNs() - startNs) / 1e6 });
  } finally {
    source.release?.();
  }
}
