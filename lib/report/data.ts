/**
 * Everything the HTML report shows, aggregated in Node: per-project totals, statements and
 * BibTeX, per-run energies by component (measured or estimated), wall-plug ground truth,
 * hardware configurations, methodology labels and the runs' timelines (downsampled again to a
 * page-wide point budget, energy preserved). The browser only draws what this computes.
 */
import type { EmissionsRecord, LoadedRecord } from '../store/schema.js';
import { bibtex, statementFromRecords } from '../statement/index.js';
import { describeMethod } from '../tracker/components.js';
import { keptIndices, pick } from '../timeline/downsample.js';
import type { Timeline } from '../timeline/format.js';

const JOULES_PER_KWH = 3.6e6;

/**
 * A run as the report reads it: a stored record (or one built by hand), optionally with the
 * wall-plug fields (`wall_energy` kWh, `wall_energy_method`, `wall_energy_uncertainty` kWh).
 */
export type ReportRecord = EmissionsRecord & {
  written_by?: LoadedRecord['written_by'];
  wall_energy?: number | null;
  wall_energy_method?: string;
  wall_energy_uncertainty?: number | null;
};

/** How a component's energy was obtained, as the report draws it. */
export type EnergyKind = 'measured' | 'estimated' | 'none';

/** Totals over a set of runs. */
export interface ReportTotals {
  runs: number;
  /** Exact sums of the records' columns, kWh (PUE applied, as stored). */
  energyKwh: number;
  cpuKwh: number;
  gpuKwh: number;
  ramKwh: number;
  /** Sum of `emissions`, kg CO2eq. */
  emissionsKg: number;
  /** Energy of the components that were measured (not estimated), kWh. */
  measuredKwh: number;
  /** Runs with a wall-plug measurement, and their wall energy and tracked energy, kWh. */
  wallRuns: number;
  wallKwh: number;
  wallTrackedKwh: number;
}

/** One project's section. */
export interface ReportProject {
  name: string;
  totals: ReportTotals;
  /** Index range of the project's runs in {@link ReportRuns} (sorted by time). */
  firstRun: number;
  endRun: number;
  /** The paper statement (text, with `\cite`), its LaTeX form, the comparison sentence and the BibTeX. */
  statement: string;
  statementLatex: string;
  comparison: string | null;
  bibtex: string;
  /** Why there is no statement (e.g. no energy), when there is none. */
  statementError: string | null;
}

/** Per-run columns (one entry per run, runs sorted by project then time). */
export interface ReportRuns {
  id: string[];
  project: number[];
  timestamp: string[];
  durationS: number[];
  /** Energies in J (PUE applied, as stored; 6 significant digits). */
  cpuJ: number[];
  gpuJ: number[];
  ramJ: number[];
  totalJ: number[];
  emissionsG: number[];
  /** Index into {@link ReportData.methods} per component. */
  cpuMethod: number[];
  gpuMethod: number[];
  ramMethod: number[];
  /** Wall-plug energy in J, or null. */
  wallJ: (number | null)[];
  wallUncertaintyJ: (number | null)[];
  wallMethod: string[];
  /** Index into {@link ReportData.configurations}. */
  configuration: number[];
  status: string[];
  /** Whether the page carries the run's timeline. */
  hasTimeline: boolean[];
}

/** A method label and its kind. */
export interface ReportMethod {
  label: string;
  kind: EnergyKind;
  description: string;
}

/** A hardware configuration and its runs. */
export interface ReportConfiguration {
  hostname: string;
  cpu: string;
  cpuCount: number | null;
  gpu: string;
  gpuCount: number | null;
  ramGiB: number | null;
  runs: number;
  energyKwh: number;
}

/** A combination of method labels and its runs. */
export interface ReportMethodology {
  cpu: string;
  gpu: string;
  ram: string;
  runs: number;
  energyKwh: number;
}

/** A run's timeline as the page draws it: mean power per segment. */
export interface ReportTimeline {
  /** Segment boundaries, s since the start (n + 1 entries for n segments). */
  t: number[];
  series: Array<{ component: string; method: string; estimated: boolean; watts: number[] }>;
}

/** Everything the page shows. */
export interface ReportData {
  title: string;
  generated: string;
  filters: string;
  totals: ReportTotals;
  projects: ReportProject[];
  runs: ReportRuns;
  methods: ReportMethod[];
  configurations: ReportConfiguration[];
  methodology: ReportMethodology[];
  /** Timelines by run index. */
  timelines: Record<number, ReportTimeline>;
  /** Points each embedded timeline was limited to. */
  timelinePointsPerRun: number;
  notes: string[];
}

/** Options of {@link buildReportData}. */
export interface ReportDataOptions {
  title?: string;
  /** Words describing the filters that selected the runs. */
  filters?: string;
  /** Time printed as the generation time. Default now. */
  generated?: Date;
  /** Total timeline points the page may carry (spread over the runs with a timeline). Default 300,000. */
  timelinePointBudget?: number;
}

/** The kind of a `*_energy_method` label: measured, estimated (models and unlabelled rows) or none. */
export function methodKind(method: string): EnergyKind {
  if (method.startsWith('measured:')) return 'measured';
  if (method.startsWith('none:')) return 'none';
  return 'estimated';
}

function wallFields(record: ReportRecord): { kwh: number | null; uncertaintyKwh: number | null; method: string } {
  const fields = record as unknown as Partial<Record<string, unknown>>;
  const finite = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  const method = typeof fields.wall_energy_method === 'string' ? fields.wall_energy_method : '';
  return { kwh: finite(fields.wall_energy), uncertaintyKwh: finite(fields.wall_energy_uncertainty), method };
}

function emptyTotals(): ReportTotals {
  return { runs: 0, energyKwh: 0, cpuKwh: 0, gpuKwh: 0, ramKwh: 0, emissionsKg: 0, measuredKwh: 0, wallRuns: 0, wallKwh: 0, wallTrackedKwh: 0 };
}

function addToTotals(totals: ReportTotals, record: ReportRecord): void {
  totals.runs++;
  totals.energyKwh += record.energy_consumed ?? 0;
  totals.cpuKwh += record.cpu_energy ?? 0;
  totals.gpuKwh += record.gpu_energy ?? 0;
  totals.ramKwh += record.ram_energy ?? 0;
  totals.emissionsKg += record.emissions ?? 0;
  if (methodKind(record.cpu_energy_method) === 'measured') totals.measuredKwh += record.cpu_energy ?? 0;
  if (methodKind(record.gpu_energy_method) === 'measured') totals.measuredKwh += record.gpu_energy ?? 0;
  if (methodKind(record.ram_energy_method) === 'measured') totals.measuredKwh += record.ram_energy ?? 0;
  const wall = wallFields(record);
  if (wall.kwh !== null) {
    totals.wallRuns++;
    totals.wallKwh += wall.kwh;
    totals.wallTrackedKwh += record.energy_consumed ?? 0;
  }
}

/**
 * `value` to `digits` significant digits, printing as a short decimal: an integer divided by a
 * power of ten is the double nearest that decimal (and 3× faster than `toPrecision`).
 */
function significant(value: number, digits: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const exponent = digits - 1 - Math.floor(Math.log10(Math.abs(value)));
  if (exponent >= 0) {
    const scale = 10 ** exponent;
    return Math.round(value * scale) / scale;
  }
  const step = 10 ** -exponent;
  return Math.round(value / step) * step;
}

/** Six significant digits: enough to draw and read, a third of the bytes of a full double. */
function round6(value: number): number {
  return significant(value, 6);
}

function round4(value: number): number {
  return significant(value, 4);
}

function interner<T>(list: T[], keyOf: (value: T) => string): (value: T) => number {
  const index = new Map<string, number>();
  return (value) => {
    const key = keyOf(value);
    let position = index.get(key);
    if (position === undefined) {
      position = list.length;
      list.push(value);
      index.set(key, position);
    }
    return position;
  };
}

function projectStatement(name: string, records: readonly ReportRecord[], totals: ReportTotals, firstRun: number, endRun: number): ReportProject {
  try {
    const statement = statementFromRecords(records, { comparison: true });
    return {
      name,
      totals,
      firstRun,
      endRun,
      statement: statement.text,
      statementLatex: statement.latex,
      comparison: statement.comparison?.sentence ?? null,
      bibtex: bibtex(statement.citations),
      statementError: null,
    };
  } catch (error) {
    return { name, totals, firstRun, endRun, statement: '', statementLatex: '', comparison: null, bibtex: '', statementError: (error as Error).message };
  }
}

/** A timeline as power per segment, downsampled to `maxPoints` (cumulative values kept: energy preserved). */
export function timelineForPage(timeline: Timeline, maxPoints: number): ReportTimeline {
  const kept = keptIndices(timeline.t_s, maxPoints);
  // Times to ~7 significant digits of the run's length; the power of each segment is computed
  // from the times as printed, so that power × time gives the segment's energy back.
  const span = timeline.t_s.at(-1)!;
  const decimals = Math.min(6, Math.max(0, 6 - Math.ceil(Math.log10(Math.max(span, 1e-6)))));
  const t = pick(timeline.t_s, kept).map((seconds) => Number(seconds.toFixed(decimals)));
  return {
    t,
    series: timeline.components.map((component) => {
      const energy = pick(component.energy_j, kept);
      const watts: number[] = [];
      for (let index = 1; index < t.length; index++) {
        const dt = t[index]! - t[index - 1]!;
        watts.push(dt > 0 ? round4((energy[index]! - energy[index - 1]!) / dt) : 0);
      }
      return { component: component.component, method: component.method, estimated: component.estimated, watts };
    }),
  };
}

/**
 * Aggregates the runs (and the timelines found for them) into what the page shows.
 * @param timelineOf returns a run's timeline or null; called once per run.
 */
export function buildReportData(records: readonly ReportRecord[], timelineOf: (runId: string) => Timeline | null, options: ReportDataOptions = {}): ReportData {
  const sorted = [...records].sort((a, b) =>
    a.project_name < b.project_name ? -1 : a.project_name > b.project_name ? 1 : a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0,
  );
  const methods: ReportMethod[] = [];
  const methodIndex = interner(methods, (method) => method.label);
  const method = (label: string) => methodIndex({ label, kind: methodKind(label), description: label === '' ? 'not labelled (a row written by CodeCarbon)' : describeMethod(label) });
  const configurations: ReportConfiguration[] = [];
  const configurationIndex = interner(configurations, (c) => JSON.stringify([c.hostname, c.cpu, c.cpuCount, c.gpu, c.gpuCount, c.ramGiB]));
  const methodology: ReportMethodology[] = [];
  const methodologyIndex = interner(methodology, (m) => JSON.stringify([m.cpu, m.gpu, m.ram]));
  const runs: ReportRuns = {
    id: [], project: [], timestamp: [], durationS: [], cpuJ: [], gpuJ: [], ramJ: [], totalJ: [], emissionsG: [],
    cpuMethod: [], gpuMethod: [], ramMethod: [], wallJ: [], wallUncertaintyJ: [], wallMethod: [], configuration: [], status: [], hasTimeline: [],
  };
  // Totals in the order the runs were given (loadResults' order), so that they equal the sums
  // a caller computes over the same list, to the last bit.
  const totals = emptyTotals();
  const projectTotals = new Map<string, ReportTotals>();
  for (const record of records) {
    addToTotals(totals, record);
    let forProject = projectTotals.get(record.project_name);
    if (forProject === undefined) projectTotals.set(record.project_name, (forProject = emptyTotals()));
    addToTotals(forProject, record);
  }
  const projects: ReportProject[] = [];
  const found: Array<[number, Timeline]> = [];
  const notes: string[] = [];
  let unreadable = 0;

  let projectStart = 0;
  const closeProject = (end: number) => {
    if (end === projectStart) return;
    const name = sorted[projectStart]!.project_name;
    projects.push(projectStatement(name, sorted.slice(projectStart, end), projectTotals.get(name)!, projectStart, end));
    projectStart = end;
  };

  sorted.forEach((record, index) => {
    if (index > 0 && record.project_name !== sorted[index - 1]!.project_name) closeProject(index);
    const joules = (kwh: number | null) => round6((kwh ?? 0) * JOULES_PER_KWH);
    const wall = wallFields(record);
    runs.id.push(record.run_id);
    runs.project.push(projects.length);
    runs.timestamp.push(record.timestamp);
    runs.durationS.push(round6(record.duration ?? 0));
    runs.cpuJ.push(joules(record.cpu_energy));
    runs.gpuJ.push(joules(record.gpu_energy));
    runs.ramJ.push(joules(record.ram_energy));
    runs.totalJ.push(joules(record.energy_consumed));
    runs.emissionsG.push(round6((record.emissions ?? 0) * 1000));
    runs.cpuMethod.push(method(record.cpu_energy_method));
    runs.gpuMethod.push(method(record.gpu_energy_method));
    runs.ramMethod.push(method(record.ram_energy_method));
    runs.wallJ.push(wall.kwh === null ? null : round6(wall.kwh * JOULES_PER_KWH));
    runs.wallUncertaintyJ.push(wall.uncertaintyKwh === null ? null : round6(wall.uncertaintyKwh * JOULES_PER_KWH));
    runs.wallMethod.push(wall.method);
    runs.status.push(record.run_status);
    const configuration = configurationIndex({
      hostname: record.hostname, cpu: record.cpu_model, cpuCount: record.cpu_count, gpu: record.gpu_model, gpuCount: record.gpu_count,
      ramGiB: record.ram_total_size === null ? null : round4(record.ram_total_size), runs: 0, energyKwh: 0,
    });
    configurations[configuration]!.runs++;
    configurations[configuration]!.energyKwh += record.energy_consumed ?? 0;
    runs.configuration.push(configuration);
    const methods3 = methodologyIndex({ cpu: record.cpu_energy_method, gpu: record.gpu_energy_method, ram: record.ram_energy_method, runs: 0, energyKwh: 0 });
    methodology[methods3]!.runs++;
    methodology[methods3]!.energyKwh += record.energy_consumed ?? 0;
    let timeline: Timeline | null = null;
    try {
      timeline = record.run_id === '' ? null : timelineOf(record.run_id);
    } catch {
      unreadable++;
    }
    if (timeline !== null) found.push([index, timeline]);
    runs.hasTimeline.push(timeline !== null);
  });
  closeProject(sorted.length);

  const budget = options.timelinePointBudget ?? 300_000;
  const perRun = Math.min(600, Math.max(16, Math.floor(budget / Math.max(1, found.length))));
  const timelines: Record<number, ReportTimeline> = {};
  for (const [index, timeline] of found) timelines[index] = timelineForPage(timeline, perRun);
  if (unreadable > 0) notes.push(`${unreadable} stored timeline(s) could not be read and are left out.`);
  if (found.some(([, timeline]) => timeline.t_s.length > perRun)) {
    notes.push(`Timelines are shown with at most ${perRun} points each (the stored timelines keep up to 2,000); energy per segment is exact.`);
  }
  return {
    title: options.title ?? 'Energy report',
    generated: (options.generated ?? new Date()).toISOString(),
    filters: options.filters ?? 'all runs',
    totals,
    projects,
    runs,
    methods,
    configurations,
    methodology,
    timelines,
    timelinePointsPerRun: perRun,
    notes,
  };
}
