/**
 * `probe`'s wall-plug section: the configured plug or server (the `--ground-truth` flag, else
 * `LET_GT_HOST`/`LET_GT_PORT`/`~/.let/GT_REMOTE_CONFIG`) and whether it answers. Reads only:
 * a Tasmota plug's `EnergyRes` is queried, not set; a server is asked for `/list`, never
 * `/start` (the Python server would reset the plug).
 */
import { requestSequence } from './http-thread.js';
import { parseReading, readingSteps, checkOutcome, parseJson } from './plugs.js';
import { defaultServerAddress, describeGroundTruth, resolveGroundTruth, urlHost, type GroundTruthConfig, type GroundTruthOptions } from './config.js';
import { formatKwh } from './window.js';

/** What `probe` found. */
export interface GroundTruthProbe {
  /** Whether a plug or server is configured. */
  configured: boolean;
  /** The source in words (null when none or when its configuration is wrong). */
  source: string | null;
  /** Whether it answered. */
  answers: boolean;
  /** What it answered, line by line. */
  details: string[];
  /** Why it is not usable, or null. */
  error: string | null;
}

function configFor(options: GroundTruthOptions | undefined, env: NodeJS.ProcessEnv): GroundTruthConfig | null {
  if (options !== undefined) return resolveGroundTruth(options, env);
  return defaultServerAddress(env) === null ? null : resolveGroundTruth({ server: true }, env);
}

/** Probe the plug or server (at most `timeoutMs` of waiting). */
export async function probeGroundTruth(options?: GroundTruthOptions, env: NodeJS.ProcessEnv = process.env): Promise<GroundTruthProbe> {
  let config: GroundTruthConfig | null;
  try {
    config = configFor(options, env);
  } catch (error) {
    return { configured: true, source: null, answers: false, details: [], error: (error as Error).message };
  }
  if (config === null) return { configured: false, source: null, answers: false, details: [], error: null };
  const source = describeGroundTruth(config);
  try {
    if (config.kind === 'plug') {
      const plug = { ...config.plug, energyRes: null };
      const reading = parseReading(plug, await requestSequence(readingSteps(plug), config.timeoutMs).wait());
      const details = [
        `total ${reading.totalKwh} kWh${reading.powerW !== null ? `, drawing ${reading.powerW} W` : ''}${reading.plugTime !== null ? `, plug time ${reading.plugTime}` : ''}`,
        `resolution ${formatKwh(reading.resolutionKwh)} per difference, total updated every ${reading.updatePeriodS} s`,
      ];
      if (config.plug.kind === 'tasmota' && config.plug.energyRes !== null && reading.resolutionKwh > 2e-5) {
        details.push(`the tracker sets EnergyRes ${config.plug.energyRes} before reading (finer totals)`);
      }
      return { configured: true, source, answers: true, details, error: null };
    }
    const server = config.server;
    const headers: Record<string, string> = server.token !== null ? { authorization: `Bearer ${server.token}` } : {};
    const [outcome] = await requestSequence([{ url: `http://${urlHost(server.host)}:${server.port}/list`, headers }], config.timeoutMs).wait();
    const answer = checkOutcome(outcome, `ground-truth server ${urlHost(server.host)}:${server.port}`);
    const hosts = parseJson(answer, 'ground-truth server');
    const list = Array.isArray(hosts) ? hosts.map(String) : [];
    const listed = list.includes(server.hostname);
    return {
      configured: true,
      source,
      answers: true,
      details: [
        `${answer.headers['x-let-gt-server'] !== undefined ? `lamarr-energy-tracker gt-server ${answer.headers['x-let-gt-server']}` : "the Python package's server (it resets the plug at each start)"}; hosts: ${list.join(', ') || 'none'}`,
      ],
      error: listed ? null : `this host (${JSON.stringify(server.hostname)}) is not in the server's list: add it to the server's config, or set groundTruth.hostname`,
    };
  } catch (error) {
    return { configured: true, source, answers: false, details: [], error: (error as Error).message };
  }
}

/** The section in words. */
export function formatGroundTruthProbe(probe: GroundTruthProbe): string {
  if (!probe.configured) {
    return 'Wall plug: none configured (ground truth: --ground-truth tasmota=URL | shelly-gen2=URL | shelly-gen1=URL | server=host:port, or LET_GT_HOST and LET_GT_PORT).';
  }
  const lines = [`Wall plug: ${probe.source ?? 'misconfigured'} — ${probe.answers ? 'answers' : 'does NOT answer'}`];
  for (const detail of probe.details) lines.push(`  - ${detail}`);
  if (probe.error !== null) lines.push(`  problem: ${probe.error}`);
  return lines.join('\n');
}
