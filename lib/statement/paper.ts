/** The statement over the runs stored in `emissions.csv`. */
import { defaultOutputDir, loadResultsFromStores, type StoresFilters } from '../store/index.js';
import { resolveStoreDirs } from '../store/stores.js';
import { storeAggregates } from '../store/aggregate-scan.js';
import { rejectUnknownOptions } from '../options-check.js';
import { formatStatement, statementFromRecords, statementFromSummary, type PaperStatement, type StatementOptions } from './statement.js';
import { calibrate } from '../groundtruth/calibration.js';
import { forEachResult } from '../store/query.js';
import { StatementSummary } from './summary.js';

/**
 * Filters selecting the runs, plus the statement's options. `outputDir` may name several
 * stores, or a directory holding one store per host (runs deduplicated by `run_id`).
 */
export type PaperStatementOptions = StoresFilters & StatementOptions;

function describeFilters(filters: StoresFilters): string {
  const parts = Object.entries(filters)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value instanceof Date ? value.toISOString() : JSON.stringify(value)}`);
  return parts.length === 0 ? 'no filters' : parts.join(', ');
}

function split(options: PaperStatementOptions): [StoresFilters, StatementOptions] {
  rejectUnknownOptions('paperStatement', options, [
    'outputDir', 'projectName', 'user', 'hostname', 'since', 'until', 'comparison', 'format', 'calibrated', 'calibrations',
  ]);
  const { comparison, format, calibrated, calibrations, ...filters } = options;
  const statementOptions: StatementOptions = {};
  if (comparison !== undefined) statementOptions.comparison = comparison;
  if (calibrated !== undefined) statementOptions.calibrated = calibrated;
  if (calibrations !== undefined) statementOptions.calibrations = calibrations;
  if (format !== undefined) statementOptions.format = format;
  return [filters, statementOptions];
}

/**
 * The paper statement over the stored runs matching the filters (all runs by default), as
 * text, LaTeX or JSON (`format`), optionally with the comparison sentence.
 * @throws {RangeError} when no stored run matches.
 */
export function paperStatement(options: PaperStatementOptions = {}): string {
  return formatStatement(loadStatement(options), options.format);
}

/**
 * The numbers and texts of the paper statement over the stored runs matching the filters
 * (what `paperStatement` formats).
 * @throws {RangeError} when no stored run matches.
 */
export function loadStatement(options: PaperStatementOptions = {}): PaperStatement {
  const [filters, statementOptions] = split(options);
  // One store, not calibrated (a calibrated estimate applies each host's ratio run by run): no
  // array of rows.
  if (statementOptions.calibrated !== true) {
    const dirs = resolveStoreDirs(filters.outputDir ?? defaultOutputDir());
    if (dirs.length === 1) return statementFromStore(dirs[0]!, filters, statementOptions);
  }
  const records = loadResultsFromStores(filters);
  if (records.length === 0) {
    throw new RangeError(`No tracked runs match (${describeFilters(filters)}); nothing to summarise.`);
  }
  // Calibrate each host from all of its stored runs, not only the ones selected.
  if (statementOptions.calibrated === true && statementOptions.calibrations === undefined) {
    statementOptions.calibrations = calibrate(loadResultsFromStores(filters.outputDir !== undefined ? { outputDir: filters.outputDir } : {}));
  }
  return statementFromRecords(records, statementOptions);
}

/**
 * The statement over the one store in `dir`: from its aggregates (no row read again) where they
 * can answer, else (time filters, backups beside the store) from its matching rows summed as
 * the store is read a part at a time. The same statement as {@link statementFromRecords} over
 * those rows.
 */
function statementFromStore(dir: string, filters: StoresFilters, statementOptions: StatementOptions): PaperStatement {
  const noMatch = (): RangeError => new RangeError(`No tracked runs match (${describeFilters(filters)}); nothing to summarise.`);
  const aggregates = filters.since === undefined && filters.until === undefined ? storeAggregates(dir) : null;
  if (aggregates !== null) {
    const summary = aggregates.select({ projectName: filters.projectName, user: filters.user, hostname: filters.hostname });
    if (summary === null) throw noMatch();
    return statementFromSummary(summary, statementOptions);
  }
  const { outputDir: _dir, ...rowFilters } = filters;
  const summary = new StatementSummary({ exactSums: false });
  forEachResult({ ...rowFilters, outputDir: dir }, (record) => void summary.add(record));
  if (summary.runs === 0) throw noMatch();
  return statementFromSummary(summary, statementOptions);
}

/** Prints {@link paperStatement} to stdout and returns it. */
export function printPaperStatement(options: PaperStatementOptions = {}): string {
  const text = paperStatement(options);
  process.stdout.write(`${text}\n`);
  return text;
}
