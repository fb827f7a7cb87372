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

export { loadResults, emissionsFile, repairStore } from './store/index.js';
export { deleteResults } from './timeline/delete-results.js';
export type { RepairResult } from './store/index.js';
export { loadResultsFromStores, resolveStoreDirs, mergeStores, type StoresFilters, type MergeOptions, type MergeResult } from './store/index.js';
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

export { loadTimeline, listTimelines, pruneTimelines, timelineEnergyJ, timelinePower, TIMELINE_MAX_POINTS, type Timeline, type TimelineComponent, type TimelineComponentName, type PowerSegment } from './timeline/index.js';
export { writeReport, buildReport, type ReportOptions, type WrittenReport, type ReportRecord } from './report/index.js';

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

export {
  SimulatedPlug,
  calibrate,
  calibrationReport,
  CALIBRATION_MIN_RUNS,
  probeGroundTruth,
  startGroundTruthServer,
  loadServerConfig,
  type SimulatedPlugOptions,
  type GroundTruthOptions,
  type HostCalibration,
  type WallPlugSummary,
  type GroundTruthProbe,
} from './groundtruth/index.js';

export {
  registerEnergyMetrics,
  METRIC_SPECS,
  metricNames,
  type EnergyMetrics,
  type EnergyMetricsOptions,
  type MetricSpec,
  type MachineSnapshot,
  type DomainLabels,
  type Measurement,
} from './metrics/index.js';
export { startMonitor, type Monitor, type MonitorOptions } from './monitor/monitor.js';
export { onRunStopped, type RunStoppedListener } from './tracker/run-events.js';

export { TRACKER_VERSION as version } from './version.js';
