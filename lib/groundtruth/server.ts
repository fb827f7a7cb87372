/**
 * The ground-truth server (`lamarr-energy-tracker gt-server --config hosts.json`): the Python
 * package's REST protocol (`GET /list`, `/<host>/start`, `/<host>/stop`, its JSON and status
 * codes), so its `GroundTruthTracker` works against it, plus:
 * - non-destructive windows: `start` remembers the plug's running total, `stop` answers the
 *   difference (the Python server resets the plug instead; `resetOnStart` does that, for
 *   strict compatibility). Windows are per host and per `X-LET-GT-Window` header, so clients
 *   on one host do not clobber each other; without the header, one window per host (as Python);
 * - many clients at once (reads of one plug are serialised and shared while in flight);
 * - an optional bearer token; plug errors as 502 with `{error, reason}`; a counter that went
 *   backwards or was reset during a window as 409 with `{error, reason}`;
 * - plug exchanges bounded by `plugTimeoutMs` (default 4 s), inside the Python client's 5 s.
 * Thread: everything runs on the event loop of the thread that started it; plug GETs run on
 * the HTTP thread (http-thread.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { TRACKER_VERSION } from '../version.js';
import { requestSequence } from './http-thread.js';
import { PlugError, parseReading, readingSteps, type PlugReading, type PlugSpec } from './plugs.js';
import { resolveGroundTruth } from './config.js';
import { SERVER_HEADER, WINDOW_HEADER, secondsBetween } from './server-client.js';
import { localTimestamp } from '../tracker/record-fields.js';
import { plugWindow } from './window.js';

/** Options of {@link startGroundTruthServer}. */
export interface GroundTruthServerConfig {
  /** Hostname → plug. */
  plugs: ReadonlyMap<string, PlugSpec>;
  /** Port to listen on (0: any). Default 8000. */
  port?: number;
  /** Address to bind. Default `0.0.0.0` (as the Python server). */
  host?: string;
  /** Require `Authorization: Bearer <token>`. Default: none. */
  token?: string | null;
  /** Reset the plug at each start (the Python server's behaviour), Tasmota only. Default false. */
  resetOnStart?: boolean;
  /** Bound on each exchange with a plug, ms. Default 4000. */
  plugTimeoutMs?: number;
}

/** A running server. */
export interface RunningGroundTruthServer {
  port: number;
  close(): Promise<void>;
}

interface Window {
  baseKwh: number;
  startTime: string;
  start: PlugReading;
}

const MAX_WINDOWS = 10000;

/** Read `hosts.json`: `{"host": "plug-ip"}` (Tasmota, as the Python server) or `{"host": {"shellyGen2": "http://…", "password": "…"}}`. */
export function loadServerConfig(file: string): Map<string, PlugSpec> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(`${file}: cannot read the ground-truth server config: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file}: must be a JSON object mapping hostnames to plug IPs (or plug objects)`);
  }
  const plugs = new Map<string, PlugSpec>();
  for (const [hostname, value] of Object.entries(parsed)) {
    if (hostname.trim() === '' || hostname.includes('/')) throw new Error(`${file}: ${JSON.stringify(hostname)} is not a hostname`);
    try {
      const config = resolveGroundTruth(typeof value === 'string' ? { tasmota: value } : value);
      if (config.kind !== 'plug') throw new Error('a server cannot be a plug');
      plugs.set(hostname, config.plug);
    } catch (error) {
      throw new Error(`${file}: host ${JSON.stringify(hostname)}: ${(error as Error).message.replace(/option groundTruth\./g, '')}`);
    }
  }
  if (plugs.size === 0) throw new Error(`${file}: names no host`);
  return plugs;
}

/** The plug's timestamp as `%Y-%m-%dT%H:%M:%S` (zone and fraction dropped), else this machine's local time. */
function gtTime(reading: PlugReading): string {
  const match = reading.source === 'tasmota' && reading.plugTime !== null ? /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.exec(reading.plugTime) : null;
  return match !== null ? match[0] : localTimestamp(new Date(reading.receivedAtMs));
}

/** JSON as Python's `json.dumps` writes the Python server's answers: its numbers are floats (`3.0`, not `3`). */
function pythonJson(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return JSON.stringify(body);
  const fields = Object.entries(body as Record<string, unknown>).map(([key, value]) => {
    const text = typeof value === 'number' && Number.isInteger(value) ? value.toFixed(1) : JSON.stringify(value);
    return `${JSON.stringify(key)}: ${text}`;
  });
  return `{${fields.join(', ')}}`;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : pythonJson(body);
  res.writeHead(status, { [SERVER_HEADER]: TRACKER_VERSION, ...(typeof body === 'string' || body === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
  res.end(text);
}

/** Start the server; resolves once it listens. */
export async function startGroundTruthServer(config: GroundTruthServerConfig): Promise<RunningGroundTruthServer> {
  const timeoutMs = config.plugTimeoutMs ?? 4000;
  const token = config.token ?? null;
  const windows = new Map<string, Window>();
  const inFlight = new Map<string, Promise<PlugReading>>();
  const queue = new Map<string, Promise<unknown>>();

  /** One exchange with a host's plug at a time; concurrent readers share the one in flight. */
  const read = (hostname: string, plug: PlugSpec): Promise<PlugReading> => {
    const running = inFlight.get(hostname);
    if (running !== undefined) return running;
    const reading = exclusive(hostname, async () => parseReading(plug, await requestSequence(readingSteps(plug), timeoutMs).wait()));
    inFlight.set(hostname, reading);
    const clear = () => inFlight.delete(hostname);
    reading.then(clear, clear);
    return reading;
  };
  const exclusive = <T>(hostname: string, work: () => Promise<T>): Promise<T> => {
    const previous = queue.get(hostname) ?? Promise.resolve();
    const next = previous.then(work, work);
    queue.set(hostname, next.catch(() => undefined));
    return next;
  };
  const resetSequence = (plug: PlugSpec): Promise<{ before: PlugReading; after: PlugReading }> => {
    const auth = plug.password !== null ? `&user=${encodeURIComponent(plug.user ?? 'admin')}&password=${encodeURIComponent(plug.password)}` : '';
    const cmnd = (command: string) => ({ url: `${plug.url}/cm?cmnd=${encodeURIComponent(command)}${auth}` });
    const steps = ['EnergyRes 5', 'Status 8', 'EnergyYesterday 0', 'EnergyToday 0', 'EnergyTotal 0', 'EnergyRes 5', 'Status 8'].map(cmnd);
    return requestSequence(steps, timeoutMs)
      .wait()
      .then((o) => ({ before: parseReading(plug, [o[0]!, o[1]!]), after: parseReading(plug, [o[5]!, o[6]!]) }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (token !== null) {
      const given = Buffer.from(req.headers.authorization ?? '');
      const wanted = Buffer.from(`Bearer ${token}`);
      if (given.length !== wanted.length || !process.getBuiltinModule('node:crypto').timingSafeEqual(given, wanted)) {
        send(res, 401, { error: 'this ground-truth server needs Authorization: Bearer <token>', reason: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
        return;
      }
    }
    if (req.method !== 'GET') return send(res, 405, { error: `${req.method} is not supported; use GET`, reason: 'method' }, { allow: 'GET' });
    const path = (req.url ?? '/').split('?')[0]!.slice(1);
    if (path === 'list') return send(res, 200, [...config.plugs.keys()]);
    const parts = path.split('/');
    if (parts.length !== 2) return send(res, 400, undefined);
    const hostname = decodeURIComponent(parts[0]!);
    const command = parts[1]!;
    const plug = config.plugs.get(hostname);
    if (plug === undefined) return send(res, 404, 'Unknown hostname');
    if (command !== 'start' && command !== 'stop') return send(res, 404, undefined);
    const windowKey = `${hostname}\u0000${String(req.headers[WINDOW_HEADER] ?? '')}`;
    const extras = (reading: PlugReading, mode: string) => ({
      window: String(req.headers[WINDOW_HEADER] ?? 'default'),
      mode,
      source: plug.kind,
      total_kwh: reading.totalKwh,
      power_w: reading.powerW,
      resolution_kwh: reading.resolutionKwh,
      update_period_s: reading.updatePeriodS,
    });
    try {
      if (command === 'start') {
        const previous = windows.get(windowKey);
        let reading: PlugReading;
        let answer: { energy_consumed: number; start_time: string; timestamp: string; duration: number };
        if (config.resetOnStart === true && plug.kind === 'tasmota') {
          const { before, after } = await exclusive(hostname, () => resetSequence(plug));
          reading = after;
          const startTime = before.counterEpoch ?? gtTime(before);
          answer = { energy_consumed: before.totalKwh, start_time: startTime, timestamp: gtTime(after), duration: secondsBetween(startTime, gtTime(before)) };
        } else {
          reading = await read(hostname, plug);
          const timestamp = gtTime(reading);
          const startTime = previous?.startTime ?? reading.counterEpoch ?? timestamp;
          const energy = previous !== undefined ? Math.max(reading.totalKwh - previous.baseKwh, 0) : reading.totalKwh;
          answer = { energy_consumed: energy, start_time: startTime, timestamp, duration: secondsBetween(startTime, timestamp) };
        }
        windows.delete(windowKey);
        windows.set(windowKey, { baseKwh: reading.totalKwh, startTime: gtTime(reading), start: reading });
        if (windows.size > MAX_WINDOWS) windows.delete(windows.keys().next().value!);
        return send(res, 200, { ...answer, ...extras(reading, config.resetOnStart === true && plug.kind === 'tasmota' ? 'reset' : 'window') });
      }
      const reading = await read(hostname, plug);
      const window = windows.get(windowKey);
      const timestamp = gtTime(reading);
      if (window === undefined) {
        // No start seen (as the Python server): the plug's total since its counter began.
        const startTime = reading.counterEpoch ?? timestamp;
        return send(res, 200, { energy_consumed: reading.totalKwh, start_time: startTime, timestamp, duration: secondsBetween(startTime, timestamp), ...extras(reading, 'total') });
      }
      const checked = plugWindow(window.start, reading, window.start.receivedAtMs, reading.receivedAtMs);
      if (checked.method.startsWith('none:')) {
        return send(res, 409, { error: checked.message, reason: checked.method.slice('none:'.length) });
      }
      return send(res, 200, {
        energy_consumed: Math.max(reading.totalKwh - window.baseKwh, 0),
        start_time: window.startTime,
        timestamp,
        duration: secondsBetween(window.startTime, timestamp),
        ...extras(reading, 'window'),
      });
    } catch (error) {
      const reason = error instanceof PlugError ? error.reason : 'error';
      return send(res, 502, { error: `plug of ${hostname}: ${(error as Error).message}`, reason: `plug-${reason}` });
    }
  };

  // node:http (with net, ~4 ms) is loaded when a server starts, not when the package is imported.
  const server: Server = process.getBuiltinModule('node:http').createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (error as Error).message, reason: 'internal' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 8000, config.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
