import { Command } from 'commander';
import { formatMachineReport, machineReport } from '../../diagnostics/machine-report.js';
import { addFormatOptions, chosenFormat, forStdout, toJson, writeOut } from '../output.js';

interface ProbeFlags {
  format: 'text' | 'json';
  json?: boolean;
  hardwareRoot?: string;
  nvmlLibrary?: string;
}

/** `probe`: what this machine measures, what it estimates, and why. */
export function registerProbeCommand(program: Command): void {
  const command = program
    .command('probe')
    .description('show what is measured and what is estimated on this machine, why counters are missing, and the fix');
  addFormatOptions(command, ['text', 'json'], 'text')
    .option('--hardware-root <dir>', 'read /sys, /proc and /dev under this root (simulated hardware)')
    .option('--nvml-library <path>', 'path of libnvidia-ml.so.1')
    .action(async (flags: ProbeFlags) => {
      const report = machineReport({
        ...(flags.hardwareRoot !== undefined ? { hardwareRoot: flags.hardwareRoot } : {}),
        ...(flags.nvmlLibrary !== undefined ? { nvmlLibrary: flags.nvmlLibrary } : {}),
      });
      await writeOut(chosenFormat(flags, 'text') === 'json' ? `${toJson(report)}\n` : forStdout(`${formatMachineReport(report)}\n`));
    });
}
