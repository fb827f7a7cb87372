import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { writeReport } from '../../report/index.js';
import { filtersFrom, type FilterFlags } from '../arguments.js';
import { addFilterOptions } from './filters.js';

interface ReportFlags extends FilterFlags {
  out: string;
  open?: boolean;
  title?: string;
}

/** The command that opens a file in the desktop's default application, per platform. */
function openerFor(platform: NodeJS.Platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [] };
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  return { command: 'xdg-open', args: [] };
}

/** Opens `file` in the default browser, without waiting for it; a failure is reported, not thrown. */
function openInBrowser(file: string): void {
  const { command, args } = openerFor(process.platform);
  const warn = (why: string) => process.stderr.write(`lamarr-energy-tracker: could not open the report with ${command} (${why}); open ${file} in a browser.\n`);
  try {
    const child = spawn(command, [...args, file], { detached: true, stdio: 'ignore' });
    child.on('error', (error) => warn(error.message));
    child.unref();
  } catch (error) {
    warn((error as Error).message);
  }
}

/** `report`: one self-contained HTML file over the stored runs. */
export function registerReportCommand(program: Command): void {
  const command = new Command('report').description(
    'write one self-contained HTML report of the stored runs: totals, paper statements, energy per run by component, power timelines',
  );
  addFilterOptions(command)
    .option('--out <file>', 'the HTML file to write', 'energy-report.html')
    .option('--title <text>', 'title of the report')
    .option('--open', 'open the report in the default browser')
    .action((flags: ReportFlags) => {
      const written = writeReport({ ...filtersFrom(flags), out: flags.out, ...(flags.title !== undefined ? { title: flags.title } : {}) });
      process.stdout.write(
        `Wrote ${written.file}: ${written.runs} run(s), ${written.timelines} with a power timeline, ${(written.bytes / 1024).toFixed(0)} KiB.\n`,
      );
      if (flags.open) openInBrowser(written.file);
    });
  program.addCommand(command);
}
