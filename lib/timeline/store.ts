/**
 * Timelines on disk: one JSON file per run, `<outputDir>/timelines/<run_id>.json`, beside the
 * store's `emissions.csv`. Written atomically (temporary file, then rename), so a reader never
 * sees half a timeline and a crash leaves no partial file under the final name.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOutputDir, makeDirectory } from '../store/index.js';
import { forEachResult } from '../store/query.js';
import { TIMELINE_FORMAT, TIMELINE_VERSION, validateTimeline, type Timeline, type TimelineData } from './format.js';

/** Name of the directory (under the output directory) that holds the timelines. */
export const TIMELINES_DIRECTORY = 'timelines';

/** Options naming the store a timeline belongs to. */
export interface TimelineStoreOptions {
  /** Directory of `emissions.csv`. Default: as `loadResults` (`LET_OUTPUT_DIR` or `~/.let`). */
  outputDir?: string;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function checkRunId(runId: unknown): string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) {
    throw new RangeError(
      `run id ${JSON.stringify(runId)} cannot name a timeline: it must be 1–128 letters, digits, '.', '_' or '-' (a UUID), starting with a letter or digit`,
    );
  }
  return runId;
}

/** Directory of the timelines of a store. */
export function timelinesDirectory(options: TimelineStoreOptions = {}): string {
  return join(options.outputDir ?? defaultOutputDir(), TIMELINES_DIRECTORY);
}

/** Path of a run's timeline file (whether or not it exists). */
export function timelinePath(runId: string, options: TimelineStoreOptions = {}): string {
  return join(timelinesDirectory(options), `${checkRunId(runId)}.json`);
}

/**
 * Writes a run's timeline and returns the file's path. Replaces an existing timeline of the
 * same run atomically.
 */
export function writeTimeline(runId: string, data: TimelineData, options: TimelineStoreOptions = {}): string {
  const { format: _format, version: _version, ...fields } = data;
  const timeline: Timeline = { format: TIMELINE_FORMAT, version: TIMELINE_VERSION, run_id: checkRunId(runId), ...fields };
  const text = JSON.stringify(validateTimeline(timeline, `timeline of run ${runId}`));
  const file = timelinePath(runId, options);
  makeDirectory(timelinesDirectory(options)); // as root in a user's store: the folder goes to that user
  const temporary = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(temporary, `${text}\n`);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return file;
}

/**
 * {@link writeTimeline} for the tracker: a timeline that cannot be written is reported on
 * stderr, never thrown (the run itself is already stored).
 */
export function storeTimelineOrWarn(runId: string, data: TimelineData, options: TimelineStoreOptions): void {
  try {
    writeTimeline(runId, data, options);
  } catch (error) {
    process.stderr.write(`lamarr-energy-tracker: the run was stored, but its power timeline could not be: ${(error as Error).message}\n`);
  }
}

/**
 * A run's power timeline, or null when none is stored (timelines off, a run stored by another
 * tool, or a deleted file).
 *
 * ```ts
 * const timeline = loadTimeline(record.run_id, { outputDir });
 * ```
 * @throws {Error} naming the file when it exists but is not a valid timeline.
 */
export function loadTimeline(runId: string, options: TimelineStoreOptions = {}): Timeline | null {
  const file = timelinePath(runId, options);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: cannot read the timeline: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not a valid timeline: ${(error as Error).message}`, { cause: error });
  }
  const timeline = validateTimeline(parsed, file);
  if (timeline.run_id !== runId) throw new Error(`${file}: not a valid timeline: it belongs to run ${timeline.run_id}, not ${runId}`);
  return timeline;
}

/** Run ids that have a stored timeline (in no particular order). */
export function listTimelines(options: TimelineStoreOptions = {}): string[] {
  const directory = timelinesDirectory(options);
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter((runId) => RUN_ID.test(runId));
}

/** Deletes a run's timeline; returns whether there was one. */
export function deleteTimeline(runId: string, options: TimelineStoreOptions = {}): boolean {
  const file = timelinePath(runId, options);
  if (!existsSync(file)) return false;
  rmSync(file, { force: true });
  return true;
}

/**
 * Deletes the timelines whose run is no longer in the store (after `deleteResults`); returns
 * how many. The timelines are listed before the store is read: a tracker appends its row
 * before it writes its timeline, so a run stored meanwhile is never taken for a deleted one.
 */
export function pruneTimelines(options: TimelineStoreOptions = {}): number {
  const candidates = listTimelines(options);
  if (candidates.length === 0) return 0;
  // The store read a part at a time: what is left of the timelines' run ids is stored nowhere.
  const unstored = new Set(candidates);
  forEachResult(options.outputDir !== undefined ? { outputDir: options.outputDir } : {}, (record) => void unstored.delete(record.run_id));
  let removed = 0;
  for (const runId of unstored) if (deleteTimeline(runId, options)) removed++;
  return removed;
}
