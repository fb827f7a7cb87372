/**
 * The summary `stop()` prints: the run's energy per component and how each was obtained, the
 * wall plug's figure, and the paper statement over this project's runs on this host.
 */
import { formatDuration, formatEnergy } from '../format.js';
import type { EmissionsRecord } from '../store/schema.js';
import { loadResults } from '../store/index.js';
import { StatementAggregates, StatementSummary, statementFromRecords, statementFromSummary } from '../statement/index.js';
import { storeAggregates } from '../store/aggregate-scan.js';
import { wallEnergySummary } from '../groundtruth/tracker-support.js';
import { describeMethod } from './components.js';
import { JOULES_PER_KWH } from './run-record.js';

/** Where and how to print a run's summary. */
export interface SummaryContext {
  /** The store the statement reads (the tracker's `outputDir`). */
  outputDir: string;
  /** The wall plug's note (why there is no figure), or null. */
  wallMessage: string | null;
  /** Whether `record` was stored (else it is added to the stored history for the statement). */
  saved: boolean;
  out: NodeJS.WritableStream;
}

/** Print the summary of a stopped run. */
export function printRunSummary(record: EmissionsRecord, context: SummaryContext): void {
  const joules = (kwh: number | null) => ((kwh ?? 0) * JOULES_PER_KWH) / (record.pue ?? 1);
  const parts = [
    `CPU ${formatEnergy(joules(record.cpu_energy))} ${describeMethod(record.cpu_energy_method)}`,
    record.gpu_energy_method.startsWith('none:')
      ? `GPU ${describeMethod(record.gpu_energy_method)}`
      : `GPU ${formatEnergy(joules(record.gpu_energy))} ${describeMethod(record.gpu_energy_method)}`,
    `RAM ${formatEnergy(joules(record.ram_energy))} ${describeMethod(record.ram_energy_method)}`,
  ];
  const total = formatEnergy((record.energy_consumed ?? 0) * JOULES_PER_KWH);
  const lines = [
    `Tracker stopped - this experiment consumed ${total} in ${formatDuration(record.duration ?? 0)}` +
      `${(record.pue ?? 1) !== 1 ? ` (PUE ${record.pue} applied)` : ''}: ${parts.join('; ')}.`,
  ];
  const wallLine = wallEnergySummary(record, context.wallMessage);
  if (wallLine !== null) lines.push(wallLine);
  if (record.cpu_energy_method.startsWith('estimated:')) {
    lines.push('(No CPU energy counter could be read: `npx lamarr-energy-tracker probe` says why and how to enable measurement.)');
  }
  const filters = {
    outputDir: context.outputDir,
    projectName: record.project_name,
    user: record.user,
    hostname: record.hostname,
  };
  lines.push(statementText(record, context, filters));
  context.out.write(`${lines.join('\n')}\n`);
}

/**
 * The statement over this project's stored runs on this host (and `record` when it was not
 * stored): from the store's aggregates, so its cost does not grow with the stored runs; from
 * the rows where the aggregates cannot stand for them (backups beside the store).
 */
function statementText(record: EmissionsRecord, context: SummaryContext, filters: Parameters<typeof loadResults>[0] & object): string {
  let aggregates: StatementAggregates | null;
  try {
    aggregates = storeAggregates(context.outputDir);
  } catch (err) {
    // A stored run's history that cannot be read: as loadResults throws when saved, else empty.
    if (context.saved) throw err;
    aggregates = new StatementAggregates();
  }
  if (aggregates === null) {
    const history = context.saved ? loadResults(filters) : [...loadResultsOrEmpty(filters), record];
    return statementFromRecords(history, {}).text;
  }
  const selected = aggregates.select({ projectName: filters.projectName, user: filters.user, hostname: filters.hostname });
  const summary = context.saved ? selected : (selected?.clone() ?? new StatementSummary()).add(record);
  if (summary === null) return statementFromRecords([], {}).text; // throws as the rows path does
  return statementFromSummary(summary, {}).text;
}

function loadResultsOrEmpty(filters: Parameters<typeof loadResults>[0]): EmissionsRecord[] {
  try {
    return loadResults(filters);
  } catch {
    return [];
  }
}
