import type { Command } from 'commander';
import { parseDate } from '../arguments.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Add the result filters shared by statement, results and delete. With `manyStores`,
 * `--output-dir` may be repeated and may name a directory holding one store per host.
 */
export function addFilterOptions(command: Command, options: { manyStores?: boolean } = {}): Command {
  if (options.manyStores) {
    command.option(
      '--output-dir <dir>',
      'a store (directory of emissions.csv), or a directory holding one store per host; repeat for several (default ~/.let)',
      collect,
    );
  } else {
    command.option('--output-dir <dir>', 'directory of emissions.csv (default ~/.let)');
  }
  return command
    .option('--project-name <name>', 'only this project')
    .option('--user <user>', 'only runs by this user')
    .option('--hostname <host>', 'only runs on this host')
    .option('--since <date>', 'only runs at or after this date', parseDate('--since'))
    .option('--until <date>', 'only runs before this date', parseDate('--until'));
}
