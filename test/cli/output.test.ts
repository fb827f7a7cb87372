/**
 * CLI output that pipes: a closed stdout ends quietly, every JSON output parses (`--json` is
 * `--format json` everywhere), the results table streams any size, and control characters
 * are escaped on a terminal. Through the built executable.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_COLUMNS, formatHeader, formatRecordRow, type EmissionsRecord } from '../../lib/store/index.js';
import { CLI_PATH, ensureBuilt, runCli } from '../helpers/cli.js';

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function row(index: number, projectName: string): EmissionsRecord {
  return {
    timestamp: '2026-01-01T00:00:00', project_name: projectName, run_id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    experiment_id: `${projectName}___u___h`, duration: 1.5, emissions: 1e-6, emissions_rate: 1e-6 / 1.5, cpu_power: 1, gpu_power: 0,
    ram_power: 1, cpu_energy: 1e-6, gpu_energy: 0, ram_energy: 1e-6, energy_consumed: 2e-6, water_consumed: 0, country_name: 'Germany',
    country_iso_code: 'DEU', region: '', cloud_provider: '', cloud_region: '', os: 'Linux', python_version: '', codecarbon_version: '',
    cpu_count: 4, cpu_model: 'Intel(R) Xeon(R) CPU', gpu_count: 0, gpu_model: '', longitude: null, latitude: null, ram_total_size: 8,
    tracking_mode: 'machine', cpu_utilization_percent: 1, gpu_utilization_percent: null, ram_utilization_percent: 1, ram_used_gb: 1,
    on_cloud: 'N', pue: 1, wue: 0, hostname: 'h', user: 'u', tracker_version: '0.1.0', cpu_energy_method: 'measured:powercap',
    gpu_energy_method: 'none:no-gpu', ram_energy_method: 'estimated:dimm-model', carbon_intensity: 380, run_status: 'completed',
    wall_energy: null, wall_energy_method: '', wall_energy_uncertainty: null,
  };
}

/** A store of `count` rows (written directly: the same row format as appendRecord). */
function writeStore(dir: string, count: number, projectName = 'p'): void {
  const line = formatRecordRow(row(1, projectName));
  writeFileSync(join(dir, 'emissions.csv'), formatHeader(ALL_COLUMNS) + line.repeat(count));
}

/** Run `node bin args | head -1` in bash with pipefail; the CLI's stderr and exit status. */
function piped(args: string[]): { stderr: string; status: string; first: string } {
  const script = `${[process.execPath, CLI_PATH, ...args].map(shellQuote).join(' ')} 2>"$ERR" | head -1; echo "status=\${PIPESTATUS[0]}"`;
  const errFile = join(tmpdir(), `let-output-${process.pid}-${Math.random()}.err`);
  const r = spawnSync('bash', ['-c', `${script}; cat "$ERR"; rm -f "$ERR"`], { encoding: 'utf8', env: { ...process.env, ERR: errFile }, timeout: 60_000 });
  const [first = '', status = '', ...rest] = r.stdout.split('\n');
  return { first, status, stderr: rest.join('\n') + r.stderr };
}

describe('CLI output that pipes', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => ensureBuilt());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('`results --format json | head -1` and `statement --list-countries | head -1` end quietly (no stack trace, status 0)', () => {
    writeStore(dir, 20_000); // megabytes of output: the pipe is closed long before the end
    for (const args of [
      ['results', '--output-dir', dir, '--format', 'json'],
      ['results', '--output-dir', dir],
      ['results', '--output-dir', dir, '--format', 'csv'],
      ['statement', '--list-countries'],
      ['statement', '--list-countries', '--json'],
    ]) {
      const r = piped(args);
      expect(r.stderr, args.join(' ')).to.equal('');
      expect(r.status, args.join(' ')).to.equal('status=0');
      expect(r.first.length, args.join(' ')).to.be.greaterThan(0);
    }
  });

  it('every --format json output parses, and --json is its alias everywhere', () => {
    writeStore(dir, 3);
    const outputs: [string[], (value: unknown) => void][] = [
      [['results', '--output-dir', dir], (v) => expect(v).to.be.an('array').with.length(3)],
      [['statement', '--output-dir', dir], (v) => expect(v).to.have.property('emissionsGrams')],
      [['statement', '--output-dir', dir, '--bibtex'], (v) => expect((v as { bibtex: string }).bibtex).to.match(/^@/)],
      [['statement', '--methodology', 'm', '--hardware', 'h', '--consumed-energy', '1', '--bibtex'], (v) => expect(v).to.have.property('bibtex')],
      [['statement', '--list-countries'], (v) => expect(v).to.be.an('array').with.length(213)],
      [['probe'], (v) => expect(v).to.have.property('trackerVersion')],
      [['delete', '--output-dir', dir, '--project-name', 'none', '--yes'], (v) => expect(v).to.include({ matched: 0, deleted: 0 })],
    ];
    for (const [args, check] of outputs) {
      const long = runCli([...args, '--format', 'json']);
      const alias = runCli([...args, '--json']);
      expect(long.status, `${args.join(' ')}: ${long.stderr}`).to.equal(0);
      expect(alias.status, `${args.join(' ')} --json: ${alias.stderr}`).to.equal(0);
      check(JSON.parse(long.stdout));
      expect(JSON.parse(alias.stdout), args.join(' ')).to.deep.equal(JSON.parse(long.stdout));
    }
    const run = runCli(['run', '--output-dir', dir, '--json', '--', 'true']);
    expect(run.status, run.stderr).to.equal(0);
    expect(JSON.parse(run.stderr)).to.include({ run_status: 'completed', project_name: 'true' });
    expect(runCli(['results', '--json', '--format', 'csv']).status).to.not.equal(0);
  });

  it('`results` of 500,000 rows prints them all as a table', () => {
    writeStore(dir, 500_000);
    const r = spawnSync(process.execPath, [CLI_PATH, 'results', '--output-dir', dir], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 200_000 });
    expect(r.status, r.stderr.slice(0, 2000)).to.equal(0);
    expect(r.stderr).to.equal('');
    const lines = r.stdout.split('\n');
    expect(lines.length).to.equal(500_000 + 5); // header, rule, rows, bar legend, count, final newline
    expect(lines.at(-2)).to.equal('500000 run(s)');
  });

  it('escapes control characters: always in the table, in CSV and text on a terminal (pseudo-terminal via script(1)), never in JSON', () => {
    writeStore(dir, 2, 'evil\u001b[2J\u009b31m\u0007');
    const table = runCli(['results', '--output-dir', dir]);
    expect(table.stdout).to.contain('evil\\x1b[2J\\x9b31m\\x07');
    expect(table.stdout).to.not.match(/[\u001b\u0007\u009b]/);
    const json = runCli(['results', '--output-dir', dir, '--json']);
    expect(json.stdout).to.not.match(/[\u001b\u0007\u009b]/);
    expect((JSON.parse(json.stdout) as { project_name: string }[])[0]!.project_name).to.equal('evil\u001b[2J\u009b31m\u0007');
    const piped = runCli(['results', '--output-dir', dir, '--format', 'csv']);
    expect(piped.stdout, 'CSV into a pipe is byte for byte').to.contain('evil\u001b[2J\u009b31m\u0007');
    const command = [process.execPath, CLI_PATH, 'results', '--output-dir', dir, '--format', 'csv'].map(shellQuote).join(' ');
    const tty = spawnSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(tty.error, 'script(1) (util-linux) is needed for this test').to.equal(undefined);
    expect(tty.status, tty.stderr).to.equal(0);
    expect(tty.stdout).to.contain('evil\\x1b[2J\\x9b31m\\x07');
    expect(tty.stdout).to.not.contain('\u001b[2J');
  });
});
