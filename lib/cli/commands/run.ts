/**
 * `lamarr-energy-tracker run [options] -- <command> [args…]`: track any program.
 *
 * The command is spawned with inherited stdio; the tracker starts as soon as it has a pid
 * (in process mode it charges the process tree under this command, the child and its
 * descendants, counting reaped ones through cutime/cstime: attributionPid = this pid,
 * includeDescendants). SIGINT, SIGTERM and SIGHUP received by the tracker are forwarded to
 * the child; the run is still recorded, with run_status `interrupted`. The tracker exits with
 * the child's exit code (128 + signal number when the child was killed by a signal). A
 * command that cannot be started gives a clear error, exit 127 (not found) or 126 (not
 * executable), and no row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EnergyTracker } from '../../tracker/energy-tracker.js';
import type { EnergyTrackerOptions, TrackingMode } from '../../tracker/options.js';
import type { RunStatus } from '../../store/schema.js';
import { parseNumber } from '../arguments.js';
import { groundTruthFromFlag, type GroundTruthOptions } from '../../groundtruth/config.js';

import { SAMPLING_INTERVAL_MS } from '../../native/sampler-options.js';

/** Flags of `run`, as commander gives them. */
export interface RunFlags {
  projectName?: string;
  outputDir?: string;
  countryIsoCode?: string;
  carbonIntensity?: number;
  pue?: number;
  samplingIntervalMs?: number;
  gpuIds?: string[];
  trackingMode?: TrackingMode;
  hardwareRoot?: string;
  nvmlLibrary?: string;
  /** `--no-save` sets false. */
  save: boolean;
  /** `--no-summary` sets false. */
  summary: boolean;
  live?: boolean;
  /** `--ground-truth <spec>`, parsed. */
  groundTruth?: GroundTruthOptions;

  /** `--no-timeline` sets false. */
  timeline?: boolean;
}

/** Sampling interval used with `--live` when none is given, ms. */
export const LIVE_SAMPLING_INTERVAL_MS = 250;

/** Signals forwarded to the child. */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The shell's exit code for a process killed by `signal`: 128 + its number. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  const n = (osConstants.signals as Record<string, number | undefined>)[signal];
  return 128 + (n ?? 0);
}

function parseGpuIds(value: string): string[] {
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.length === 0) throw new InvalidArgumentError('--gpu-ids needs at least one GPU index or UUID, e.g. 0,1');
  return ids;
}

/** Tracker options from the flags, for the child `pid` (or a placeholder for validation). */
export function trackerOptionsFromFlags(flags: RunFlags, command: string, pid: number): EnergyTrackerOptions {
  const options: EnergyTrackerOptions = {
    projectName: flags.projectName ?? (basename(command) || command),
    save: flags.save,
    printSummary: flags.summary,
    live: flags.live === true,
  };
  if (flags.outputDir !== undefined) options.outputDir = flags.outputDir;
  if (flags.countryIsoCode !== undefined) options.countryIsoCode = flags.countryIsoCode;
  if (flags.carbonIntensity !== undefined) options.carbonIntensity = flags.carbonIntensity;
  if (flags.pue !== undefined) options.pue = flags.pue;
  if (flags.samplingIntervalMs !== undefined) options.samplingIntervalMs = flags.samplingIntervalMs;
  // The live line refreshes twice a second from the latest samples: sample faster than that.
  else if (flags.live === true) options.samplingIntervalMs = LIVE_SAMPLING_INTERVAL_MS;
  if (flags.gpuIds !== undefined) options.gpuIds = flags.gpuIds;
  if (flags.hardwareRoot !== undefined) options.hardwareRoot = flags.hardwareRoot;
  if (flags.nvmlLibrary !== undefined) options.nvmlLibrary = flags.nvmlLibrary;
  if (flags.groundTruth !== undefined) options.groundTruth = flags.groundTruth;

  if (flags.timeline === false) options.timeline = false;
  const mode = flags.trackingMode ?? 'machine';
  options.trackingMode = mode;
  if (mode === 'process') {
    options.attributionPid = pid;
    options.includeDescendants = true;
  }
  return options;
}

/** Wait until the child has started (`spawn`) or failed to (`error`). */
function started(child: ChildProcess): Promise<{ ok: true } | { ok: false; error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      resolve({ ok: true });
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      child.off('spawn', onSpawn);
      resolve({ ok: false, error });
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

/** Wait for the child to end; resolves with its exit code or the signal that killed it. */
function ended(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Run `command args` under a tracker and return the exit code to use (the child's; 127/126
 * when it cannot be started). Writes errors to stderr.
 */
export async function runTracked(command: string, args: readonly string[], flags: RunFlags): Promise<number> {
  // Validate every option before anything is spawned (TypeError/RangeError naming the option).
  new EnergyTracker(trackerOptionsFromFlags(flags, command, process.pid));

  // Signals arriving before the child exists still count: remember and forward them later.
  let child: ChildProcess | null = null;
  let interrupted = false;
  const pending: NodeJS.Signals[] = [];
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of FORWARDED_SIGNALS) {
    const handler = (): void => {
      interrupted = true;
      if (child !== null && child.exitCode === null && child.signalCode === null) {
        try {
          child.kill(signal);
        } catch {
          // the child is already gone
        }
      } else if (child === null) pending.push(signal);
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  const removeHandlers = (): void => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };

  try {
    child = spawn(command, [...args], { stdio: 'inherit' });
    const start = await started(child);
    if (!start.ok) {
      const code = start.error.code;
      if (code === 'ENOENT') {
        process.stderr.write(`lamarr-energy-tracker run: command not found: ${command}\n`);
        return 127;
      }
      if (code === 'EACCES') {
        process.stderr.write(`lamarr-energy-tracker run: permission denied (not executable): ${command}\n`);
        return 126;
      }
      process.stderr.write(`lamarr-energy-tracker run: cannot start ${command}: ${start.error.message}\n`);
      return 126;
    }
    const pid = child.pid!;
    const exit = ended(child);

    let tracker: EnergyTracker;
    try {
      // Process mode follows this process's tree (the child and all its descendants) rather
      // than the child's: when the child exits, Node reaps it and the kernel adds its CPU time
      // to our cutime/cstime, so its last interval is still charged. Our own share is the
      // waiting event loop and the sampler, the measurement's own cost.
      tracker = new EnergyTracker(trackerOptionsFromFlags(flags, command, process.pid)).start();
    } catch (error) {
      process.stderr.write(
        `lamarr-energy-tracker run: the tracker could not start (${(error as Error).message}); stopping ${command}\n`,
      );
      child.kill('SIGTERM');
      await exit;
      return 1;
    }
    for (const signal of pending.splice(0)) child.kill(signal);

    const { code, signal } = await exit;
    const status: RunStatus = interrupted || signal !== null ? 'interrupted' : code === 0 ? 'completed' : 'failed';
    const exitCode = signal !== null ? exitCodeForSignal(signal) : (code ?? 1);
    try {
      await tracker.stopAsync({ status });
    } catch (error) {
      // The command's exit code matters more than our bookkeeping: report and pass it on.
      process.stderr.write(`lamarr-energy-tracker run: the run could not be recorded: ${(error as Error).message}\n`);
    }
    return exitCode;
  } finally {
    removeHandlers();
  }
}

/**
 * Register `run [options] -- <command> [args…]` on `program` (commander v14). The action sets
 * `process.exitCode` to the child's exit code.
 */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run a command and record its energy and CO2 (stdio inherited, signals forwarded, exit code passed through)',
    )
    .usage('[options] -- <command> [args...]')
    // Everything from the command on is the child's, options included: `run node -e "…"` works without `--`.
    .passThroughOptions()
    .argument('<command>', 'program to run (looked up in PATH)')
    .argument('[args...]', 'its arguments (put -- before the command when they contain options)')
    .option('--project-name <name>', "project of the run (default: the command's name)")
    .option('--output-dir <dir>', 'directory of emissions.csv (default: LET_OUTPUT_DIR or ~/.let)')
    .option('--country-iso-code <code>', 'ISO 3166-1 alpha-3 country of the grid (default DEU)')
    .option('--carbon-intensity <gCO2/kWh>', "carbon intensity, overrides the country's", parseNumber('--carbon-intensity', { min: 0 }))
    .option('--pue <pue>', 'power usage effectiveness of the data centre (≥ 1)', parseNumber('--pue', { min: 1 }))
    .option(
      '--sampling-interval-ms <ms>',
      `sampling interval of the native thread (${SAMPLING_INTERVAL_MS.min}–${SAMPLING_INTERVAL_MS.max})`,
      parseNumber('--sampling-interval-ms', { min: SAMPLING_INTERVAL_MS.min, max: SAMPLING_INTERVAL_MS.max }),
    )
    .option('--gpu-ids <ids>', 'GPUs to measure, comma-separated NVML indices or UUIDs', parseGpuIds)
    .addOption(
      new Option('--tracking-mode <mode>', "'machine': the whole machine; 'process': the command's process tree's share")
        .choices(['machine', 'process'])
        .default('machine'),
    )
    .option('--hardware-root <dir>', 'read /sys, /proc and /dev under this root (simulated hardware)')
    .option('--nvml-library <path>', 'path of libnvidia-ml.so.1 ("" disables NVML)')
    .option('--no-save', 'do not append the run to emissions.csv')
    .option('--no-summary', 'do not print the summary at the end')
    .option('--no-timeline', "do not store the run's power timeline")
    .option('--live', 'show a live line (elapsed, power, energy) on a terminal')
    .option(
      '--ground-truth <source>',
      'wall-plug ground truth: server (LET_GT_HOST/LET_GT_PORT or ~/.let/GT_REMOTE_CONFIG), server=host:port, tasmota=URL, shelly-gen2=URL or shelly-gen1=URL',
      (value: string) => {
        try {
          return groundTruthFromFlag(value);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      },
    )
    .action(async (command: string, args: string[], flags: RunFlags) => {
      process.exitCode = await runTracked(command, args, flags);
    });
}
