import type { Command } from 'commander';
import { parseDate } from '../arguments.js';

/** Add the result filters shared by statement, results and delete. */
export function addFilterOptions(command: Command): Command {
  return command
    .option('--output-dir <dir>', 'directory of emissions.csv (default ~/.let)')
    .option('--project-name <name>', 'only this project')
    .option('--user <user>', 'only runs by this user')
    .option('--hostname <host>', 'only runs on this host')
    .option('--since <date>', 'only runs at or after this date', parseDate('--since'))
    .option('--until <date>', 'only runs before this date', parseDate('--until'));
}
