import { Command } from 'commander';
import { streamResults } from '../../store/index.js';
import { ALL_COLUMNS, type LoadedRecord, type ResultFilters } from '../../store/schema.js';
import { formatEnergy } from '../../format.js';
import { filtersFrom, type FilterFlags } from '../arguments.js';
import { addFilterOptions } from './filters.js';
import { addFormatOptions, chosenFormat, ChunkedWriter, escapeCell, toJson, writeOut } from '../output.js';

interface ResultsFlags extends FilterFlags {
  format: 'table' | 'csv' | 'json';
  json?: boolean;
}

const TABLE_HEADER = ['timestamp', 'project', 'user', 'host', 'duration', 'energy', 'CO2eq', 'cpu', 'gpu', 'ram', 'status'];

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One table row, every cell escaped for a terminal. */
function tableCells(record: LoadedRecord): string[] {
  return [
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
  ].map(escapeCell);
}

/**
 * The table, streamed: a first pass over the file finds the column widths (a running
 * maximum, so any number of rows), a second prints the rows in chunks.
 */
async function printTable(filters: ResultFilters): Promise<void> {
  const widths = TABLE_HEADER.map((title) => title.length);
  let count = 0;
  for await (const record of streamResults(filters)) {
    const cells = tableCells(record);
    for (let column = 0; column < cells.length; column++) {
      const length = cells[column]!.length;
      if (length > widths[column]!) widths[column] = length;
    }
    count++;
  }
  if (count === 0) {
    await writeOut('No stored runs match.\n');
    return;
  }
  const line = (cells: string[]): string => `${cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`;
  const out = new ChunkedWriter();
  await out.add(line(TABLE_HEADER));
  await out.add(line(widths.map((width) => '-'.repeat(width))));
  let printed = 0;
  for await (const record of streamResults(filters)) {
    await out.add(line(tableCells(record)));
    printed++;
  }
  await out.add(`${printed} run(s)\n`);
  await out.flush();
}

async function printCsv(filters: ResultFilters): Promise<void> {
  const columns = [...ALL_COLUMNS];
  const out = new ChunkedWriter();
  const escape = process.stdout.isTTY === true ? escapeCell : (text: string) => text;
  await out.add(`${columns.join(',')}\n`);
  for await (const record of streamResults(filters)) {
    await out.add(`${columns.map((column) => escape(csvField(record[column]))).join(',')}\n`);
  }
  await out.flush();
}

/** A JSON array, one record at a time (valid JSON for any number of rows). */
async function printJson(filters: ResultFilters): Promise<void> {
  const out = new ChunkedWriter();
  let first = true;
  await out.add('[');
  for await (const record of streamResults(filters)) {
    await out.add(`${first ? '\n' : ',\n'}${toJson(record).replace(/^/gm, '  ')}`);
    first = false;
  }
  await out.add(first ? ']\n' : '\n]\n');
  await out.flush();
}

/** `results`: list stored runs. */
export function registerResultsCommand(program: Command): void {
  const command = new Command('results').description('list stored runs (yours, CodeCarbon\'s and the Python package\'s)');
  addFormatOptions(addFilterOptions(command), ['table', 'csv', 'json'], 'table').action(async (flags: ResultsFlags) => {
    const filters = filtersFrom(flags);
    const format = chosenFormat(flags, 'table');
    if (format === 'json') await printJson(filters);
    else if (format === 'csv') await printCsv(filters);
    else await printTable(filters);
  });
  program.addCommand(command);
}
