import { Command, Option } from 'commander';
import { formatHeader, formatRecordRow, loadResultsFromStores } from '../../store/index.js';
import { ALL_COLUMNS, type LoadedRecord } from '../../store/schema.js';
import { formatEnergy } from '../../format.js';
import { storesFiltersFrom, type StoresFilterFlags } from '../arguments.js';
import { addFilterOptions } from './filters.js';
import { noGroundTruthLabel } from '../../groundtruth/describe.js';
import { ENERGY_BAR_WIDTH, energyBar, energyBarLegend, useColour } from '../energy-bar.js';

type ResultsFlags = StoresFilterFlags & {
  format: 'table' | 'csv' | 'json';
};

function wallCell(record: LoadedRecord): string {
  if (record.wall_energy_method === '') return '';
  if (record.wall_energy === null) return noGroundTruthLabel(record.wall_energy_method);
  return `${formatEnergy(record.wall_energy * 3.6e6)} ± ${formatEnergy((record.wall_energy_uncertainty ?? 0) * 3.6e6)}`;
}

function table(records: LoadedRecord[], colour: boolean): string {
  const header = ['timestamp', 'project', 'user', 'host', 'duration', 'energy', 'CO2eq', 'cpu', 'gpu', 'ram', 'by component'];
  const maxKwh = records.reduce((max, record) => Math.max(max, (record.cpu_energy ?? 0) + (record.gpu_energy ?? 0) + (record.ram_energy ?? 0)), 0);
  const rows = records.map((record) => [
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
    energyBar(record, maxKwh, colour),
  ]);
  // The wall-plug column, only where some run had a plug configured (before the bar, which stays last).
  if (records.some((record) => record.wall_energy_method !== '')) {
    header.splice(header.length - 1, 0, 'wall');
    records.forEach((record, index) => rows[index]!.splice(rows[index]!.length - 1, 0, wallCell(record)));
  }
  // The bar (last column) is ENERGY_BAR_WIDTH cells wide whatever its colour codes.
  const widths = header.map((title, column) => (column === header.length - 1 ? ENERGY_BAR_WIDTH : Math.max(title.length, ...rows.map((row) => row[column]!.length))));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line), energyBarLegend(colour)].join('\n');
}

/** `results`: list stored runs. */
export function registerResultsCommand(program: Command): void {
  const command = new Command('results').description('list stored runs (yours, CodeCarbon\'s and the Python package\'s)');
  addFilterOptions(command, { manyStores: true })
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action((flags: ResultsFlags) => {
      const records = loadResultsFromStores(storesFiltersFrom(flags));
      if (flags.format === 'json') {
        process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      } else if (flags.format === 'csv') {
        // The store's own writer: formula-like text defused, numbers as numbers.
        process.stdout.write(formatHeader(ALL_COLUMNS) + records.map((record) => formatRecordRow(record, ALL_COLUMNS)).join(''));
      } else if (records.length === 0) {
        process.stdout.write('No stored runs match.\n');
      } else {
        process.stdout.write(`${table(records, useColour(process.stdout))}\n${records.length} run(s)\n`);
      }
    });
  program.addCommand(command);
}
