/**
 * The HTML report: one self-contained file (no network at view time) with per-project totals,
 * paper statements and BibTeX, per-run energy by component (measured and estimated drawn
 * differently, wall-plug ground truth where present), any run's power timeline, the hardware
 * configurations and the methodology labels.
 *
 * ```ts
 * import { writeReport } from 'lamarr-energy-tracker';
 * const { file } = writeReport({ projectName: 'my-paper', out: 'report.html' });
 * ```
 */
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadResults } from '../store/index.js';
import type { ResultFilters } from '../store/schema.js';
import { loadTimeline } from '../timeline/store.js';
import type { Timeline } from '../timeline/format.js';
import { buildReportData, type ReportData, type ReportRecord } from './data.js';
import { renderReportHtml } from './html.js';

export { buildReportData, methodKind, timelineForPage } from './data.js';
export type { ReportData, ReportRecord, ReportTotals, ReportProject, ReportRuns, ReportTimeline, ReportDataOptions, EnergyKind } from './data.js';
export { renderReportHtml, escapeHtml } from './html.js';

/** Options of {@link writeReport} and {@link buildReport}. */
export interface ReportOptions extends ResultFilters {
  /** File to write. Default `energy-report.html` in the current directory. */
  out?: string;
  /** The runs to show instead of the stored ones (the filters are then not applied). */
  records?: readonly ReportRecord[];
  /** Timelines by run id; default: those stored under `outputDir` (`loadTimeline`). */
  timelines?: ReadonlyMap<string, Timeline> | ((runId: string) => Timeline | null);
  /** Page title. Default "Energy report". */
  title?: string;
  /** Total timeline points the page may carry. Default 300,000 (≤ 600 per run). */
  timelinePointBudget?: number;
  /** Generation time printed on the page. Default now. */
  generated?: Date;
}

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  /** Absolute path of the HTML file. */
  file: string;
  /** Runs in the report. */
  runs: number;
  /** Runs whose timeline the page carries. */
  timelines: number;
  /** Size of the file in bytes. */
  bytes: number;
}

function describeFilters(options: ReportOptions): string {
  if (options.records !== undefined) return `${options.records.length} run(s) given`;
  const parts: string[] = [];
  if (options.projectName !== undefined) parts.push(`project ${options.projectName}`);
  if (options.user !== undefined) parts.push(`user ${options.user}`);
  if (options.hostname !== undefined) parts.push(`host ${options.hostname}`);
  if (options.since !== undefined) parts.push(`since ${options.since.toISOString()}`);
  if (options.until !== undefined) parts.push(`until ${options.until.toISOString()}`);
  return parts.length === 0 ? 'all stored runs' : parts.join(', ');
}

/** The report's data and HTML, without writing anything. */
export function buildReport(options: Omit<ReportOptions, 'out'> = {}): { data: ReportData; html: string } {
  const { out: _out, records: given, timelines, title, timelinePointBudget, generated, ...filters } = options as ReportOptions;
  const records: readonly ReportRecord[] = given ?? loadResults(filters);
  let timelineOf: (runId: string) => Timeline | null;
  if (timelines === undefined) timelineOf = (runId) => loadTimeline(runId, { ...(filters.outputDir !== undefined ? { outputDir: filters.outputDir } : {}) });
  else if (typeof timelines === 'function') timelineOf = timelines;
  else timelineOf = (runId) => timelines.get(runId) ?? null;
  const data = buildReportData(records, timelineOf, {
    filters: describeFilters(options),
    ...(title !== undefined ? { title } : {}),
    ...(timelinePointBudget !== undefined ? { timelinePointBudget } : {}),
    ...(generated !== undefined ? { generated } : {}),
  });
  return { data, html: renderReportHtml(data) };
}

/**
 * Writes the HTML report of the stored runs matching the filters (or of `records`) and returns
 * where. Written atomically: an existing report is replaced only once the new one is complete.
 * @throws {RangeError} when no run matches.
 */
export function writeReport(options: ReportOptions = {}): WrittenReport {
  const { data, html } = buildReport(options);
  if (data.totals.runs === 0) throw new RangeError(`No runs match (${data.filters}); there is nothing to report.`);
  const file = resolve(options.out ?? 'energy-report.html');
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, html);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(`cannot write the report to ${file}: ${(error as Error).message}`, { cause: error });
  }
  return { file, runs: data.totals.runs, timelines: Object.keys(data.timelines).length, bytes: Buffer.byteLength(html) };
}
