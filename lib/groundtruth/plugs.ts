/**
 * Readers for smart plugs over plain HTTP: Tasmota, Shelly Gen2 (RPC) and Shelly Gen1.
 *
 * A reader turns "read the plug" into a short sequence of GETs (run on the HTTP thread, see
 * `http-thread.ts`) and parses the answers into a {@link PlugReading}: the plug's running
 * total (never reset), its power, its own timestamp, and what the reading is worth (the
 * resolution of the total and how often the plug updates it).
 */
import type { HttpOutcome, HttpStep } from './http-thread.js';

/** The plug firmwares we read directly. */
export type PlugKind = 'tasmota' | 'shelly-gen2' | 'shelly-gen1';

/** Where a reading came from: a plug, or a ground-truth server in front of one. */
export type ReadingSource = PlugKind | 'gt-server';

/** A direct plug, validated. */
export interface PlugSpec {
  kind: PlugKind;
  /** Base URL, e.g. `http://10.0.0.5` (no trailing slash). */
  url: string;
  user: string | null;
  password: string | null;
  /** Tasmota: `EnergyRes` decimals to set before reading (0–5), or null to leave the plug's setting. Default 5. */
  energyRes: number | null;
}

/** One reading of a plug's running total. */
export interface PlugReading {
  source: ReadingSource;
  /** The running total, kWh. */
  totalKwh: number;
  /** Active power at the reading, W (null when the source does not say). */
  powerW: number | null;
  /** The plug's own timestamp as it gave it (Tasmota: local time without zone). */
  plugTime: string | null;
  /**
   * Identifies the counter's lifetime: a change between two readings means the counter was
   * reset (Tasmota `TotalStartTime`; null where the plug has no such thing).
   */
  counterEpoch: string | null;
  /** Seconds since the plug booted, where it says (Shelly Gen1). */
  uptimeS: number | null;
  /** The smallest difference of two totals the plug can show, kWh. */
  resolutionKwh: number;
  /** How often the plug adds energy to its total, s. */
  updatePeriodS: number;
  /** When the request left and the answer arrived, this machine's epoch ms. */
  sentAtMs: number;
  receivedAtMs: number;
}

/** A plug or server that could not be read; `reason` is short and goes into the record. */
export class PlugError extends Error {
  /** Short reason for `none:<reason>` (`timeout`, `unreachable`, `unauthorized`, `http-502`, `bad-response`, …). */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'PlugError';
    this.reason = reason;
  }
}

/** Tasmota's internal energy step: 10⁻⁵ kWh (0.01 Wh), added once per second. */
export const TASMOTA_STEP_KWH = 1e-5;
/** Shelly Gen1 counts watt-minutes: 1/60 Wh. */
export const SHELLY_GEN1_STEP_KWH = 1 / 60 / 1000;
/** Shelly Gen2 reports Wh with three decimals. */
export const SHELLY_GEN2_STEP_KWH = 1e-6;

/** The float32 spacing at `value` (Tasmota keeps its totals as 32-bit floats). */
export function float32Spacing(value: number): number {
  const abs = Math.abs(value);
  if (abs === 0) return 0;
  return 2 ** (Math.floor(Math.log2(abs)) - 23);
}

/** Raises a PlugError for a failed GET (or a non-2xx answer). */
export function checkOutcome(outcome: HttpOutcome | undefined, what: string): Extract<HttpOutcome, { ok: true }> {
  if (outcome === undefined) throw new PlugError('timeout', `${what}: no answer in time`);
  if (!outcome.ok) {
    if (outcome.error === 'timeout') throw new PlugError('timeout', `${what}: ${outcome.url} did not answer in time`);
    if (outcome.error === 'too-large') throw new PlugError('bad-response', `${what}: ${outcome.url}: ${outcome.message}`);
    throw new PlugError('unreachable', `${what}: ${outcome.url} is unreachable (${outcome.message})`);
  }
  if (outcome.status === 401 || outcome.status === 403) {
    throw new PlugError('unauthorized', `${what}: ${redact(outcome.url)} refused the request (HTTP ${outcome.status}); check the user and password`);
  }
  if (outcome.status < 200 || outcome.status >= 300) {
    const detail = outcome.body.trim().slice(0, 200);
    throw new PlugError(`http-${outcome.status}`, `${what}: ${redact(outcome.url)} answered HTTP ${outcome.status}${detail ? `: ${detail}` : ''}`);
  }
  return outcome;
}

/** The URL without a password in its query. */
export function redact(url: string): string {
  return url.replace(/([?&]password=)[^&]*/i, '$1***');
}

export function parseJson(outcome: Extract<HttpOutcome, { ok: true }>, what: string): unknown {
  try {
    return JSON.parse(outcome.body) as unknown;
  } catch {
    throw new PlugError('bad-response', `${what}: ${redact(outcome.url)} did not answer JSON (got ${JSON.stringify(outcome.body.slice(0, 80))})`);
  }
}

function field(object: unknown, path: readonly string[], what: string): unknown {
  let at: unknown = object;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || !(key in at)) {
      throw new PlugError('bad-response', `${what}: the answer lacks ${path.join('.')}`);
    }
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function numberField(object: unknown, path: readonly string[], what: string): number {
  const value = field(object, path, what);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PlugError('bad-response', `${what}: ${path.join('.')} is not a number (${JSON.stringify(value)})`);
  }
  return value;
}

function optionalNumber(object: unknown, path: readonly string[]): number | null {
  try {
    return numberField(object, path, '');
  } catch {
    return null;
  }
}

function tasmotaUrl(spec: PlugSpec, command: string): string {
  const auth = spec.password !== null ? `&user=${encodeURIComponent(spec.user ?? 'admin')}&password=${encodeURIComponent(spec.password)}` : '';
  return `${spec.url}/cm?cmnd=${encodeURIComponent(command)}${auth}`;
}

/** The GETs that read `spec` once. */
export function readingSteps(spec: PlugSpec): HttpStep[] {
  const basicAuth = spec.password !== null ? { user: spec.user ?? 'admin', password: spec.password } : undefined;
  switch (spec.kind) {
    case 'tasmota':
      return [
        { url: tasmotaUrl(spec, spec.energyRes === null ? 'EnergyRes' : `EnergyRes ${spec.energyRes}`) },
        { url: tasmotaUrl(spec, 'Status 8') },
      ];
    case 'shelly-gen2':
      return [{ url: `${spec.url}/rpc/Switch.GetStatus?id=0`, ...(basicAuth ? { basicAuth } : {}) }];
    case 'shelly-gen1':
      return [{ url: `${spec.url}/status`, ...(basicAuth ? { basicAuth } : {}) }];
  }
}

/** Parse the answers to {@link readingSteps}. Throws {@link PlugError}. */
export function parseReading(spec: PlugSpec, outcomes: readonly HttpOutcome[]): PlugReading {
  const what = `${spec.kind} plug ${spec.url}`;
  if (spec.kind === 'tasmota') {
    const resAnswer = parseJson(checkOutcome(outcomes[0], what), what);
    if (resAnswer !== null && typeof resAnswer === 'object' && 'WARNING' in resAnswer) {
      throw new PlugError('unauthorized', `${what} asks for credentials (${String((resAnswer as { WARNING: unknown }).WARNING)})`);
    }
    const energyRes = numberField(resAnswer, ['EnergyRes'], what);
    const status = checkOutcome(outcomes[1], what);
    const body = parseJson(status, what);
    if (body !== null && typeof body === 'object' && 'WARNING' in body) {
      throw new PlugError('unauthorized', `${what} asks for credentials (${String((body as { WARNING: unknown }).WARNING)})`);
    }
    const total = numberField(body, ['StatusSNS', 'ENERGY', 'Total'], what);
    const time = field(body, ['StatusSNS', 'Time'], what);
    const startTime = optionalString(body, ['StatusSNS', 'ENERGY', 'TotalStartTime']);
    const printed = 10 ** -Math.min(Math.max(Math.round(energyRes), 0), 5);
    return {
      source: 'tasmota',
      totalKwh: total,
      powerW: optionalNumber(body, ['StatusSNS', 'ENERGY', 'Power']),
      plugTime: typeof time === 'string' ? time : null,
      counterEpoch: startTime,
      uptimeS: null,
      // Floor-carried 10⁻⁵ kWh steps, shown rounded to EnergyRes decimals, kept as float32.
      resolutionKwh: (printed > TASMOTA_STEP_KWH ? printed : 0) + TASMOTA_STEP_KWH + 2 * float32Spacing(total),
      updatePeriodS: 1,
      sentAtMs: status.sentAtMs,
      receivedAtMs: status.receivedAtMs,
    };
  }
  const answer = checkOutcome(outcomes[0], what);
  const body = parseJson(answer, what);
  if (spec.kind === 'shelly-gen2') {
    const wh = numberField(body, ['aenergy', 'total'], what);
    const minuteTs = optionalNumber(body, ['aenergy', 'minute_ts']);
    return {
      source: 'shelly-gen2',
      totalKwh: wh / 1000,
      powerW: optionalNumber(body, ['apower']),
      plugTime: minuteTs === null ? null : new Date(minuteTs * 1000).toISOString(),
      counterEpoch: null,
      uptimeS: null,
      resolutionKwh: SHELLY_GEN2_STEP_KWH,
      updatePeriodS: 1,
      sentAtMs: answer.sentAtMs,
      receivedAtMs: answer.receivedAtMs,
    };
  }
  const wattMinutes = numberField(body, ['meters', '0', 'total'], what);
  const uptime = optionalNumber(body, ['uptime']);
  const unixtime = optionalNumber(body, ['unixtime']);
  return {
    source: 'shelly-gen1',
    totalKwh: wattMinutes / 60 / 1000,
    powerW: optionalNumber(body, ['meters', '0', 'power']),
    plugTime: unixtime === null ? null : new Date(unixtime * 1000).toISOString(),
    // A reboot zeroes the counter; the window compares uptimes to see it.
    counterEpoch: null,
    uptimeS: uptime,
    resolutionKwh: SHELLY_GEN1_STEP_KWH,
    updatePeriodS: 1,
    sentAtMs: answer.sentAtMs,
    receivedAtMs: answer.receivedAtMs,
  };
}

function optionalString(object: unknown, path: readonly string[]): string | null {
  try {
    const value = field(object, path, '');
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}
