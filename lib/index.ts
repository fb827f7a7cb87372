/// <reference types="node" preserve="true" />
// The declarations use Node's types (NodeJS.ProcessEnv, Disposable, …): @types/node is a dependency.
/**
 * lamarr-energy-tracker: measure the energy and CO2 of Node.js code and any command, store
 * every run in a CodeCarbon-compatible `emissions.csv`, and write the impact statement for
 * your paper.
 *
 * ```ts
 * import { EnergyTracker } from 'lamarr-energy-tracker';
 * const tracker = new EnergyTracker({ projectName: 'my-paper' }).start();
 * // … your workload …
 * tracker.stop();
 * ```
 */
export { EnergyTracker, RunNotStoredError, type TrackerSnapshot, type StopOptions } from './tracker/energy-tracker.js';
export type { EnergyTrackerOptions, TrackingMode } from './tracker/options.js';
export { describeMethod } from './tracker/components.js';

export { loadResults, deleteResults, emissionsFile } from './store/index.js';
export type {
  EmissionsRecord,
  LoadedRecord,
  ResultFilters,
  EnergyMethod,
  RunStatus,
} from './store/schema.js';
export { ALL_COLUMNS, CODECARBON_COLUMNS, TRACKER_COLUMNS } from './store/schema.js';

export {
  paperStatement,
  printPaperStatement,
  customPaperStatement,
  printCustomPaperStatement,
  bibtex,
} from './statement/index.js';
export { carbonIntensity, listCountries } from './carbon/index.js';

export { probe } from './native/probe.js';
export type {
  ProbeResult,
  DomainInfo,
  UnavailableSensor,
  SensorMethod,
  DomainKind,
} from './native/types.js';
export { machineReport, formatMachineReport, type MachineReport } from './diagnostics/machine-report.js';

export {
  measureEnergy,
  withEnergy,
  measureBenchEnergy,
  energyTable,
  formatEnergyPerOp,
  type MeasureEnergyOptions,
  type EnergyMeasurement,
  type MeasurementQuality,
  type TaskEnergy,
  type BenchEnergyOptions,
} from './measure/index.js';

export { TRACKER_VERSION as version } from './version.js';
