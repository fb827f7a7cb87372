/**
 * `lamarr-energy-tracker run [options] [--] <command> [args…]`: track any program.
 *
 * - The measured window covers the command's whole life: the sampler is started and the
 *   window opened before the command is spawned, and closed once it has been reaped.
 * - The command and its arguments are passed byte for byte (only our options before it are
 *   normalised); stdio is inherited; the summary goes to stderr, so the command's stdout can
 *   be piped.
 * - Signals: the command stays in `run`'s process group, so a terminal's Ctrl-C (SIGINT to the
 *   foreground group) reaches it directly and is NOT sent again; `run` only notes it (as
 *   time(1) does). SIGTERM and SIGHUP sent to `run` are forwarded. If `run` is killed (even
 *   with SIGKILL), the command gets SIGKILL (see run-child.ts).
 * - Status: `interrupted` when the command ended after SIGINT/SIGTERM/SIGHUP (or died of one),
 *   `killed` when it died of SIGKILL, `failed` for another signal (SIGSEGV, SIGABRT…) or a
 *   non-zero exit, else `completed`.
 * - Exit: the command's exit code; when it died of SIGINT/SIGTERM/SIGHUP `run` dies of the
 *   same signal (so a calling shell sees the interruption); another signal gives 128 + its
 *   number. 127: command not found; 126: not executable; 125: our own error (bad option,
 *   tracker failure), as env(1) and timeout(1) do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EnergyTracker } from '../../tracker/energy-tracker.js';
import { MAX_CARBON_INTENSITY, MAX_PUE, type EnergyTrackerOptions, type TrackingMode } from '../../tracker/options.js';
import type { RunStatus } from '../../store/schema.js';
import { parseNumber, RUN_OWN_ERROR_EXIT_CODE } from '../arguments.js';
import { childLaunch, resolveCommand } from './run-child.js';
import { chosenFormat, toJson } from '../output.js';
import { groundTruthFromFlag, type GroundTruthOptions } from '../../groundtruth/config.js';

import { SAMPLING_INTERVAL_MS } from '../../native/sampler-options.js';
import { LIVE_SAMPLING_INTERVAL_MS } from '../../live/index.js';

export { RUN_OWN_ERROR_EXIT_CODE };

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
  /** `json`: the summary on stderr is the stored record as JSON. */
  format?: 'text' | 'json';
  json?: boolean;
  /** `--ground-truth <spec>`, parsed. */
  groundTruth?: GroundTruthOptions;

  /** `--no-timeline` sets false. */
  timeline?: boolean;
}

/** Sampling interval used with `--live` when none is given, ms (the live view's own). */
export { LIVE_SAMPLING_INTERVAL_MS };

/** Signals forwarded to the child (SIGINT is not: the terminal sends it to the child's process group itself). */
export const FORWARDED_SIGNALS = ['SIGTERM', 'SIGHUP'] as const;

/** Signals that mark the run interrupted. */
const INTERRUPTING_SIGNALS: ReadonlySet<string> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);

/** The stored status for a command that ended with `code`/`signal`, after `run` got `received` (or null). */
export function runStatusFor(code: number | null, signal: NodeJS.Signals | null, received: NodeJS.Signals | null): RunStatus {
  if (signal !== null) {
    if (INTERRUPTING_SIGNALS.has(signal)) return 'interrupted';
    if (signal === 'SIGKILL') return received !== null ? 'interrupted' : 'killed';
    return 'failed';
  }
  if (received !== null) return 'interrupted';
  return code === 0 ? 'completed' : 'failed';
}

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

/** How `run` ends: an exit code, or a signal to die of (after the run is recorded). */
export interface RunOutcome {
  exitCode: number;
  /** Die of this signal (the command died of it) instead of exiting with `exitCode`. */
  dieOf: NodeJS.Signals | null;
}

function ownError(message: string): RunOutcome {
  process.stderr.write(`lamarr-energy-tracker run: ${message}\n`);
  return { exitCode: RUN_OWN_ERROR_EXIT_CODE, dieOf: null };
}

/**
 * Run `command args` under a tracker and say how to end (see the module comment). Writes
 * errors and the summary to stderr.
 */
export async function runCommand(command: string, args: readonly string[], flags: RunFlags): Promise<RunOutcome> {
  let tracker: EnergyTracker;
  let json = false;
  try {
    // run handles signals itself: the run is recorded when the command has ended.
    json = chosenFormat(flags, 'text') === 'json';
    const options = trackerOptionsFromFlags(flags, command, process.pid);
    tracker = new EnergyTracker({ ...options, handleSignals: false, ...(json ? { printSummary: false } : {}) });
  } catch (error) {
    return ownError((error as Error).message);
  }
  const resolved = resolveCommand(command);
  if (!resolved.ok) {
    process.stderr.write(`lamarr-energy-tracker run: ${resolved.message}\n`);
    return { exitCode: resolved.exitCode, dieOf: null };
  }
  let launch;
  try {
    launch = childLaunch(resolved.path, command, args);
  } catch (error) {
    return ownError((error as Error).message);
  }

  let child: ChildProcess | null = null;
  let received: NodeJS.Signals | null = null;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of ['SIGINT', ...FORWARDED_SIGNALS] as const) {
    const handler = (): void => {
      received ??= signal;
      if (signal === 'SIGINT') return; // the command got it from the terminal (its process group)
      if (child !== null && child.exitCode === null && child.signalCode === null) {
        try {
          child.kill(signal);
        } catch {
          // the child is already gone
        }
      }
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  try {
    try {
      tracker.start(); // the window opens here, before the command exists
    } catch (error) {
      return ownError(`the tracker could not start: ${(error as Error).message}`);
    }
    if (received !== null) {
      // Interrupted before the command was started: start nothing, record nothing.
      tracker.stop({ save: false });
      return { exitCode: exitCodeForSignal(received), dieOf: received };
    }
    child = spawn(launch.file, launch.args, { stdio: 'inherit', ...(launch.deathSignal === 'none' ? { argv0: command } : {}) });
    const exit = ended(child);
    const start = await started(child);
    if (!start.ok) {
      tracker.stop({ save: false });
      const code = start.error.code === 'ENOENT' ? 127 : 126;
      process.stderr.write(`lamarr-energy-tracker run: cannot start ${command}: ${start.error.message}\n`);
      return { exitCode: code, dieOf: null };
    }
    const { code, signal } = await exit;
    const status = runStatusFor(code, signal, received);
    try {
      const record = await tracker.stopAsync({ status, summaryTo: 'stderr' });
      if (json && flags.summary) process.stderr.write(`${toJson(record)}\n`);
    } catch (error) {
      // The command's exit code matters more than our bookkeeping: report and pass it on.
      process.stderr.write(`lamarr-energy-tracker run: the run could not be recorded: ${(error as Error).message}\n`);
    }
    if (signal !== null) return { exitCode: exitCodeForSignal(signal), dieOf: INTERRUPTING_SIGNALS.has(signal) ? signal : null };
    return { exitCode: code ?? 1, dieOf: null };
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/** {@link runCommand}, resolving to the exit code only (the signal's 128 + n). */
export async function runTracked(command: string, args: readonly string[], flags: RunFlags): Promise<number> {
  return (await runCommand(command, args, flags)).exitCode;
}

/**
 * Register `run [options] -- <command> [args…]` on `program` (commander v14). The action sets
 * `process.exitCode` to the child's exit code.
 */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run a command and record its energy and CO2 (stdio inherited, summary on stderr, exit code passed through; 125: our error, 127: not found)',
    )
    .usage('[options] -- <command> [args...]')
    // Everything from the command on is the child's, options included: `run node -e "…"` works without `--`.
    .passThroughOptions()
    .argument('<command>', 'program to run (looked up in PATH)')
    .argument('[args...]', 'its arguments (put -- before the command when they contain options)')
    .option('--project-name <name>', "project of the run (default: the command's name)")
    .option('--output-dir <dir>', 'directory of emissions.csv (default: LET_OUTPUT_DIR or ~/.let)')
    .option('--country-iso-code <code>', 'ISO 3166-1 alpha-3 country of the grid (default DEU)')
    .option('--carbon-intensity <gCO2/kWh>', "carbon intensity, overrides the country's", parseNumber('--carbon-intensity', { min: 0, max: MAX_CARBON_INTENSITY }))
    .option('--pue <pue>', 'power usage effectiveness of the data centre (≥ 1)', parseNumber('--pue', { min: 1, max: MAX_PUE }))
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
    .addOption(new Option('--format <format>', "summary format on stderr: 'text', or 'json' (the stored record)").choices(['text', 'json']).default('text'))
    .option('--json', 'same as --format json')
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
      const outcome = await runCommand(command, args, flags);
      // Die of the command's signal, so that a calling shell sees the interruption.
      process.exitCode = outcome.exitCode;
      if (outcome.dieOf !== null) {
        process.kill(process.pid, outcome.dieOf);
        // With no listener the signal kills at once. A library's listener (signal-exit, which
        // some libraries load) gets it on the next turn of the event loop and raises it again
        // once it has cleaned up: keep the loop alive until then.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    });
}
