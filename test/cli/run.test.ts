/**
 * `run` with real child processes, through the real executable (spawned as its own process,
 * so that signals can be sent to it).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadResults } from '../../lib/store/index.js';
import { exitCodeForSignal } from '../../lib/cli/commands/run.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('lamarr-energy-tracker run', function () {
  this.timeout(60000);
  let dir: string;
  let program: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-run-'));
    // The real executable (lib/cli/bin.ts → main.ts, where the run command is registered).
    program = join(REPO, 'lib/cli/bin.ts');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let outputDir: string;
  beforeEach(() => {
    outputDir = mkdtempSync(join(dir, 'out-'));
  });

  function cli(args: string[]): ChildProcess {
    return spawn(process.execPath, ['--import', 'tsx', program, 'run', '--output-dir', outputDir, '--no-summary', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LET_OUTPUT_DIR: outputDir },
    });
  }

  function finish(child: ChildProcess): Promise<Result> {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  }

  function waitFor(child: ChildProcess, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let seen = '';
      const onData = (d: Buffer): void => {
        seen += d.toString();
        if (seen.includes(text)) {
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('close', () => reject(new Error(`exited before printing ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`)));
    });
  }

  const rows = () => loadResults({ outputDir });

  it('passes the exit code through, inherits stdout and records a failed run', async () => {
    const r = await finish(cli(['--', process.execPath, '-e', "console.log('hello from the child'); process.exit(3)"]));
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stdout).to.contain('hello from the child');
    const rs = rows();
    expect(rs).to.have.length(1);
    expect(rs[0]!.run_status).to.equal('failed');
    expect(rs[0]!.project_name).to.equal('node'); // basename of the command
    expect(rs[0]!.duration).to.be.a('number');
  });

  it('records a completed run with exit code 0 and the project name given', async () => {
    const r = await finish(
      cli(['--project-name', 'demo-project', '--', process.execPath, '-e', 'setTimeout(() => {}, 300)']),
    );
    expect(r.code, r.stderr).to.equal(0);
    const rs = rows();
    expect(rs).to.have.length(1);
    expect(rs[0]!.run_status).to.equal('completed');
    expect(rs[0]!.project_name).to.equal('demo-project');
    expect(rs[0]!.duration!).to.be.at.least(0.25);
  });

  function cliGroup(args: string[]): ChildProcess {
    // Its own process group, as a shell's job: a terminal's Ctrl-C goes to the whole group.
    return spawn(process.execPath, ['--import', 'tsx', program, 'run', '--output-dir', outputDir, '--no-summary', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LET_OUTPUT_DIR: outputDir },
      detached: true,
    });
  }

  it('Ctrl-C (SIGINT to the process group) ends a child without handler; run dies of SIGINT and records the run as interrupted', async () => {
    const child = cliGroup(['--', process.execPath, '-e', "console.log('ready'); setInterval(() => {}, 1000)"]);
    const done = finish(child);
    await waitFor(child, 'ready');
    process.kill(-child.pid!, 'SIGINT');
    const r = await done;
    expect({ code: r.code, signal: r.signal }, r.stderr).to.deep.equal({ code: null, signal: 'SIGINT' });
    expect(exitCodeForSignal('SIGINT')).to.equal(130);
    const rs = rows();
    expect(rs).to.have.length(1);
    expect(rs[0]!.run_status).to.equal('interrupted');
  });

  it('a child that aborts on a second SIGINT survives one Ctrl-C: run does not send it again; recorded interrupted', async () => {
    const script =
      "let n = 0; process.on('SIGINT', () => { n++; if (n > 1) process.abort(); console.log('first SIGINT'); setTimeout(() => process.exit(0), 500); });" +
      "console.log('ready'); setInterval(() => {}, 1000);";
    const child = cliGroup(['--', process.execPath, '-e', script]);
    const done = finish(child);
    await waitFor(child, 'ready');
    process.kill(-child.pid!, 'SIGINT');
    const r = await done;
    expect({ code: r.code, signal: r.signal }, r.stderr).to.deep.equal({ code: 0, signal: null });
    expect(r.stdout).to.contain('first SIGINT');
    expect(rows().map((row) => row.run_status)).to.deep.equal(['interrupted']);
  });

  it('SIGINT to run alone is not forwarded (as time(1)): the child goes on until it ends', async () => {
    const child = cli(['--', process.execPath, '-e', "console.log('ready'); setTimeout(() => console.log('finished'), 700)"]);
    const done = finish(child);
    await waitFor(child, 'ready');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('finished');
    expect(rows().map((row) => row.run_status)).to.deep.equal(['interrupted']);
  });

  it('forwards SIGTERM to the child, lets it clean up, and exits with its exit code', async () => {
    const script =
      "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(7); });" +
      "console.log('ready'); setInterval(() => {}, 1000);";
    const child = cli(['--', process.execPath, '-e', script]);
    const done = finish(child);
    await waitFor(child, 'ready');
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr).to.equal(7);
    expect(r.stdout).to.contain('child got SIGTERM');
    const rs = rows();
    expect(rs).to.have.length(1);
    expect(rs[0]!.run_status).to.equal('interrupted');
  });

  it('exits with 128 + signal when the child is killed by a signal, and records the run as killed', async () => {
    const r = await finish(cli(['--', 'sh', '-c', 'kill -KILL $$']));
    expect(r.code, r.stderr).to.equal(137);
    const rs = rows();
    expect(rs).to.have.length(1);
    expect(rs[0]!.run_status).to.equal('killed');
    expect(rs[0]!.project_name).to.equal('sh');
  });

  for (const [signal, code] of [['SEGV', 139], ['ABRT', 134]] as const) {
    it(`a child that crashes (SIG${signal}) is recorded as failed, exit ${code}`, async () => {
      const r = await finish(cli(['--', 'sh', '-c', `kill -${signal} $$`]));
      expect(r.code, r.stderr).to.equal(code);
      expect(rows().map((row) => row.run_status)).to.deep.equal(['failed']);
    });
  }

  it('charges the child process tree (grandchildren included) in process mode', async () => {
    // A busy grandchild (under sh) for ~2 s, then a sleeping one for ~2 s: if the tree were
    // not followed, both runs would be charged about the same (only sh, or the tracker).
    // Sampling every 100 ms so that the grandchild is seen while it lives.
    const node = JSON.stringify(process.execPath);
    const busy = await finish(
      cli(['--tracking-mode', 'process', '--sampling-interval-ms', '100', '--project-name', 'busy', '--', 'sh', '-c', `${node} -e "const t=Date.now(); while (Date.now()-t<2000);"; true`]),
    );
    expect(busy.code, busy.stderr).to.equal(0);
    const idle = await finish(
      cli(['--tracking-mode', 'process', '--sampling-interval-ms', '100', '--project-name', 'idle', '--', 'sh', '-c', `${node} -e "setTimeout(() => {}, 1000)"; true`]),
    );
    expect(idle.code, idle.stderr).to.equal(0);
    const rs = rows();
    expect(rs).to.have.length(2);
    const [b, i] = [rs.find((r) => r.project_name === 'busy')!, rs.find((r) => r.project_name === 'idle')!];
    expect(b.tracking_mode).to.equal('process');
    expect(b.run_status).to.equal('completed');
    expect(b.cpu_energy!, `busy ${b.cpu_energy} vs idle ${i.cpu_energy}`).to.be.greaterThan(3 * i.cpu_energy!);
  });

  it('gives a clear error, exit 127 and no row for a command that does not exist', async () => {
    const r = await finish(cli(['--', 'let-no-such-command-xyz', '--flag']));
    expect(r.code).to.equal(127);
    expect(r.stderr).to.match(/command not found: let-no-such-command-xyz/);
    expect(rows()).to.have.length(0);
    expect(existsSync(join(outputDir, 'emissions.csv'))).to.equal(false);
  });

  it('writes no row with --no-save', async () => {
    const r = await finish(cli(['--no-save', '--', process.execPath, '-e', '0']));
    expect(r.code, r.stderr).to.equal(0);
    expect(rows()).to.have.length(0);
  });

  it('rejects a bad option before starting the command', async () => {
    const marker = join(outputDir, 'ran');
    const r = await finish(cli(['--pue', '0.5', '--', 'touch', marker]));
    expect(r.code, 'our own errors exit 125').to.equal(125);
    expect(r.stderr).to.match(/--pue/);
    expect(existsSync(marker)).to.equal(false);
    for (const bad of [['--sampling-interval-ms', '0x10'], ['--pue', '1e308'], ['--carbon-intensity', '1e308'], ['--pue', 'Infinity']]) {
      const rb = await finish(cli([...bad, '--', 'touch', marker]));
      expect(rb.code, bad.join(' ')).to.equal(125);
      expect(rb.stderr).to.contain(bad[0]);
    }
    const r2 = await finish(cli(['--country-iso-code', 'Germany', '--', 'touch', marker]));
    expect(r2.code).to.equal(125);
    expect(r2.stderr).to.match(/countryIsoCode/);
    expect(existsSync(marker)).to.equal(false);
    expect(rows()).to.have.length(0);
  });
});
