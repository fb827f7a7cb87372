/**
 * Runs the real `lamarr-energy-tracker` executable (dist/cli/bin.js, built by `npm test`'s
 * build step; built here on demand when missing) in a child process.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/version.js';

export const CLI_PATH = join(PACKAGE_ROOT, 'dist', 'cli', 'bin.js');

/** Build dist/ if it is missing (npm test builds it before mocha runs). */
export function ensureBuilt(): void {
  if (existsSync(CLI_PATH)) return;
  const result = spawnSync('npm', ['run', 'build:ts'], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('could not build dist/ for the CLI tests');
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI with `args`; `env` is added to this process's environment. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): CliResult {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? PACKAGE_ROOT,
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}
