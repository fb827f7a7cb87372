import { expect } from 'chai';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResults } from '../../lib/store/index.js';
import { paperStatement, printPaperStatement, statementFromRecords, type PaperStatement } from '../../lib/statement/index.js';
import { hardwareOf } from './helpers.js';
import { captureStdout } from '../helpers/process-state.js';

const SAMPLES = join(import.meta.dirname, '..', 'fixtures', 'codecarbon-samples');

describe('paperStatement over stored files', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'let-statement-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Copy a sample into the store; the samples ship with the tests, so a missing one fails. */
  const sample = (name: string): void => {
    const file = join(SAMPLES, name);
    expect(existsSync(file), `test data ${file} is missing`).to.equal(true);
    copyFileSync(file, join(dir, 'emissions.csv'));
  };

  it('rows from a CodeCarbon 3.2.7 file name CodeCarbon and its version, and its hardware', function () {
    sample('Akialess_nnLandmark.csv');
    const records = loadResults({ outputDir: dir });
    const text = paperStatement({ outputDir: dir });
    expect(text).to.equal(statementFromRecords(records).text);
    // Independently of the code under test: the file's one row holds 1.2337e-5 kWh (0.012 Wh)
    // and 1.7038e-6 kg (138.1 g/kWh, truncated to 138); 138 g/kWh × 0.012 Wh = 0.0017 g → 0.002 g.
    expect(text).to.equal(
      'Using CodeCarbon 3.2.7, the energy consumption of running all experiments on an 11th Gen Intel(R) Core(TM) ' +
        'i5-11400F CPU and an NVIDIA GeForce RTX 3060 Ti GPU is estimated to 0.012 Wh. This corresponds to estimated ' +
        'carbon emissions of 0.002 g of CO2-equivalents, assuming a carbon intensity of 138 gCO2/kWh~\\cite{lamarr_energy_tracker,codecarbon}. ' +
        'Note that these numbers are underestimations of actual resource consumption and do not account for overhead ' +
        'factors or embodied impacts~\\cite{ai_energy_validation}.',
    );
    expect(text.startsWith('Using CodeCarbon 3.2.7, the energy consumption of running all experiments on ')).to.equal(true);
    expect(hardwareOf(text)).to.equal('an 11th Gen Intel(R) Core(TM) i5-11400F CPU and an NVIDIA GeForce RTX 3060 Ti GPU');
    const energyKwh = records.reduce((sum, r) => sum + (r.energy_consumed ?? 0), 0);
    expect(text).to.include(`is estimated to ${(energyKwh * 1000).toFixed(3)} Wh.`);
  });

  for (const name of ['EronQorri_green-ml-bench.csv', 'Himanshu-joshi986_GreenOps-Refactor.csv']) {
    it(`summarises ${name} (columns in another order) as CodeCarbon, in every format`, function () {
      sample(name);
      const records = loadResults({ outputDir: dir });
      const versions = [...new Set(records.map((r) => r.codecarbon_version))];
      const json = JSON.parse(paperStatement({ outputDir: dir, format: 'json', comparison: true })) as PaperStatement;
      for (const version of versions) expect(json.methodology).to.include(version);
      expect(json.methodology.startsWith('CodeCarbon ')).to.equal(true);
      expect(json.runs).to.equal(records.length);
      const energyKwh = records.reduce((sum, r) => sum + (r.energy_consumed ?? 0), 0);
      expect(json.energyKwh).to.be.closeTo(energyKwh, 1e-12);
      const emissionsKg = records.reduce((sum, r) => sum + (r.emissions ?? 0), 0);
      expect(json.carbonIntensity).to.equal(Math.trunc((emissionsKg * 1000) / energyKwh));
      expect(json.comparison).to.not.equal(null);
      expect(paperStatement({ outputDir: dir, format: 'latex', comparison: true })).to.equal(json.latex);
      expect(paperStatement({ outputDir: dir })).to.equal(json.text.slice(0, json.text.indexOf(' For comparison')));
    });
  }

  it('filters rows by project, and fails clearly when nothing matches', function () {
    sample('Akialess_nnLandmark.csv');
    expect(paperStatement({ outputDir: dir, projectName: 'codecarbon' })).to.include('CodeCarbon 3.2.7');
    expect(() => paperStatement({ outputDir: dir, projectName: 'no-such-project' })).to.throw(RangeError, /No tracked runs match.*no-such-project/);
  });

  it('fails clearly on an empty directory', () => {
    expect(() => paperStatement({ outputDir: dir })).to.throw(RangeError, /No tracked runs/);
  });

  it('printPaperStatement prints and returns the same text', function () {
    sample('Akialess_nnLandmark.csv');
    const { value: text, output } = captureStdout(() => printPaperStatement({ outputDir: dir }));
    expect(output).to.equal(`${text}\n`);
  });

  it('mixed files: our rows and CodeCarbon rows in one history name both tools', function () {
    sample('Akialess_nnLandmark.csv');
    const records = loadResults({ outputDir: dir });
    const ours = { ...records[0]!, written_by: 'lamarr-energy-tracker' as const, tracker_version: '0.1.0', cpu_energy_method: 'measured:powercap' as const, gpu_energy_method: 'measured:nvml-energy' as const, ram_energy_method: 'estimated:dimm-model' as const, gpu_count: 2, gpu_model: '2 x NVIDIA H200' };
    const s = statementFromRecords([...records, ours]);
    expect(s.methodology).to.equal(
      'CodeCarbon 3.2.7 and the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, GPU energy measured with NVML, RAM energy estimated from a DIMM model)',
    );
    expect(s.configurations.map((c) => c.hardware)).to.deep.equal([
      'an 11th Gen Intel(R) Core(TM) i5-11400F CPU and an NVIDIA GeForce RTX 3060 Ti GPU',
      'an 11th Gen Intel(R) Core(TM) i5-11400F CPU and 2 NVIDIA H200 GPUs',
    ]);
  });
});
