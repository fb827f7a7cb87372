/**
 * `lamarr-energy-tracker monitor`: watch the whole machine, serve `/metrics` for Prometheus and
 * store the monitored time as runs. SIGTERM, SIGINT or SIGHUP stop it: the last run is stored and
 * the process exits 0 (1 when that run could not be stored; the record is then printed as JSON).
 */
import { Command } from 'commander';
import { startMonitor, type MonitorOptions } from '../../monitor/monitor.js';
import { parseNumber } from '../arguments.js';

interface MonitorFlags {
  port: number;
  host: string;
  interval: number;
  storeEvery?: number;
  /** `--no-save` sets false. */
  save: boolean;
  outputDir?: string;
  projectName: string;
  countryIsoCode?: string;
  carbonIntensity?: number;
  pue?: number;
  hardwareRoot?: string;
  nvmlLibrary?: string;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

function parsePort(value: string): number {
  const port = parseNumber('--port', { min: 0, max: 65535 })(value);
  if (!Number.isInteger(port)) throw new Error(`--port must be an integer, got "${value}"`);
  return port;
}

/** `monitor`: whole-machine metrics endpoint and periodic rows. */
export function registerMonitorCommand(program: Command): void {
  const command = new Command('monitor')
    .description('monitor the whole machine: serve Prometheus metrics on /metrics and store the monitored time as runs (stop with SIGTERM or Ctrl-C)')
    .option('--port <port>', 'port of the metrics endpoint (0: any free port)', parsePort, 9464)
    .option('--host <address>', 'address to listen on (0.0.0.0 serves the network)', '127.0.0.1')
    .option('--interval <seconds>', 'sampling interval of the counters', parseNumber('--interval', { min: 0.001, max: 60 }), 1)
    .option('--store-every <seconds>', 'also store a row every so many seconds (each covers the time since the previous row)', parseNumber('--store-every', { min: 1 }))
    .option('--no-save', 'store nothing: serve metrics only')
    .option('--output-dir <dir>', 'directory of emissions.csv (default ~/.let)')
    .option('--project-name <name>', 'project of the stored runs', 'monitor')
    .option('--country-iso-code <code>', 'country of the grid (ISO 3166-1 alpha-3), default DEU')
    .option('--carbon-intensity <g/kWh>', 'carbon intensity, overrides the country\'s', parseNumber('--carbon-intensity', { min: 0 }))
    .option('--pue <pue>', 'power usage effectiveness of the data centre', parseNumber('--pue', { min: 1 }))
    .option('--hardware-root <dir>', 'root under which /sys, /proc and /dev are read (simulated hardware)')
    .option('--nvml-library <path>', "path of libnvidia-ml.so.1 ('' disables NVML)")
    .action(async (flags: MonitorFlags) => {
      const options: MonitorOptions = {
        port: flags.port,
        host: flags.host,
        save: flags.save,
        projectName: flags.projectName,
        samplingIntervalMs: Math.max(1, Math.round(flags.interval * 1000)),
      };
      if (flags.storeEvery !== undefined) options.storeEverySeconds = flags.storeEvery;
      if (flags.outputDir !== undefined) options.outputDir = flags.outputDir;
      if (flags.countryIsoCode !== undefined) options.countryIsoCode = flags.countryIsoCode;
      if (flags.carbonIntensity !== undefined) options.carbonIntensity = flags.carbonIntensity;
      if (flags.pue !== undefined) options.pue = flags.pue;
      if (flags.hardwareRoot !== undefined) options.hardwareRoot = flags.hardwareRoot;
      if (flags.nvmlLibrary !== undefined) options.nvmlLibrary = flags.nvmlLibrary;

      // A signal during start-up still stops the monitor once it runs.
      let signalled: NodeJS.Signals | null = null;
      let wake: (() => void) | null = null;
      const handler = (signal: NodeJS.Signals): void => {
        signalled = signal;
        wake?.();
      };
      for (const signal of STOP_SIGNALS) process.on(signal, handler);
      try {
        const monitor = await startMonitor(options);
        process.stdout.write(
          `Serving energy metrics at ${monitor.url}\n` +
            (flags.save ? `Storing the monitored time as runs of project "${flags.projectName}". ` : '') +
            'Stop with SIGTERM or Ctrl-C.\n',
        );
        if (signalled === null) await new Promise<void>((resolve) => (wake = resolve));
        const last = await monitor.stop();
        if (last !== null) {
          process.stdout.write(
            `Stopped (${signalled}); stored ${monitor.stored.length} row(s), the last one run ${last.run_id}: ` +
              `${((last.energy_consumed ?? 0) * 3.6e6).toFixed(3)} J in ${(last.duration ?? 0).toFixed(1)} s.\n`,
          );
        } else process.stdout.write(`Stopped (${signalled}).\n`);
      } finally {
        for (const signal of STOP_SIGNALS) process.off(signal, handler);
      }
    });
  program.addCommand(command);
}
