import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';

describe('CLI (the real binary in a child process)', function () {
  this.timeout(60000);
  let outputDir: string;
  before(() => ensureBuilt());
  beforeEach(() => {
    outputDir = mkdtempSync(join(tmpdir(), 'let-cli-'));
  });
  afterEach(() => rmSync(outputDir, { recursive: true, force: true }));

  /** Store `count` runs of `projectName` with `joules` each, measured on simulated hardware. */
  function storeRuns(projectName: string, count: number, joules: number): void {
    const { hw, packages } = intelServer(1, 2);
    try {
      for (let run = 0; run < count; run++) {
        const tracker = new EnergyTracker({ hardwareRoot: hw.root, nvmlLibrary: '', outputDir, projectName, printSummary: false }).start();
        // Stay below the sampler's plausibility bound (5 kW per package): joules / 5000 W of time at least.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.ceil((joules / 4000) * 1000));
        packages[0]!.addJoules(joules);
        tracker.stop();
      }
    } finally {
      hw.cleanup();
    }
  }

  for (const command of ['statement', 'results', 'delete', 'probe', 'run']) {
    it(`prints help for ${command}`, () => {
      const result = runCli([command, '--help']);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.include(`Usage: lamarr-energy-tracker ${command}`);
    });
  }

  it('prints the README custom statement exactly, with kebab-case and snake_case flags', () => {
    const expected =
      'Using the CO2 Impact Calculator, the energy consumption of running all experiments on an NVIDIA GTX 1080 GPU is estimated to 3.200 kWh. ' +
      'This corresponds to estimated carbon emissions of 1.216 kg of CO2-equivalents, assuming a carbon intensity of 380 gCO2/kWh~\\cite{lamarr_energy_tracker,codecarbon}. ' +
      'Note that these numbers are underestimations of actual resource consumption and do not account for overhead factors or embodied impacts~\\cite{ai_energy_validation}.';
    const kebab = runCli(['statement', '--methodology', 'the CO2 Impact Calculator', '--hardware', 'NVIDIA GTX 1080 GPU', '--consumed-energy', '3.2']);
    expect(kebab.status, kebab.stderr).to.equal(0);
    expect(kebab.stdout.replace(/\s+/g, ' ').trim()).to.equal(expected);
    const snake = runCli(['statement', '--methodology', 'the CO2 Impact Calculator', '--hardware', 'NVIDIA GTX 1080 GPU', '--consumed_energy', '3.2', '--carbon_intensity', '380']);
    expect(snake.status, snake.stderr).to.equal(0);
    expect(snake.stdout.replace(/\s+/g, ' ').trim()).to.equal(expected);
  });

  it('prints the statement over stored runs, filtered, with BibTeX on request', () => {
    storeRuns('alpha', 4, 900);
    storeRuns('beta', 1, 10);
    const alpha = runCli(['statement', '--output-dir', outputDir, '--project-name', 'alpha', '--bibtex']);
    expect(alpha.status, alpha.stderr).to.equal(0);
    // 4 × 900 J of CPU = 1 Wh plus the modelled RAM energy of two very short runs.
    expect(alpha.stdout).to.match(/is estimated to 1\.\d{3} Wh\./);
    expect(alpha.stdout).to.include('@software{lamarr_energy_tracker');
    const json = runCli(['statement', '--output-dir', outputDir, '--project_name', 'beta', '--format', 'json']);
    expect(json.status, json.stderr).to.equal(0);
    expect(JSON.parse(json.stdout)).to.be.an('object');
  });

  it('lists results as a table, CSV and JSON', () => {
    storeRuns('gamma', 3, 10);
    const table = runCli(['results', '--output-dir', outputDir]);
    expect(table.status, table.stderr).to.equal(0);
    expect(table.stdout).to.include('gamma').and.include('3 run(s)');
    const json = runCli(['results', '--output-dir', outputDir, '--format', 'json']);
    const rows = JSON.parse(json.stdout) as Array<{ project_name: string; cpu_energy_method: string }>;
    expect(rows).to.have.length(3);
    expect(rows[0]!.cpu_energy_method).to.equal('measured:powercap');
    const csv = runCli(['results', '--output-dir', outputDir, '--format', 'csv']);
    expect(csv.stdout.trim().split('\n')).to.have.length(4);
  });

  it('deletes matching runs only with confirmation', () => {
    storeRuns('keep', 2, 1);
    storeRuns('drop', 3, 1);
    const refused = runCli(['delete', '--output-dir', outputDir, '--project-name', 'drop']);
    expect(refused.status).to.not.equal(0);
    expect(refused.stderr).to.match(/--yes/);
    const results = () => JSON.parse(runCli(['results', '--output-dir', outputDir, '--format', 'json']).stdout) as unknown[];
    expect(results()).to.have.length(5);
    const deleted = runCli(['delete', '--output-dir', outputDir, '--project-name', 'drop', '--yes']);
    expect(deleted.status, deleted.stderr).to.equal(0);
    expect(deleted.stdout).to.include('Deleted 3 run(s)');
    expect(results()).to.have.length(2);
    const all = runCli(['delete', '--output-dir', outputDir, '-y']);
    expect(all.status, all.stderr).to.equal(0);
    expect(existsSync(join(outputDir, 'emissions.csv'))).to.equal(false);
  });

  it('probe reports measured counters on simulated hardware, and the reason and fix for root-only ones', () => {
    const { hw } = intelServer(2, 1);
    try {
      const measured = runCli(['probe', '--hardware-root', hw.root, '--nvml-library', '']);
      expect(measured.status, measured.stderr).to.equal(0);
      expect(measured.stdout).to.include('CPU: measured with RAPL (Linux powercap)');
      expect(measured.stdout).to.include('RAM: measured with RAPL');
      const json = JSON.parse(runCli(['probe', '--json', '--hardware-root', hw.root, '--nvml-library', '']).stdout) as {
        cpu: { method: string };
        sensors: unknown[];
      };
      expect(json.cpu.method).to.equal('measured:powercap');
      expect(json.sensors.length).to.be.greaterThan(3);
    } finally {
      hw.cleanup();
    }
    const locked = FakeHardware.create();
    try {
      locked.cpuinfo('GenuineIntel', 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 8).procStat(8);
      locked.cpu(0, 0);
      locked.zone({ zone: 'intel-rapl:0', name: 'package-0', rootOnly: true });
      const result = runCli(['probe', '--hardware-root', locked.root, '--nvml-library', ''], { env: { LET_TEST_UNPRIVILEGED: '1' } });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.include("CPU: estimated from the CPU's TDP and load");
      expect(result.stdout).to.match(/energy_uj/);
      expect(result.stdout).to.match(/fix: .*rapl-access/);
    } finally {
      locked.cleanup();
    }
  });

  it('reports bad input on stderr with a non-zero exit', () => {
    const unknown = runCli(['frobnicate']);
    expect(unknown.status).to.not.equal(0);
    expect(unknown.stderr).to.match(/unknown command/);
    const badNumber = runCli(['statement', '--methodology', 'm', '--hardware', 'h', '--consumed-energy', 'lots']);
    expect(badNumber.status).to.not.equal(0);
    expect(badNumber.stderr).to.match(/--consumed-energy must be a number/);
    const partial = runCli(['statement', '--methodology', 'm']);
    expect(partial.status).to.not.equal(0);
    expect(partial.stderr).to.match(/needs all of --methodology, --hardware and --consumed-energy/);
  });
});
