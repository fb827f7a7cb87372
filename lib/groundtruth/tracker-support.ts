/** What `EnergyTracker` uses of the ground truth (one import keeps its edit small). */
export { GroundTruthSession } from './session.js';
export { NOT_CONFIGURED, wallEnergySummary } from './describe.js';
export type { WallEnergy } from './window.js';
