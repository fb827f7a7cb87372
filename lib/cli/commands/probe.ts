import { Command, InvalidArgumentError } from 'commander';
import { formatMachineReport, machineReport } from '../../diagnostics/machine-report.js';
import { addFormatOptions, chosenFormat, forStdout, toJson, writeOut } from '../output.js';
import { groundTruthFromFlag, type GroundTruthOptions } from '../../groundtruth/config.js';
import { formatGroundTruthProbe, probeGroundTruth } from '../../groundtruth/probe.js';

interface ProbeFlags {
  format: 'text' | 'json';
  json?: boolean;
  hardwareRoot?: string;
  nvmlLibrary?: string;
  groundTruth?: GroundTruthOptions;
}

/** `probe`: what this machine measures, what it estimates, and why. */
export function registerProbeCommand(program: Command): void {
  const command = program
    .command('probe')
    .description('show what is measured and what is estimated on this machine, why counters are missing, and the fix');
  addFormatOptions(command, ['text', 'json'], 'text')
    .option('--hardware-root <dir>', 'read /sys, /proc and /dev under this root (simulated hardware)')
    .option('--nvml-library <path>', 'path of libnvidia-ml.so.1')
    .option('--ground-truth <source>', 'also check a wall plug or ground-truth server: server, server=host:port, tasmota=URL, shelly-gen2=URL, shelly-gen1=URL', (value: string) => {
      try {
        return groundTruthFromFlag(value);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    })
    .action(async (flags: ProbeFlags) => {
      const report = machineReport({
        ...(flags.hardwareRoot !== undefined ? { hardwareRoot: flags.hardwareRoot } : {}),
        ...(flags.nvmlLibrary !== undefined ? { nvmlLibrary: flags.nvmlLibrary } : {}),
      });
      const wall = await probeGroundTruth(flags.groundTruth);
      await writeOut(
        chosenFormat(flags, 'text') === 'json'
          ? `${toJson({ ...report, groundTruth: wall })}\n`
          : forStdout(`${formatMachineReport(report)}\n\n${formatGroundTruthProbe(wall)}\n`),
      );
    });
}
