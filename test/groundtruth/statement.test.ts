import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statementFromRecords, paperStatement, type StatementRecord } from '../../lib/statement/index.js';
import { appendRecord } from '../../lib/store/index.js';
import { calibrate, calibrationReport, CALIBRATION_MIN_RUNS } from '../../lib/groundtruth/calibration.js';
import { row } from '../statement/helpers.js';
import { makeRecord } from '../store/helpers.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

const HEAD = 'Using the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, RAM energy estimated from a DIMM model), the energy consumption of running all experiments on an Intel(R) Core(TM) i7-10610U CPU is estimated to ';
const CARBON = 'This corresponds to estimated carbon emissions of ';

/** A run on `hostname` whose sensors counted `sensors` kWh and whose plug measured `wall` kWh (null: no plug). */
function run(sensors: number, wall: number | null, hostname = 'ws28', uncertainty = wall === null ? null : wall * 0.001): StatementRecord {
  return row({
    energy_consumed: sensors,
    hostname,
    pue: 1,
    wall_energy: wall,
    wall_energy_method: wall === null ? '' : 'measured:tasmota',
    wall_energy_uncertainty: uncertainty,
  });
}

describe('statement with wall-plug ground truth (exact wording)', () => {
  it('every run measured: the wall figure and how it compares with the sensors', () => {
    const text = statementFromRecords([run(0.07, 0.091), run(0.069, 0.091)]).text;
    expect(text).to.equal(
      `${HEAD}0.139 kWh; a wall-plug meter measured 0.182 kWh, 31% more than the sensors. ${CARBON}0.053 kg of CO2-equivalents, ` +
        'assuming a carbon intensity of 380 gCO2/kWh~\\cite{lamarr_energy_tracker,codecarbon}. ' +
        'Note that these numbers are underestimations of actual resource consumption and do not account for overhead factors or embodied impacts~\\cite{ai_energy_validation}.',
    );
  });

  it('some runs measured: says for which, compares those runs only; PUE is taken out of the sensor figure', () => {
    const records = [run(0.06, 0.07), run(0.05, 0.06), row({ energy_consumed: 0.2, hostname: 'ws28' }), { ...run(0.015, 0.01), energy_consumed: 0.03, pue: 2 }];
    const statement = statementFromRecords(records);
    expect(statement.text).to.include('is estimated to 0.340 kWh; a wall-plug meter measured 0.140 kWh for 3 of the 4 runs, 12% more than the sensors for those runs. This');
    expect(statement.wallPlug).to.include({ measuredRuns: 3, runs: 4, calibratedRuns: 0, calibratedTotalKwh: null });
    expect(statement.wallPlug!.sensorsKwh).to.be.closeTo(0.125, 1e-12);
  });

  it('an imprecise figure carries its ± in percent; one below the plug resolution is not compared', () => {
    expect(statementFromRecords([run(0.001, 0.0012, 'h', 0.0001)]).text).to.include('is estimated to 1.000 Wh; a wall-plug meter measured 1.200 Wh (±8%), 20% more than the sensors. This');
    expect(statementFromRecords([run(0.0002, 0.00028, 'h', 0.0003)]).text).to.include(
      'is estimated to 0.200 Wh; a wall-plug meter measured 0.280 Wh, below its resolution (±0.300 Wh). This',
    );
  });

  it('less than the sensors, several hardware configurations, and LaTeX (percent escaped)', () => {
    const records = [run(0.2, 0.184), { ...run(0.1, 0.092), cpu_model: 'AMD EPYC 7742 64-Core Processor' }];
    const statement = statementFromRecords(records, { format: 'latex' });
    expect(statement.text).to.include('in total (0.200 kWh on an Intel(R) Core(TM) i7-10610U CPU; 100.000 Wh on an AMD EPYC 7742 64-Core Processor); a wall-plug meter measured 0.276 kWh, 8% less than the sensors.');
    expect(statement.latex).to.include('; a wall-plug meter measured 0.276 kWh, 8\\% less than the sensors.');
  });

  it('compares with "the estimates" where the CPU energy was estimated, not with sensors', () => {
    const estimated = { ...run(0.1, 0.15), cpu_energy_method: 'estimated:tdp-load-model' as const };
    expect(statementFromRecords([estimated]).text).to.include('a wall-plug meter measured 0.150 kWh, 50% more than the estimates.');
    expect(statementFromRecords([estimated, run(0.1, 0.12)]).text).to.include('a wall-plug meter measured 0.270 kWh, 35% more than the sensors and estimates.');
  });

  it('runs without ground truth (or with none:<reason>) leave the statement as it was', () => {
    const plain = statementFromRecords([row({ energy_consumed: 0.1 })]).text;
    const failed = statementFromRecords([{ ...row({ energy_consumed: 0.1 }), wall_energy: null, wall_energy_method: 'none:timeout', wall_energy_uncertainty: null }]);
    expect(failed.text).to.equal(plain);
    expect(failed.wallPlug).to.equal(null);
    expect(plain).to.not.include('wall');
  });
});

describe('calibration', () => {
  const measured = (host: string, ratios: number[]) => ratios.map((r, i) => run(0.01 * (i + 1), 0.01 * (i + 1) * r, host));

  it('per host: Σwall/Σsensors with the sample spread of the run ratios, only from enough precise runs', () => {
    const records = [
      ...measured('ws28', [1.3, 1.32, 1.28, 1.31, 1.29]),
      ...measured('dgx1', [1.2, 1.2, 1.2, 1.2]), // too few
      run(0.05, 0.07, 'ws28', 0.05), // too imprecise (±71%): not used
      run(0.3, null, 'ws28'),
    ];
    const { calibrations, tooFew } = calibrationReport(records);
    expect(CALIBRATION_MIN_RUNS).to.equal(5);
    expect(tooFew).to.deep.equal([{ hostname: 'dgx1', runs: 4 }]);
    expect(calibrations).to.have.length(1);
    const [ws28] = calibrations;
    const wall = [1.3, 1.32 * 2, 1.28 * 3, 1.31 * 4, 1.29 * 5].reduce((a, b) => a + b, 0);
    expect(ws28!.hostname).to.equal('ws28');
    expect(ws28!.runs).to.equal(5);
    expect(ws28!.ratio).to.be.closeTo(wall / 15, 1e-12);
    expect(ws28!.spread).to.be.closeTo(0.015811388, 1e-8);
    expect([ws28!.min, ws28!.max]).to.deep.equal([1.28, 1.32]);
  });

  it('a host with 200,000 plug-measured runs: its extremes found without spreading the ratios into arguments', () => {
    const ratios = Array.from({ length: 200_000 }, (_, i) => 1.2 + ((i * 7919) % 1000) / 10_000);
    const [host] = calibrate(measured('busy', ratios));
    expect(host!.runs).to.equal(200_000);
    expect(host!.min).to.be.closeTo(1.2, 1e-12);
    expect(host!.max).to.be.closeTo(1.2999, 1e-12);
  });

  it('--calibrated: runs without a plug get the host ratio, labelled a calibrated estimate (exact wording)', () => {
    const records = [...measured('ws28', [1.3, 1.3, 1.3, 1.3, 1.3]), run(0.1, null, 'ws28'), run(0.05, null, 'other')];
    const plainText = statementFromRecords(records).text;
    expect(plainText).to.include('; a wall-plug meter measured 0.195 kWh for 5 of the 7 runs, 30% more than the sensors for those runs. This');
    const statement = statementFromRecords(records, { calibrated: true });
    expect(statement.text).to.include(
      'is estimated to 0.300 kWh; a wall-plug meter measured 0.195 kWh for 5 of the 7 runs, 30% more than the sensors for those runs, ' +
        'and with the wall/sensor ratio measured on this host (1.30 ± 0.00 from 5 runs), 6 of the 7 runs come to a calibrated estimate of 0.325 kWh at the wall. This',
    );
    expect(statement.wallPlug!.calibratedRuns).to.equal(1);
    expect(statement.wallPlug!.calibratedTotalKwh).to.be.closeTo(0.195 + 0.13, 1e-12);
  });

  it('--calibrated over runs without any plug, with calibrations from elsewhere', () => {
    const calibrations = calibrate(measured('ws28', [1.25, 1.35, 1.3, 1.3, 1.3]));
    const text = statementFromRecords([run(0.1, null, 'ws28'), run(0.2, null, 'ws28')], { calibrated: true, calibrations }).text;
    expect(text).to.include('is estimated to 0.300 kWh; with the wall/sensor ratio measured on this host (1.30 ± 0.04 from 5 runs), this comes to a calibrated estimate of 0.391 kWh at the wall. This');
    // Without calibrated: nothing about the wall.
    expect(statementFromRecords([run(0.1, null, 'ws28')], { calibrations }).text).to.not.include('wall');
  });

  it('paperStatement({ calibrated: true }) and `statement --calibrated` calibrate from all stored runs of the host', function () {
    this.timeout(60000);
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'let-gt-statement-'));
    try {
      for (let i = 0; i < 5; i++) {
        appendRecord(makeRecord({ project_name: 'calib', hostname: 'ws28', energy_consumed: 0.1, pue: 1, wall_energy: 0.13, wall_energy_method: 'measured:gt-server', wall_energy_uncertainty: 0.0001 }), dir);
      }
      appendRecord(makeRecord({ project_name: 'paper', hostname: 'ws28', energy_consumed: 0.2, pue: 1 }), dir);
      const expected = 'with the wall/sensor ratio measured on this host (1.30 ± 0.00 from 5 runs), this comes to a calibrated estimate of 0.260 kWh at the wall.';
      expect(paperStatement({ outputDir: dir, projectName: 'paper', calibrated: true })).to.include(expected);
      expect(paperStatement({ outputDir: dir, projectName: 'paper' })).to.not.include('wall');
      const cli = runCli(['statement', '--output-dir', dir, '--project-name', 'paper', '--calibrated']);
      expect(cli.status, cli.stderr).to.equal(0);
      expect(cli.stdout).to.include(expected);
      const json = runCli(['statement', '--output-dir', dir, '--project-name', 'paper', '--calibrated', '--format', 'json']);
      expect(JSON.parse(json.stdout).wallPlug).to.include({ calibratedRuns: 1, measuredRuns: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
