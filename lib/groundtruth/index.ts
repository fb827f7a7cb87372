/**
 * Wall-plug ground truth: plug readers (Tasmota, Shelly Gen2/Gen1), the ground-truth server
 * and its client, calibration, and simulated plugs. See docs/ground-truth.md.
 */
export { SimulatedPlug, type SimulatedPlugOptions, type PlugBehaviour } from './simulated-plug.js';
export { calibrate, calibrationReport, CALIBRATION_MIN_RUNS, CALIBRATION_MAX_RELATIVE_UNCERTAINTY, type HostCalibration } from './calibration.js';
export { probeGroundTruth, formatGroundTruthProbe, type GroundTruthProbe } from './probe.js';
export { startGroundTruthServer, loadServerConfig, type GroundTruthServerConfig, type RunningGroundTruthServer } from './server.js';
export type { GroundTruthOptions, DirectPlugOptions, GroundTruthServerOptions } from './config.js';
export type { WallPlugSummary } from './statement-part.js';
export type { WallEnergy, WallEnergyMethod } from './window.js';
export { belowResolution } from './window.js';
export { wallEnergySummary, noGroundTruthLabel } from './describe.js';
