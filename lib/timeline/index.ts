/**
 * Power timelines: per run, the cumulative energy of each component over time, downsampled
 * to at most 2,000 points without losing energy, stored beside the store as
 * `<outputDir>/timelines/<run_id>.json` (format: docs/timelines.md).
 */
export {
  TIMELINE_FORMAT,
  TIMELINE_VERSION,
  TIMELINE_MAX_POINTS,
  validateTimeline,
  timelineEnergyJ,
  timelinePower,
  type Timeline,
  type TimelineData,
  type TimelineComponent,
  type TimelineComponentName,
  type PowerSegment,
} from './format.js';
export { keptIndices, downsampleCumulative } from './downsample.js';
export { loadTimeline, writeTimeline, storeTimelineOrWarn, timelinePath, timelinesDirectory, listTimelines, deleteTimeline, pruneTimelines, TIMELINES_DIRECTORY, type TimelineStoreOptions } from './store.js';
export { deleteResults, deleteRunsAndTimelines, type DeletedRuns } from './delete-results.js';
export { TimelineRecorder, drainPeriodMs, type TimelineSource, type TimelineRecorderOptions, type EnergyAt } from './recorder.js';
