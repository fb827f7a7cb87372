/**
 * `lamarr-energy-tracker`: statement, results, delete, probe, run, gt-server, report, merge, monitor and repair.
 */
import { Command, CommanderError } from 'commander';
import { TRACKER_VERSION } from '../version.js';
import { normalizeFlags } from './arguments.js';
import { RUN_OWN_ERROR_EXIT_CODE } from './arguments.js';
import { OutputClosedError } from './output.js';

type Register = (program: Command) => void;

/**
 * Every command, by name, with how to load it: a command's module (and the libraries it
 * imports) is loaded only when that command runs, or when the whole list is needed (help, an
 * unknown command).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['statement', async () => (await import('./commands/statement.js')).registerStatementCommand],
  ['results', async () => (await import('./commands/results.js')).registerResultsCommand],
  ['delete', async () => (await import('./commands/delete.js')).registerDeleteCommand],
  ['probe', async () => (await import('./commands/probe.js')).registerProbeCommand],
  ['run', async () => (await import('./commands/run.js')).registerRunCommand],
  ['gt-server', async () => (await import('./commands/gt-server.js')).registerGtServerCommand],
  ['report', async () => (await import('./commands/report.js')).registerReportCommand],
  ['merge', async () => (await import('./commands/merge.js')).registerMergeCommand],
  ['monitor', async () => (await import('./commands/monitor.js')).registerMonitorCommand],
  ['repair', async () => (await import('./commands/repair.js')).registerRepairCommand],
];

/** The command `argv` names (its first argument that is not an option), if it is one of ours. */
function commandNamed(argv: readonly string[]): string | undefined {
  const first = argv.find((arg) => !arg.startsWith('-'));
  return COMMANDS.some(([name]) => name === first) ? first : undefined;
}

/**
 * Build the program (exported for tests). With `argv`, only the command it names is loaded
 * (every command when it names none of them); without, every command.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('lamarr-energy-tracker')
    .description('Measure the energy and CO2 of your code, and write the impact statement for your paper.')
    .version(TRACKER_VERSION)
    .showHelpAfterError('(add --help for usage)')
    // Options after a subcommand belong to it; `run` passes everything after the command through.
    .enablePositionalOptions()
    .exitOverride();
  const only = argv === undefined ? undefined : commandNamed(argv);
  const chosen = COMMANDS.filter(([name]) => only === undefined || name === only);
  for (const register of await Promise.all(chosen.map(([, load]) => load()))) register(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // run's own errors exit 125 (as env and timeout do), never a code its command could return.
  const failure = argv[0] === 'run' ? RUN_OWN_ERROR_EXIT_CODE : 1;
  try {
    // The command is named by its first argument, which normalising leaves as it is.
    const program = await buildProgram(argv);
    const run = program.commands.find((command) => command.name() === 'run');
    const takesValue = (flag: string): boolean => run?.options.some((option) => option.long === flag && (option.required || option.optional)) ?? false;
    const args = normalizeFlags(argv, takesValue);
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : failure;
    if (error instanceof OutputClosedError) return 0; // the reader has what it wanted (`| head`)
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`lamarr-energy-tracker: ${message}\n`);
    return failure;
  }
}
