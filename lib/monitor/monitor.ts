/**
 * A whole-machine monitor: serves the energy metrics on `/metrics` for Prometheus and stores the
 * machine's energy as runs in `emissions.csv` (one run from start to stop, or, with
 * `storeEverySeconds`, a row every so often, each covering the time since the previous one:
 * `codecarbon monitor`'s periodic output, in rows that add up).
 *
 * The HTTP server listens on loopback by default; `/metrics` answers GET and HEAD, every other
 * path 404. `stop()` stops serving, stores the last run and gives the sampler back, synchronously
 * apart from closing the listening socket.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { promClient } from '../metrics/prom-client.js';
import { EnergyTracker } from '../tracker/energy-tracker.js';
import type { EnergyTrackerOptions } from '../tracker/options.js';
import type { EmissionsRecord } from '../store/schema.js';
import { registerEnergyMetrics, type EnergyMetrics } from '../metrics/register.js';
import { rejectUnknownOptions } from '../options-check.js';

/** The tracker's options a monitor passes on to its tracker (one list: the type and the check). */
const TRACKER_OPTIONS = ['projectName', 'outputDir', 'countryIsoCode', 'carbonIntensity', 'pue', 'samplingIntervalMs', 'gpuIds', 'hardwareRoot', 'nvmlLibrary'] as const;
const MONITOR_OPTIONS = ['port', 'host', 'save', 'storeEverySeconds', 'prefix', ...TRACKER_OPTIONS] as const;

/** Options of {@link startMonitor}. */
export interface MonitorOptions extends Pick<EnergyTrackerOptions, (typeof TRACKER_OPTIONS)[number]> {
  /** TCP port of the metrics endpoint; 0 picks a free one. Default 9464. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1` (loopback only); `0.0.0.0` or `::` to serve the network. */
  host?: string;
  /** Store the monitored time as runs in `emissions.csv`. Default true. */
  save?: boolean;
  /** Also store a row every this many seconds (each row covers the time since the previous one). Default: only at stop. */
  storeEverySeconds?: number;
  /** Metric name prefix. Default `let_`. */
  prefix?: string;
}

/** A running monitor. */
export interface Monitor {
  /** `http://host:port/metrics`. */
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  /** Rows stored so far (periodic rows, then the last one at stop). */
  readonly stored: readonly EmissionsRecord[];
  /** Stop serving, store the last run (when saving) and release the sampler. Resolves with the last record, or null. */
  stop(): Promise<EmissionsRecord | null>;
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`option port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return port;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Start monitoring the machine and serving `/metrics`. Rejects when the port cannot be bound. */
export async function startMonitor(options: MonitorOptions = {}): Promise<Monitor> {
  rejectUnknownOptions('startMonitor', options, MONITOR_OPTIONS);
  const { port: givenPort = 9464, host = '127.0.0.1', save = true, storeEverySeconds, prefix, ...trackerFields } = options;
  const port = checkPort(givenPort);
  if (typeof host !== 'string' || host.trim() === '') throw new TypeError('option host must be a non-empty address');
  if (storeEverySeconds !== undefined && (typeof storeEverySeconds !== 'number' || !Number.isFinite(storeEverySeconds) || storeEverySeconds < 1)) {
    throw new RangeError(`option storeEverySeconds must be a number of seconds ≥ 1, got ${String(storeEverySeconds)}`);
  }
  const trackerOptions: EnergyTrackerOptions = {
    projectName: 'monitor',
    ...trackerFields,
    save,
    printSummary: false,
    trackingMode: 'machine',
    // The monitor's owner stops it on signals (the CLI on SIGTERM/SIGINT/SIGHUP, as completed).
    handleSignals: false,
  };
  // Validates every tracker option (errors name the option) before anything starts.
  new EnergyTracker(trackerOptions);

  const registry = new (promClient().Registry)();
  const { projectName: _project, outputDir: _dir, ...meterOptions } = trackerFields;
  const metrics: EnergyMetrics = registerEnergyMetrics({ ...meterOptions, registry, ...(prefix !== undefined ? { prefix } : {}) });
  const stored: EmissionsRecord[] = [];

  // node:http (with net, ~4 ms) is loaded when a monitor starts, not when the package is imported.
  const server: Server = process.getBuiltinModule('node:http').createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(error as Error)?.message ?? String(error)}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Nothing was served and nothing measured yet: give the sampler back, store nothing.
    metrics.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot serve metrics on ${formatHost(host)}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`, {
      cause: error,
    });
  }
  const actualPort = (server.address() as AddressInfo).port;
  let tracker = new EnergyTracker(trackerOptions).start();
  let timer: NodeJS.Timeout | null = null;
  if (save && storeEverySeconds !== undefined) {
    timer = setInterval(() => {
      // The next row starts before this one ends (two fresh reads microseconds apart, before the
      // row is written), so rows neither leave gaps nor wait for the disk. A row that cannot be
      // stored is printed as JSON by RunNotStoredError; monitoring goes on.
      const previous = tracker;
      tracker = new EnergyTracker(trackerOptions).start();
      try {
        stored.push(previous.stop());
      } catch (error) {
        process.stderr.write(`lamarr-energy-tracker monitor: ${(error as Error)?.message ?? String(error)}\n`);
      }
    }, storeEverySeconds * 1000);
  }
  let stopping: Promise<EmissionsRecord | null> | null = null;
  return {
    url: `http://${formatHost(host)}:${actualPort}/metrics`,
    port: actualPort,
    registry,
    stored,
    stop: () => {
      if (stopping !== null) return stopping;
      if (timer !== null) clearInterval(timer);
      let last: EmissionsRecord | null = null;
      let failure: unknown = null;
      try {
        if (tracker.running) {
          last = tracker.stop();
          if (save) stored.push(last);
        }
      } catch (error) {
        failure = error;
      }
      metrics.close();
      stopping = new Promise((resolve, reject) => {
        server.close(() => (failure !== null ? reject(failure) : resolve(save ? last : null)));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
