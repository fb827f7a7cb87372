/**
 * The `groundTruth` option of an EnergyTracker, the `--ground-truth` flag, and the Python
 * package's ways of naming its server (`LET_GT_HOST` + `LET_GT_PORT`, else
 * `~/.let/GT_REMOTE_CONFIG` holding `host:port`).
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { PlugKind, PlugSpec } from './plugs.js';

/** Credentials and timing shared by every ground-truth source. */
export interface GroundTruthCommonOptions {
  /** Bound on each of the start and stop exchanges, ms (1–60000). Default 5000, the Python package's timeout. */
  timeoutMs?: number;
}

/** A plug read directly. Give exactly one of `tasmota`, `shellyGen2`, `shellyGen1` (its URL or IP). */
export interface DirectPlugOptions extends GroundTruthCommonOptions {
  tasmota?: string;
  shellyGen2?: string;
  shellyGen1?: string;
  /** User for the plug's web login (Tasmota and Shelly Gen2: `admin` by default). */
  user?: string;
  /** Password of the plug's web login. */
  password?: string;
  /**
   * Tasmota only: `EnergyRes` (decimals of the kWh totals, 0–5) to set before reading, as the
   * Python package does; `null` leaves the plug's setting (and its coarser resolution). Default 5.
   */
  energyRes?: number | null;
}

/** A ground-truth server (ours, `lamarr-energy-tracker gt-server`, or the Python package's). */
export interface GroundTruthServerOptions extends GroundTruthCommonOptions {
  /** `host:port` (`[::1]:8000` for IPv6), or `true` for `LET_GT_HOST`/`LET_GT_PORT`/`~/.let/GT_REMOTE_CONFIG`. */
  server: string | true;
  /** This machine's name in the server's config. Default: `os.hostname()` (the Python client's `socket.gethostname()`). */
  hostname?: string;
  /** Bearer token for a server started with one. Default: `LET_GT_TOKEN`. */
  token?: string;
}

/** The `groundTruth` option. */
export type GroundTruthOptions = DirectPlugOptions | GroundTruthServerOptions;

/** A ground-truth server's address and our name there. */
export interface ServerSpec {
  host: string;
  port: number;
  /** How it was found: `option`, `LET_GT_HOST/LET_GT_PORT`, or the config file's path. */
  origin: string;
  hostname: string;
  token: string | null;
}

/** Validated ground-truth configuration. */
export type GroundTruthConfig =
  | { kind: 'plug'; plug: PlugSpec; timeoutMs: number }
  | { kind: 'server'; server: ServerSpec; timeoutMs: number };

/** The Python package's server location file. */
export function remoteConfigFile(home: string = homedir()): string {
  return join(home, '.let', 'GT_REMOTE_CONFIG');
}

export const DEFAULT_GROUND_TRUTH_TIMEOUT_MS = 5000;

/** Split `host:port` (IPv6 in brackets). Throws a RangeError naming `what`. */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const text = value.trim();
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:\s[\]]+):(\d+)$/.exec(text);
  if (match === null) throw new RangeError(`${what} must be host:port (e.g. 10.0.0.2:8000, [::1]:8000), got ${JSON.stringify(value)}`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`${what}: port must be 1–65535, got ${match[2]}`);
  return { host: match[1]!, port };
}

/** The host part of a URL (brackets kept for IPv6). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Where the Python package's client finds its server: `LET_GT_HOST` and `LET_GT_PORT` (both,
 * validated), else `~/.let/GT_REMOTE_CONFIG` (`host:port`). Returns null when neither is set.
 */
export function defaultServerAddress(env: NodeJS.ProcessEnv = process.env, home?: string): { host: string; port: number; origin: string } | null {
  const host = env.LET_GT_HOST;
  const port = env.LET_GT_PORT;
  if (host !== undefined || port !== undefined) {
    if (host === undefined || host.trim() === '') throw new RangeError('LET_GT_PORT is set but LET_GT_HOST is not: set both (the ground-truth server host and port)');
    if (port === undefined || port.trim() === '') throw new RangeError('LET_GT_HOST is set but LET_GT_PORT is not: set both (the ground-truth server host and port)');
    const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
    return { ...parseHostPort(`${bare.includes(':') ? `[${bare}]` : bare}:${port.trim()}`, 'LET_GT_HOST:LET_GT_PORT'), origin: 'LET_GT_HOST/LET_GT_PORT' };
  }
  const file = remoteConfigFile(home);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return { ...parseHostPort(text, file), origin: file };
}

function requireString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`option groundTruth.${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value.trim();
}

/** A plug's base URL from an IP, `ip:port` or URL; credentials in the URL are returned apart. */
export function plugBaseUrl(value: string, name: string): { url: string; user: string | null; password: string | null } {
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new RangeError(`option groundTruth.${name} must be the plug's IP or URL (e.g. http://10.0.0.5), got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RangeError(`option groundTruth.${name} must be an http:// URL, got ${JSON.stringify(value)}`);
  }
  const user = url.username === '' ? null : decodeURIComponent(url.username);
  const password = url.password === '' ? null : decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`, user, password };
}

const PLUG_KEYS: Record<'tasmota' | 'shellyGen2' | 'shellyGen1', PlugKind> = { tasmota: 'tasmota', shellyGen2: 'shelly-gen2', shellyGen1: 'shelly-gen1' };
const KNOWN = new Set(['tasmota', 'shellyGen2', 'shellyGen1', 'server', 'user', 'password', 'energyRes', 'hostname', 'token', 'timeoutMs']);

/**
 * Validate the `groundTruth` option (TypeError/RangeError naming the field). A server given as
 * `true` is looked up now, so a missing `LET_GT_HOST`/`GT_REMOTE_CONFIG` fails at construction.
 */
export function resolveGroundTruth(options: unknown, env: NodeJS.ProcessEnv = process.env): GroundTruthConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('option groundTruth must be an object such as { tasmota: "http://10.0.0.5" } or { server: "10.0.0.2:8000" }');
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) throw new TypeError(`unknown option groundTruth.${key}; valid: ${[...KNOWN].join(', ')}`);
  }
  let timeoutMs = DEFAULT_GROUND_TRUTH_TIMEOUT_MS;
  if (given.timeoutMs !== undefined) {
    const t = given.timeoutMs;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 1 || t > 60000) {
      throw new RangeError(`option groundTruth.timeoutMs must be 1–60000 ms, got ${JSON.stringify(t)}`);
    }
    timeoutMs = t;
  }
  const plugKeys = (Object.keys(PLUG_KEYS) as (keyof typeof PLUG_KEYS)[]).filter((key) => given[key] !== undefined);
  const sources = plugKeys.length + (given.server !== undefined ? 1 : 0);
  if (sources !== 1) {
    throw new TypeError('option groundTruth needs exactly one of tasmota, shellyGen2, shellyGen1 (a plug) or server (a ground-truth server)');
  }
  if (given.server !== undefined) {
    for (const key of ['user', 'password', 'energyRes']) {
      if (given[key] !== undefined) throw new TypeError(`option groundTruth.${key} applies to plugs, not to a server (the server holds the plug's credentials)`);
    }
    let address: { host: string; port: number; origin: string };
    if (given.server === true) {
      const found = defaultServerAddress(env);
      if (found === null) {
        throw new RangeError(`option groundTruth.server: no server configured; set LET_GT_HOST and LET_GT_PORT, or write host:port to ${remoteConfigFile()}`);
      }
      address = found;
    } else {
      address = { ...parseHostPort(requireString('server', given.server), 'option groundTruth.server'), origin: 'option' };
    }
    const token = given.token !== undefined ? requireString('token', given.token) : (env.LET_GT_TOKEN?.trim() || null);
    if (token !== null && /\s/.test(token)) throw new RangeError(`${given.token !== undefined ? 'option groundTruth.token' : 'LET_GT_TOKEN'} must be one token without spaces`);
    return {
      kind: 'server',
      timeoutMs,
      server: { host: address.host, port: address.port, origin: address.origin, hostname: given.hostname !== undefined ? requireString('hostname', given.hostname) : osHostname(), token },
    };
  }
  for (const key of ['hostname', 'token']) {
    if (given[key] !== undefined) throw new TypeError(`option groundTruth.${key} applies to a server, not to a plug`);
  }
  const key = plugKeys[0]!;
  const base = plugBaseUrl(requireString(key, given[key]), key);
  let energyRes: number | null = 5;
  if (given.energyRes !== undefined) {
    const res = given.energyRes;
    if (res !== null && (typeof res !== 'number' || !Number.isInteger(res) || res < 0 || res > 5)) {
      throw new RangeError(`option groundTruth.energyRes must be an integer 0–5 or null, got ${JSON.stringify(res)}`);
    }
    if (key !== 'tasmota') throw new TypeError('option groundTruth.energyRes applies to Tasmota plugs only');
    energyRes = res;
  }
  const user = given.user !== undefined ? requireString('user', given.user) : base.user;
  const password = given.password !== undefined ? (typeof given.password === 'string' ? given.password : requireString('password', given.password)) : base.password;
  return { kind: 'plug', timeoutMs, plug: { kind: PLUG_KEYS[key], url: base.url, user, password, energyRes } };
}

/**
 * Parse the CLI's `--ground-truth` value: `server` (the default server), `server=host:port`,
 * `tasmota=URL`, `shelly-gen2=URL` or `shelly-gen1=URL` (credentials as `http://user:password@ip`).
 */
export function groundTruthFromFlag(value: string): GroundTruthOptions {
  const text = value.trim();
  if (text === 'server') return { server: true };
  const equals = text.indexOf('=');
  const kind = equals < 0 ? '' : text.slice(0, equals).trim();
  const target = equals < 0 ? '' : text.slice(equals + 1).trim();
  if (target === '') throw new RangeError(`--ground-truth must be server, server=host:port, tasmota=URL, shelly-gen2=URL or shelly-gen1=URL, got ${JSON.stringify(value)}`);
  switch (kind) {
    case 'server':
      return { server: target };
    case 'tasmota':
      return { tasmota: target };
    case 'shelly-gen2':
      return { shellyGen2: target };
    case 'shelly-gen1':
      return { shellyGen1: target };
    default:
      throw new RangeError(`--ground-truth: unknown source ${JSON.stringify(kind)}; use server, tasmota, shelly-gen2 or shelly-gen1`);
  }
}

/** One line naming the source, credentials hidden. */
export function describeGroundTruth(config: GroundTruthConfig): string {
  if (config.kind === 'plug') {
    return `${config.plug.kind} plug ${config.plug.url}${config.plug.password !== null ? ' (with credentials)' : ''}`;
  }
  const s = config.server;
  return `ground-truth server ${urlHost(s.host)}:${s.port} (from ${s.origin}) as host ${JSON.stringify(s.hostname)}${s.token !== null ? ', with a bearer token' : ''}`;
}
