import { Command } from 'commander';
import { defaultOutputDir, formatHeader, formatRecordRow, loadResultsFromStores, resolveStoreDirs, streamResults, type StoresFilters } from '../../store/index.js';
import { ALL_COLUMNS, type LoadedRecord } from '../../store/schema.js';
import { formatEnergy } from '../../format.js';
import { storesFiltersFrom, type StoresFilterFlags } from '../arguments.js';
import { addFilterOptions } from './filters.js';
import { noGroundTruthLabel } from '../../groundtruth/describe.js';
import { ENERGY_BAR_WIDTH, energyBar, energyBarLegend, useColour } from '../energy-bar.js';
import { addFormatOptions, chosenFormat, ChunkedWriter, escapeCell, toJson, writeOut } from '../output.js';

type ResultsFlags = StoresFilterFlags & {
  format: 'table' | 'csv' | 'json';
  json?: boolean;
};

function wallCell(record: LoadedRecord): string {
  if (record.wall_energy_method === '') return '';
  if (record.wall_energy === null) return noGroundTruthLabel(record.wall_energy_method);
  return `${formatEnergy(record.wall_energy * 3.6e6)} ± ${formatEnergy((record.wall_energy_uncertainty ?? 0) * 3.6e6)}`;
}

/**
 * The matching runs, one at a time: one store is streamed from its file (bounded memory for any
 * size); several are read whole, as `loadResultsFromStores` must see every copy of a run to keep one.
 */
async function* matchingRuns(filters: StoresFilters): AsyncGenerator<LoadedRecord, void, undefined> {
  const { outputDir, ...rowFilters } = filters;
  const dirs = resolveStoreDirs(outputDir ?? defaultOutputDir());
  if (dirs.length === 1) yield* streamResults({ ...rowFilters, outputDir: dirs[0]! });
  else yield* loadResultsFromStores(filters);
}

/** One table row without the bar (every cell escaped for a terminal); `wall` adds the wall-plug cell. */
function tableCells(record: LoadedRecord, wall: boolean): string[] {
  const cells = [
    record.timestamp,
    record.project_name,
    record.user,
    record.hostname,
    `${(record.duration ?? 0).toFixed(1)} s`,
    formatEnergy((record.energy_consumed ?? 0) * 3.6e6),
    `${((record.emissions ?? 0) * 1000).toPrecision(4)} g`,
    record.cpu_energy_method || 'codecarbon',
    record.gpu_energy_method || 'codecarbon',
    record.ram_energy_method || 'codecarbon',
    record.run_status,
  ];
  if (wall) cells.push(wallCell(record));
  return cells.map(escapeCell);
}

const componentsKwh = (record: LoadedRecord): number => (record.cpu_energy ?? 0) + (record.gpu_energy ?? 0) + (record.ram_energy ?? 0);

/**
 * The table, streamed: a first pass finds the column widths, the largest run (the bars' scale)
 * and whether any run had a wall plug (running maxima, so any number of rows); a second pass
 * prints the rows in chunks. The bar column (energy by component) stays last.
 */
async function printTable(filters: StoresFilters): Promise<void> {
  const colour = useColour(process.stdout);
  let count = 0;
  let maxKwh = 0;
  let wall = false;
  const widths: number[] = [];
  for await (const record of matchingRuns(filters)) {
    const cells = tableCells(record, true);
    for (let column = 0; column < cells.length; column++) widths[column] = Math.max(widths[column] ?? 0, cells[column]!.length);
    maxKwh = Math.max(maxKwh, componentsKwh(record));
    if (record.wall_energy_method !== '') wall = true;
    count++;
  }
  if (count === 0) {
    await writeOut('No stored runs match.\n');
    return;
  }
  const header = ['timestamp', 'project', 'user', 'host', 'duration', 'energy', 'CO2eq', 'cpu', 'gpu', 'ram', 'status', ...(wall ? ['wall'] : []), 'by component'];
  const columnWidths = header.map((title, column) => (column === header.length - 1 ? ENERGY_BAR_WIDTH : Math.max(title.length, widths[column] ?? 0)));
  const line = (cells: string[]): string => `${cells.map((cell, column) => cell.padEnd(columnWidths[column]!)).join('  ').trimEnd()}\n`;
  const out = new ChunkedWriter();
  await out.add(line(header));
  await out.add(line(columnWidths.map((width) => '-'.repeat(width))));
  let printed = 0;
  for await (const record of matchingRuns(filters)) {
    await out.add(line([...tableCells(record, wall), energyBar(record, maxKwh, colour)]));
    printed++;
  }
  await out.add(`${energyBarLegend(colour)}\n${printed} run(s)\n`);
  await out.flush();
}

async function printCsv(filters: StoresFilters): Promise<void> {
  const columns = [...ALL_COLUMNS];
  const out = new ChunkedWriter();
  const escape = process.stdout.isTTY === true ? escapeCell : (text: string) => text;
  await out.add(formatHeader(columns));
  // The store's own writer: formula-like text defused, numbers as numbers.
  for await (const record of matchingRuns(filters)) await out.add(`${escape(formatRecordRow(record, columns, ''))}\n`);
  await out.flush();
}

/** A JSON array, one record at a time (valid JSON for any number of rows). */
async function printJson(filters: StoresFilters): Promise<void> {
  const out = new ChunkedWriter();
  let first = true;
  await out.add('[');
  for await (const record of matchingRuns(filters)) {
    await out.add(`${first ? '\n' : ',\n'}${toJson(record).replace(/^/gm, '  ')}`);
    first = false;
  }
  await out.add(first ? ']\n' : '\n]\n');
  await out.flush();
}

/** `results`: list stored runs. */
export function registerResultsCommand(program: Command): void {
  const command = new Command('results').description('list stored runs (yours, CodeCarbon\'s and the Python package\'s)');
  addFormatOptions(addFilterOptions(command, { manyStores: true }), ['table', 'csv', 'json'], 'table').action(async (flags: ResultsFlags) => {
    const filters = storesFiltersFrom(flags);
    const format = chosenFormat(flags, 'table');
    if (format === 'json') await printJson(filters);
    else if (format === 'csv') await printCsv(filters);
    else await printTable(filters);
  });
  program.addCommand(command);
}
