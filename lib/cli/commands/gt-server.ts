/**
 * `lamarr-energy-tracker gt-server --config hosts.json [--port 8000] [--host 0.0.0.0]`: the
 * ground-truth server (see lib/groundtruth/server.ts). Runs until SIGINT or SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadServerConfig, startGroundTruthServer } from '../../groundtruth/server.js';
import { closeHttpThread } from '../../groundtruth/http-thread.js';
import { parseNumber } from '../arguments.js';

interface GtServerFlags {
  config: string;
  port: number;
  host: string;
  tokenFile?: string;
  resetOnStart?: boolean;
  plugTimeoutMs: number;
}

function readToken(flags: GtServerFlags): string | null {
  if (flags.tokenFile !== undefined) {
    const token = readFileSync(flags.tokenFile, 'utf8').trim();
    if (token === '' || /\s/.test(token)) throw new Error(`--token-file ${flags.tokenFile}: must hold one token without spaces`);
    return token;
  }
  const fromEnv = process.env.LET_GT_TOKEN;
  if (fromEnv === undefined || fromEnv.trim() === '') return null;
  if (/\s/.test(fromEnv.trim())) throw new Error('LET_GT_TOKEN must be one token without spaces');
  return fromEnv.trim();
}

/** Register `gt-server`. */
export function registerGtServerCommand(program: Command): void {
  program
    .command('gt-server')
    .description("serve wall-plug readings to trackers on other machines (the Python package's ground-truth protocol, non-destructive)")
    .requiredOption('--config <file>', 'JSON object mapping hostnames to plug IPs (Tasmota) or to {"tasmota"|"shellyGen2"|"shellyGen1": URL, "user", "password"}')
    .option('--port <port>', 'port to listen on', parseNumber('--port', { min: 0, max: 65535 }), 8000)
    .option('--host <address>', 'address to bind', '0.0.0.0')
    .option('--token-file <file>', 'require Authorization: Bearer <token> with the token in this file (default: LET_GT_TOKEN, else no token)')
    .option('--reset-on-start', "reset a Tasmota plug's counters at each start, as the Python server does (default: windows over the running total)")
    .option('--plug-timeout-ms <ms>', "bound on each exchange with a plug (keep it under the clients' 5 s)", parseNumber('--plug-timeout-ms', { min: 1, max: 60000 }), 4000)
    .action(async (flags: GtServerFlags) => {
      const plugs = loadServerConfig(flags.config);
      const server = await startGroundTruthServer({
        plugs,
        port: flags.port,
        host: flags.host,
        token: readToken(flags),
        resetOnStart: flags.resetOnStart === true,
        plugTimeoutMs: flags.plugTimeoutMs,
      });
      process.stdout.write(`Serving on ${flags.host}:${server.port} (${plugs.size} host${plugs.size === 1 ? '' : 's'}: ${[...plugs.keys()].join(', ')})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await closeHttpThread();
    });
}
