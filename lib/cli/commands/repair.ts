import { Command } from 'commander';
import { repairStore } from '../../store/index.js';

/** `repair`: merge the backups CodeCarbon moved aside back into emissions.csv. */
export function registerRepairCommand(program: Command): void {
  const command = new Command('repair')
    .description('merge the backups CodeCarbon moved aside (emissions.csv.bak, emissions.csv_N.bak) back into emissions.csv, and archive them')
    .option('--output-dir <dir>', 'directory of emissions.csv (default ~/.let)')
    .action((flags: { outputDir?: string }) => {
      const result = repairStore(flags.outputDir);
      if (!result.rewritten) {
        process.stdout.write(`Nothing to repair in ${result.file}: no backups, and the file has CodeCarbon's 38 columns.\n`);
        return;
      }
      const merged = result.backups.length > 0 ? `merged ${result.fromBackups} run(s) from ${result.backups.length} backup(s); ` : '';
      const archived = result.archiveDir ? `\nThe backups were moved to ${result.archiveDir}.` : '';
      process.stdout.write(`Repaired ${result.file}: ${merged}${result.rows} row(s) with CodeCarbon's 38 columns.${archived}\n`);
    });
  program.addCommand(command);
}
