import { Command } from 'commander';
import { mergeStores } from '../../store/index.js';

interface MergeFlags {
  into: string;
  append?: boolean;
}

/** `merge`: combine several hosts' stores into one CodeCarbon-compatible store. */
export function registerMergeCommand(program: Command): void {
  const command = new Command('merge')
    .description('merge several stores (or directories holding one store per host) into one emissions.csv, each run once (by run_id)')
    .argument('<stores...>', 'stores to read: directories of emissions.csv, emissions.csv files, or directories of per-host stores')
    .requiredOption('--into <dir>', 'directory of the merged emissions.csv (created; must hold no rows unless --append)')
    .option('--append', 'add to a target that already holds rows (runs it already has are skipped)')
    .action((stores: string[], flags: MergeFlags) => {
      const result = mergeStores(stores, flags.into, { append: flags.append === true });
      process.stdout.write(
        `Merged ${result.written} row(s) of ${result.runs} run(s) from ${result.sources.length} store(s) into ${result.target}` +
          `${result.duplicates > 0 ? ` (${result.duplicates} duplicate row(s) skipped)` : ''}.\n`,
      );
    });
  program.addCommand(command);
}
