/**
 * `lamarr-energy-tracker`: statement, results, delete, probe and run.
 */
import { Command, CommanderError } from 'commander';
import { TRACKER_VERSION } from '../version.js';
import { normalizeFlags } from './arguments.js';
import { OutputClosedError } from './output.js';
import { registerStatementCommand } from './commands/statement.js';
import { registerResultsCommand } from './commands/results.js';
import { registerDeleteCommand } from './commands/delete.js';
import { registerProbeCommand } from './commands/probe.js';
import { registerRunCommand, RUN_OWN_ERROR_EXIT_CODE } from './commands/run.js';
import { registerGtServerCommand } from './commands/gt-server.js';

import { registerReportCommand } from './commands/report.js';

import { registerMergeCommand } from './commands/merge.js';
import { registerMonitorCommand } from './commands/monitor.js';

/** Build the program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('lamarr-energy-tracker')
    .description('Measure the energy and CO2 of your code, and write the impact statement for your paper.')
    .version(TRACKER_VERSION)
    .showHelpAfterError('(add --help for usage)')
    // Options after a subcommand belong to it; `run` passes everything after the command through.
    .enablePositionalOptions()
    .exitOverride();
  registerStatementCommand(program);
  registerResultsCommand(program);
  registerDeleteCommand(program);
  registerProbeCommand(program);
  registerRunCommand(program);
  registerGtServerCommand(program);

  registerReportCommand(program);

  registerMergeCommand(program);
  registerMonitorCommand(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const run = program.commands.find((command) => command.name() === 'run');
  const takesValue = (flag: string): boolean => run?.options.some((option) => option.long === flag && (option.required || option.optional)) ?? false;
  // run's own errors exit 125 (as env and timeout do), never a code its command could return.
  const failure = argv[0] === 'run' ? RUN_OWN_ERROR_EXIT_CODE : 1;
  try {
    await program.parseAsync(normalizeFlags(argv, takesValue), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : failure;
    if (error instanceof OutputClosedError) return 0; // the reader has what it wanted (`| head`)
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`lamarr-energy-tracker: ${message}\n`);
    return failure;
  }
}
