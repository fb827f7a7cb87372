/**
 * Energy per operation for microbenchmarks: {@link measureEnergy} and the tinybench adapter.
 */
export {
  measureEnergy,
  worstQuality,
  type MeasureEnergyOptions,
  type MeasurementQuality,
  type EnergyMeasurement,
  type EnergyFigure,
  type DomainEnergy,
  type ConfidenceInterval,
  type DeviceKind,
} from './measure.js';
export type { EnergyCounterSource, CounterReading } from './source.js';
export { studentT975 } from './stats.js';
export {
  measureBenchEnergy,
  withEnergy,
  energyOf,
  energyTable,
  formatEnergyPerOp,
  type TaskEnergy,
  type BenchEnergyOptions,
  type EnergyBench,
  type BenchLike,
  type BenchTask,
} from './tinybench.js';
