/**
 * `run`: the window covers the command's whole life, the arguments pass byte for byte, the
 * summary goes to stderr, and the command does not outlive a `run` killed with SIGKILL.
 * Through the built executable (dist/, built on demand), whose start-up is fast.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResults } from '../../lib/store/index.js';
import { CLI_PATH, ensureBuilt } from '../helpers/cli.js';
import { letExecPath } from '../../lib/cli/commands/run-child.js';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const spawned: ChildProcess[] = [];
const strays: number[] = [];

function cli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI_PATH, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  spawned.push(child);
  return child;
}

function finish(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Whether `pid` is gone (or a zombie waiting for a reaper). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('lamarr-energy-tracker run: the whole life of the command', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => ensureBuilt());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-runlife-'));
  });
  afterEach(() => {
    for (const child of spawned.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of strays.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('`run -- sleep 1` records a duration within 30 ms of 1 s, 20 times in a row', async function () {
    // Scheduling on a loaded machine can delay one spawn by milliseconds: two more tries.
    this.retries(2);
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await finish(cli(['--output-dir', dir, '--no-summary', '--', 'sleep', '1']));
      expect(r.code, r.stderr).to.equal(0);
    }
    for (const row of loadResults({ outputDir: dir })) durations.push(row.duration!);
    expect(durations).to.have.length(20);
    for (const duration of durations) expect(Math.abs(duration - 1), `durations ${durations.join(', ')}`).to.be.below(0.03);
  });

  it('passes the arguments after the command byte for byte (no `--` needed), and only our options are normalised', async () => {
    const script = join(dir, 'x.cjs');
    writeFileSync(script, 'process.stdout.write(JSON.stringify(process.argv.slice(2)));');
    const args = ['--snake_case=1', '--output_dir', 'a_b', '-x', '--', 'é\u0001', ''];
    const r = await finish(cli(['--output_dir', dir, '--no_summary', process.execPath, script, ...args]));
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal(args);
    expect(r.stderr).to.equal('');
    expect(loadResults({ outputDir: dir })).to.have.length(1);
  });

  it('writes the summary to stderr: the command\'s stdout stays its own (pipes into jq)', async () => {
    const r = await finish(cli(['--output-dir', dir, '--', process.execPath, '-e', 'console.log(JSON.stringify({ a: 1 }))']));
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ a: 1 });
    expect(r.stderr).to.contain('Tracker stopped');
  });

  it('exit codes: 127 for a missing command, 126 for a file that is not executable, with no row', async () => {
    const missing = await finish(cli(['--output-dir', dir, '--', 'let-no-such-command-xyz']));
    expect(missing.code).to.equal(127);
    const file = join(dir, 'not-executable');
    writeFileSync(file, 'echo hi\n');
    chmodSync(file, 0o644);
    const denied = await finish(cli(['--output-dir', dir, '--', file]));
    expect(denied.code, denied.stderr).to.equal(126);
    expect(denied.stderr).to.match(/permission denied/);
    expect(loadResults({ outputDir: dir })).to.have.length(0);
  });

  it('is built with the let_exec helper on Linux (PR_SET_PDEATHSIG)', () => {
    expect(process.platform).to.equal('linux');
    expect(letExecPath(), 'build/Release/let_exec: run `npx node-gyp rebuild`').to.be.a('string');
  });

  for (const how of ['let_exec', 'setpriv'] as const) {
    it(`kill -9 of run ends the child (${how})`, async () => {
      // Hide the helper to exercise the setpriv fallback.
      const env: NodeJS.ProcessEnv = how === 'setpriv' ? { LET_TEST_HIDE_LET_EXEC: '1' } : {};
      const child = cli(['--output-dir', dir, '--no-summary', '--', 'sh', '-c', 'echo $$; exec sleep 60'], env);
      const done = finish(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 20_000;
      while (!/^\d+\n/.test(out)) {
        if (Date.now() > deadline) throw new Error(`no pid printed: ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const pid = Number(out.trim());
      strays.push(pid);
      expect(gone(pid)).to.equal(false);
      child.kill('SIGKILL');
      await done;
      const until = Date.now() + 5000;
      while (!gone(pid) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(gone(pid), `the command (pid ${pid}) outlived run`).to.equal(true);
    });
  }
});
