/**
 * Client of a ground-truth server: ours (`lamarr-energy-tracker gt-server`) or the Python
 * package's (`python -m lamarr_energy_tracker.ground_truth_tracking --config …`).
 *
 * Both answer `GET /<host>/start` and `GET /<host>/stop` with `{energy_consumed: kWh,
 * start_time, timestamp, duration}`, where the stop's `energy_consumed` is the energy since
 * the window began: the Python server resets the plug at start; ours keeps a window per
 * `X-LET-GT-Window` header (the Python server ignores headers) and never resets. So the run's
 * wall energy is the stop's `energy_consumed` from either. A window that began elsewhere (the
 * stop's `start_time` is not our start's `timestamp`: another client started or reset it) is
 * reported as `counter-reset`, not used.
 */
import type { HttpOutcome, HttpStep } from './http-thread.js';
import { PlugError, TASMOTA_STEP_KWH, checkOutcome, parseJson } from './plugs.js';
import { urlHost, type ServerSpec } from './config.js';
import { noGroundTruth, windowEnergy, type WallEnergy } from './window.js';

/** The Python package's timestamp format, `%Y-%m-%dT%H:%M:%S` (plug local time, no zone). */
export const GT_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/** The header naming a client's window on our server. */
export const WINDOW_HEADER = 'x-let-gt-window';
/** The header our server adds to every answer. */
export const SERVER_HEADER = 'x-let-gt-server';

/** A parsed answer of `/<host>/start` or `/<host>/stop`. */
export interface ServerAnswer {
  energyConsumedKwh: number;
  startTime: string;
  timestamp: string;
  durationS: number;
  /** Whether our server answered (it adds {@link SERVER_HEADER} and the fields below). */
  ours: boolean;
  powerW: number | null;
  resolutionKwh: number | null;
  updatePeriodS: number | null;
  sentAtMs: number;
  receivedAtMs: number;
}

/** Seconds between two `%Y-%m-%dT%H:%M:%S` times. */
export function secondsBetween(from: string, to: string): number {
  const parse = (text: string) => {
    const [date, time] = text.split('T') as [string, string];
    const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
    const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi, s);
  };
  return (parse(to) - parse(from)) / 1000;
}

function serverBase(server: ServerSpec): string {
  return `http://${urlHost(server.host)}:${server.port}`;
}

/** The GET of `command` for our host, in window `window`. */
export function serverStep(server: ServerSpec, command: 'start' | 'stop', window: string): HttpStep {
  const headers: Record<string, string> = { [WINDOW_HEADER]: window };
  if (server.token !== null) headers.authorization = `Bearer ${server.token}`;
  return { url: `${serverBase(server)}/${encodeURIComponent(server.hostname)}/${command}`, headers };
}

/** A new window id for one run. */
export function newWindowId(): string {
  return process.getBuiltinModule('node:crypto').randomUUID();
}

/** Parse a server's answer (throws {@link PlugError} with the server's reason when it gives one). */
export function parseServerAnswer(server: ServerSpec, outcome: HttpOutcome | undefined): ServerAnswer {
  const what = `ground-truth server ${urlHost(server.host)}:${server.port}`;
  if (outcome !== undefined && outcome.ok && outcome.status === 404 && outcome.body.trim() === 'Unknown hostname') {
    throw new PlugError('unknown-host', `${what} does not know host ${JSON.stringify(server.hostname)} (add it to the server's config, or set groundTruth.hostname)`);
  }
  if (outcome !== undefined && outcome.ok && outcome.status >= 400) {
    // Our server explains its errors as JSON {error, reason}.
    let reason: string | null = null;
    let message = '';
    try {
      const body = JSON.parse(outcome.body) as { error?: unknown; reason?: unknown };
      if (typeof body.reason === 'string' && /^[a-z0-9-]+$/.test(body.reason)) reason = body.reason;
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // not ours: the generic message below
    }
    if (reason !== null) throw new PlugError(reason, `${what}: ${message || `HTTP ${outcome.status}`}`);
  }
  const answer = checkOutcome(outcome, what);
  const body = parseJson(answer, what);
  if (body === null) throw new PlugError('plug-unreachable', `${what} answered null: it could not read the plug`);
  if (typeof body !== 'object' || Array.isArray(body)) throw new PlugError('bad-response', `${what} did not answer a JSON object`);
  const record = body as Record<string, unknown>;
  const number = (key: string): number => {
    const value = record[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new PlugError('bad-response', `${what}: ${key} is not a number (${JSON.stringify(value)})`);
    return value;
  };
  const time = (key: string): string => {
    const value = record[key];
    if (typeof value !== 'string' || !GT_TIME_PATTERN.test(value)) {
      throw new PlugError('bad-response', `${what}: ${key} is not a %Y-%m-%dT%H:%M:%S time (${JSON.stringify(value)})`);
    }
    return value;
  };
  const optional = (key: string): number | null => {
    const value = record[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  };
  const ours = answer.headers[SERVER_HEADER] !== undefined;
  return {
    energyConsumedKwh: number('energy_consumed'),
    startTime: time('start_time'),
    timestamp: time('timestamp'),
    durationS: number('duration'),
    ours,
    powerW: ours ? optional('power_w') : null,
    resolutionKwh: ours ? optional('resolution_kwh') : null,
    updatePeriodS: ours ? optional('update_period_s') : null,
    sentAtMs: answer.sentAtMs,
    receivedAtMs: answer.receivedAtMs,
  };
}

/**
 * The run's wall energy from the start and stop answers. The Python server's windows begin at
 * its reset (between the request and the answer); ours at its reading.
 */
export function serverWindow(start: ServerAnswer, stop: ServerAnswer, runStartMs: number, runStopMs: number): WallEnergy {
  // Same window? Ours repeats our start's timestamp as start_time; the Python server's reset
  // sets TotalStartTime within a second or two of the timestamp it answered.
  const drift = Math.abs(secondsBetween(start.timestamp, stop.startTime));
  if (drift > (start.ours ? 0 : 2)) {
    return noGroundTruth(
      'counter-reset',
      `the ground-truth window was restarted during the run (it began at ${stop.startTime}, ours at ${start.timestamp}): another client started it, or the counter was reset; no wall energy for this run`,
    );
  }
  return windowEnergy({
    source: 'gt-server',
    countedKwh: stop.energyConsumedKwh,
    start: { atMs: (start.sentAtMs + start.receivedAtMs) / 2, halfRoundTripMs: (start.receivedAtMs - start.sentAtMs) / 2, powerW: start.powerW },
    stop: { atMs: (stop.sentAtMs + stop.receivedAtMs) / 2, halfRoundTripMs: (stop.receivedAtMs - stop.sentAtMs) / 2, powerW: stop.powerW },
    runStartMs,
    runStopMs,
    // The Python server sets EnergyRes 5 on a Tasmota plug: 10⁻⁵ kWh steps, once a second.
    resolutionKwh: stop.resolutionKwh ?? TASMOTA_STEP_KWH,
    updatePeriodS: stop.updatePeriodS ?? 1,
  });
}
