/**
 * The stored form of a run's power timeline (docs/timelines.md describes it for other tools).
 *
 * A timeline keeps, at each kept time, the CUMULATIVE energy of each component since the run
 * started (joules, PUE not applied), never an instantaneous power: the power over a segment is
 * the energy difference divided by the time difference, and the last point of each component
 * is exactly the energy the run's record was computed from, whichever points were dropped.
 */

/** The `format` field of every timeline file. */
export const TIMELINE_FORMAT = 'lamarr-energy-tracker/timeline';
/** The version of the format this code writes and reads. */
export const TIMELINE_VERSION = 1;
/** Most points a stored timeline keeps (first and last included). */
export const TIMELINE_MAX_POINTS = 2000;

/** A component of a run, as in the record's `<component>_energy` columns. */
export type TimelineComponentName = 'cpu' | 'gpu' | 'ram';

/** One component's series. */
export interface TimelineComponent {
  component: TimelineComponentName;
  /** The record's `<component>_energy_method` (`measured:powercap`, `estimated:tdp-load-model`, …). */
  method: string;
  /** True when the energy comes from a model (TDP, DIMM), not from a counter. */
  estimated: boolean;
  /** Cumulative energy since the start at each point of `t_s`, J (PUE not applied); starts at 0. */
  energy_j: number[];
}

/** A run's timeline, as stored in `<outputDir>/timelines/<run_id>.json`. */
export interface Timeline {
  format: typeof TIMELINE_FORMAT;
  version: typeof TIMELINE_VERSION;
  run_id: string;
  /** Wall-clock start of the run, ISO 8601 UTC. */
  start_time: string;
  /** The run's duration, s (the record's `duration`; equal to the last `t_s`). */
  duration_s: number;
  /** The PUE the record applied: record `<component>_energy` (kWh) = last energy_j × pue ÷ 3.6e6. */
  pue: number;
  /** The tracker's sampling interval, ms (the resolution before downsampling). */
  sampling_interval_ms: number;
  /** Seconds since the start of each point; starts at 0, never decreases. */
  t_s: number[];
  /** Components with energy (a GPU that was not counted has no series). */
  components: TimelineComponent[];
}

/** A timeline before it is tied to a run id. */
export type TimelineData = Omit<Timeline, 'run_id'>;

const COMPONENTS = new Set<string>(['cpu', 'gpu', 'ram']);

function fail(origin: string, what: string): never {
  throw new Error(`${origin}: not a valid timeline: ${what}`);
}

function numberArray(origin: string, name: string, value: unknown, length?: number): number[] {
  if (!Array.isArray(value)) fail(origin, `${name} must be an array of numbers`);
  if (length !== undefined && value.length !== length) fail(origin, `${name} has ${value.length} entries, t_s has ${length}`);
  for (let index = 0; index < value.length; index++) {
    const entry: unknown = value[index];
    if (typeof entry !== 'number' || !Number.isFinite(entry)) fail(origin, `${name}[${index}] is not a finite number`);
  }
  return value as number[];
}

/**
 * Checks a parsed timeline file and returns it typed.
 * @param origin names the input in error messages (usually the file path).
 * @throws {Error} naming the input and the first thing wrong.
 */
export function validateTimeline(value: unknown, origin: string): Timeline {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(origin, 'not a JSON object');
  const object = value as Record<string, unknown>;
  if (object.format !== TIMELINE_FORMAT) fail(origin, `format must be "${TIMELINE_FORMAT}"`);
  if (object.version !== TIMELINE_VERSION) fail(origin, `version ${String(object.version)} is not supported (this tracker reads version ${TIMELINE_VERSION})`);
  if (typeof object.run_id !== 'string' || object.run_id === '') fail(origin, 'run_id must be a non-empty string');
  if (typeof object.start_time !== 'string' || Number.isNaN(Date.parse(object.start_time))) fail(origin, 'start_time must be an ISO 8601 time');
  for (const key of ['duration_s', 'pue', 'sampling_interval_ms'] as const) {
    const entry = object[key];
    if (typeof entry !== 'number' || !Number.isFinite(entry) || entry < 0) fail(origin, `${key} must be a number ≥ 0`);
  }
  const t = numberArray(origin, 't_s', object.t_s);
  if (t.length < 2) fail(origin, 't_s must have at least 2 points (start and end)');
  if (t[0] !== 0) fail(origin, 't_s must start at 0');
  for (let index = 1; index < t.length; index++) if (t[index]! < t[index - 1]!) fail(origin, `t_s decreases at ${index}`);
  if (!Array.isArray(object.components)) fail(origin, 'components must be an array');
  const seen = new Set<string>();
  object.components.forEach((entry: unknown, position: number) => {
    if (entry === null || typeof entry !== 'object') fail(origin, `components[${position}] must be an object`);
    const component = entry as Record<string, unknown>;
    if (typeof component.component !== 'string' || !COMPONENTS.has(component.component)) fail(origin, `components[${position}].component must be cpu, gpu or ram`);
    if (seen.has(component.component)) fail(origin, `component ${component.component} appears twice`);
    seen.add(component.component);
    if (typeof component.method !== 'string') fail(origin, `components[${position}].method must be a string`);
    if (typeof component.estimated !== 'boolean') fail(origin, `components[${position}].estimated must be a boolean`);
    const energy = numberArray(origin, `components[${position}].energy_j`, component.energy_j, t.length);
    if (energy[0] !== 0) fail(origin, `components[${position}].energy_j must start at 0`);
  });
  return object as unknown as Timeline;
}

/** Energy of each component over the whole timeline, J (its last point). */
export function timelineEnergyJ(timeline: Pick<Timeline, 'components'>): Partial<Record<TimelineComponentName, number>> {
  const energy: Partial<Record<TimelineComponentName, number>> = {};
  for (const component of timeline.components) energy[component.component] = component.energy_j.at(-1) ?? 0;
  return energy;
}

/** One segment's mean power per component, W (the segment between points k−1 and k). */
export interface PowerSegment {
  /** Start and end of the segment, s since the start of the run. */
  fromS: number;
  toS: number;
  /** Mean power over the segment per component, in the order of `components`. */
  watts: number[];
}

/**
 * Mean power per segment (energy difference ÷ time difference). Segments of zero length (two
 * points at the same time) are merged into the next one, so their energy is not lost.
 */
export function timelinePower(timeline: Pick<Timeline, 't_s' | 'components'>): PowerSegment[] {
  const { t_s: t, components } = timeline;
  const segments: PowerSegment[] = [];
  let from = 0;
  for (let index = 1; index < t.length; index++) {
    const dt = t[index]! - t[from]!;
    if (dt <= 0) continue;
    segments.push({
      fromS: t[from]!,
      toS: t[index]!,
      watts: components.map((component) => (component.energy_j[index]! - component.energy_j[from]!) / dt),
    });
    from = index;
  }
  return segments;
}
