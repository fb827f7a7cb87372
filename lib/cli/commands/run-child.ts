/**
 * How `run` finds and starts its command.
 *
 * - The command is looked up in PATH here, before the measurement window opens, so that a
 *   missing command exits 127 and an unexecutable one 126 (as env(1) and the shells do),
 *   without a row.
 * - On Linux the command is started through `let_exec` (native/linux/let_exec.c, built with the
 *   addon): it sets PR_SET_PDEATHSIG (SIGKILL) and then execs the command, so the command has
 *   the pid `run` spawned and dies with `run` even when `run` is killed with SIGKILL. Without
 *   that helper (a prebuilt addon installed without a compiler) util-linux's
 *   `setpriv --pdeathsig KILL` does the same; without either the command is spawned directly
 *   (it then outlives a `run` killed with SIGKILL).
 * - The command stays in `run`'s process group (and so in the terminal's foreground group):
 *   it reads the terminal, and Ctrl-C and Ctrl-Z reach it directly.
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { packageRoot } from '../../native/loader.js';

/** The command's executable, or why it cannot be run (with the exit code to use). */
export type ResolvedCommand = { ok: true; path: string } | { ok: false; exitCode: 126 | 127; message: string };

function executableFile(path: string): 'yes' | 'not-executable' | 'missing' {
  try {
    if (!statSync(path).isFile()) return 'not-executable';
  } catch {
    return 'missing';
  }
  try {
    accessSync(path, fsConstants.X_OK);
    return 'yes';
  } catch {
    return 'not-executable';
  }
}

/** Find `command` as execvp(3) would: a name with a `/` as a path, else the first executable in PATH. */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ResolvedCommand {
  if (command === '') return { ok: false, exitCode: 127, message: 'command not found: (empty name)' };
  if (command.includes('/')) {
    const path = resolve(cwd, command);
    const state = executableFile(path);
    if (state === 'yes') return { ok: true, path };
    if (state === 'missing') return { ok: false, exitCode: 127, message: `command not found: ${command}` };
    return { ok: false, exitCode: 126, message: `permission denied (not an executable file): ${command}` };
  }
  let denied = false;
  for (const entry of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const path = resolve(cwd, entry === '' ? '.' : entry, command);
    const state = executableFile(path);
    if (state === 'yes') return { ok: true, path };
    if (state === 'not-executable' && existsSync(path) && !statSync(path).isDirectory()) denied = true;
  }
  return denied
    ? { ok: false, exitCode: 126, message: `permission denied (not executable): ${command}` }
    : { ok: false, exitCode: 127, message: `command not found: ${command}` };
}

/** What to spawn for a command, and how it is tied to `run`'s life. */
export interface ChildLaunch {
  file: string;
  args: string[];
  /** `let_exec`, `setpriv` or `none`: what ends the command if `run` is killed. */
  deathSignal: 'let_exec' | 'setpriv' | 'none';
}

let helperCache: string | null | undefined;

/** Path of the built `let_exec` helper, or null. */
export function letExecPath(): string | null {
  if (helperCache !== undefined) return helperCache;
  helperCache = null;
  if (process.platform !== 'linux' || process.env.LET_TEST_HIDE_LET_EXEC === '1') return null;
  const root = packageRoot();
  const candidates = [
    join(root, 'build', 'Release', 'let_exec'),
    join(root, 'build', 'Debug', 'let_exec'),
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'let_exec'),
  ];
  helperCache = candidates.find((path) => executableFile(path) === 'yes') ?? null;
  return helperCache;
}

/**
 * The process to spawn for `command` (resolved to `path`) with `args`, passed byte for byte.
 * `LET_RUN_DEATH_SIGNAL=none` turns the death signal off (for tests of the fallback).
 */
export function childLaunch(path: string, command: string, args: readonly string[]): ChildLaunch {
  const mode = process.env.LET_RUN_DEATH_SIGNAL;
  if (mode !== undefined && mode !== '' && mode !== 'none' && mode !== 'auto') {
    throw new RangeError(`LET_RUN_DEATH_SIGNAL must be "auto" or "none", got ${JSON.stringify(mode)}`);
  }
  if (process.platform === 'linux' && mode !== 'none') {
    const helper = letExecPath();
    if (helper !== null) return { file: helper, args: [String(process.pid), path, command, ...args], deathSignal: 'let_exec' };
    const setpriv = resolveCommand('setpriv');
    if (setpriv.ok) return { file: setpriv.path, args: ['--pdeathsig', 'KILL', '--', path, ...args], deathSignal: 'setpriv' };
  }
  return { file: path, args: [...args], deathSignal: 'none' };
}
