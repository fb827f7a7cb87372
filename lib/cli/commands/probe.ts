import { Command } from 'commander';
import { formatMachineReport, machineReport } from '../../diagnostics/machine-report.js';

interface ProbeFlags {
  json?: boolean;
  hardwareRoot?: string;
  nvmlLibrary?: string;
}

/** `probe`: what this machine measures, what it estimates, and why. */
export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('show what is measured and what is estimated on this machine, why counters are missing, and the fix')
    .option('--json', 'print the report as JSON')
    .option('--hardware-root <dir>', 'read /sys, /proc and /dev under this root (simulated hardware)')
    .option('--nvml-library <path>', 'path of libnvidia-ml.so.1')
    .action((flags: ProbeFlags) => {
      const report = machineReport({
        ...(flags.hardwareRoot !== undefined ? { hardwareRoot: flags.hardwareRoot } : {}),
        ...(flags.nvmlLibrary !== undefined ? { nvmlLibrary: flags.nvmlLibrary } : {}),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatMachineReport(report)}\n`);
    });
}
