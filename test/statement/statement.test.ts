import { expect } from 'chai';
import {
  customPaperStatement,
  customStatement,
  statementFromRecords,
  printedEmissions,
  printedEnergy,
  formatStatement,
  type PaperStatement,
} from '../../lib/statement/index.js';
import { TRACKER_VERSION } from '../../lib/version.js';
import { codecarbonRow, hardwareOf, row } from './helpers.js';

const TAIL =
  'Note that these numbers are underestimations of actual resource consumption and do not account for overhead factors or embodied impacts~\\cite{ai_energy_validation}.';

describe('statement: the README worked examples', () => {
  it('0.135 kWh at 380 gCO2/kWh on the README laptop reads exactly as the README', () => {
    const text = statementFromRecords([
      codecarbonRow({ energy_consumed: 0.135, emissions: (0.135 * 380.95) / 1000, cpu_model: 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz' }),
    ]).text;
    expect(text).to.equal(
      'Using CodeCarbon 3.0.8, the energy consumption of running all experiments on an Intel(R) Core(TM) i7-10610U CPU is estimated to 0.135 kWh. ' +
        'This corresponds to estimated carbon emissions of 0.051 kg of CO2-equivalents, assuming a carbon intensity of 380 gCO2/kWh~\\cite{lamarr_energy_tracker,codecarbon}. ' +
        TAIL,
    );
  });

  it('the custom example: the CO2 Impact Calculator, NVIDIA GTX 1080 GPU, 3.2 kWh', () => {
    const text = customPaperStatement({ methodology: 'the CO2 Impact Calculator', hardware: 'NVIDIA GTX 1080 GPU', consumedEnergy: 3.2 });
    expect(text).to.equal(
      'Using the CO2 Impact Calculator, the energy consumption of running all experiments on an NVIDIA GTX 1080 GPU is estimated to 3.200 kWh. ' +
        'This corresponds to estimated carbon emissions of 1.216 kg of CO2-equivalents, assuming a carbon intensity of 380 gCO2/kWh~\\cite{lamarr_energy_tracker,codecarbon}. ' +
        TAIL,
    );
    expect(text).not.to.include('kgCO2');
    expect(text).not.to.match(/kWh\.\S/);
  });

  it('the custom statement takes another carbon intensity and truncates it', () => {
    const statement = customStatement({ methodology: 'jetson-stats', hardware: 'NVIDIA Jetson AGX Orin', consumedEnergy: 2, carbonIntensity: 56.9 });
    expect(statement.carbonIntensity).to.equal(56);
    expect(statement.emissions.text).to.equal('0.112 kg');
    expect(statement.text).to.include('on an NVIDIA Jetson AGX Orin is estimated to 2.000 kWh');
  });
});

describe('statement: units', () => {
  it('prints energy above 0.1 kWh in kWh, else in Wh, with three decimals', () => {
    expect(printedEnergy(0.1000001).text).to.equal('0.100 kWh');
    expect(printedEnergy(0.1).text).to.equal('100.000 Wh');
    expect(printedEnergy(0.0123456).text).to.equal('12.346 Wh');
    expect(printedEnergy(12.3456).text).to.equal('12.346 kWh');
  });

  it('prints emissions from 10 g on in kg, below in g', () => {
    expect(printedEmissions(10).text).to.equal('0.010 kg');
    expect(printedEmissions(9.9994).text).to.equal('9.999 g');
    expect(printedEmissions(0.0004).text).to.equal('0.000 g');
  });

  it('Wh and kg: 0.05 kWh at 380.95 → 50.000 Wh and 0.019 kg (intensity × printed energy)', () => {
    const s = statementFromRecords([row({ energy_consumed: 0.02 }), row({ energy_consumed: 0.03 })]);
    expect(s.energy.text).to.equal('50.000 Wh');
    expect(s.carbonIntensity).to.equal(380);
    expect(s.emissionsGrams).to.equal(19);
    expect(s.emissions.text).to.equal('0.019 kg');
    expect(s.text).to.include('is estimated to 50.000 Wh. This corresponds to estimated carbon emissions of 0.019 kg of CO2-equivalents');
  });

  it('Wh and g: 0.0123456 kWh at 380.95 → 12.346 Wh and 4.691 g', () => {
    const s = statementFromRecords([row({ energy_consumed: 0.0123456 })]);
    expect(s.text).to.include('is estimated to 12.346 Wh.');
    // 380 × 0.012346 kWh = 4.69148 g
    expect(s.text).to.include('emissions of 4.691 g of CO2-equivalents');
  });

  it('the carbon intensity is total emissions ÷ total energy, truncated, over all rows', () => {
    const s = statementFromRecords([
      row({ energy_consumed: 1, carbon_intensity: 100 }),
      row({ energy_consumed: 3, carbon_intensity: 500 }),
    ]);
    // (100 + 1500) g / 4 kWh = 400 g/kWh
    expect(s.carbonIntensity).to.equal(400);
    expect(s.energy.text).to.equal('4.000 kWh');
    expect(s.emissions.text).to.equal('1.600 kg');
    expect(s.recordedEmissionsKg).to.be.closeTo(1.6, 1e-12);
  });

  it('an exact intensity is not truncated below itself by float noise', () => {
    const rows = Array.from({ length: 10 }, () => row({ energy_consumed: 0.1, carbon_intensity: 380 }));
    expect(statementFromRecords(rows).carbonIntensity).to.equal(380);
  });

  it('rows without energy_consumed count their components', () => {
    const s = statementFromRecords([row({ energy_consumed: null, cpu_energy: 0.2, gpu_energy: 0.3, ram_energy: 0.1, emissions: 0.6 * 0.4 })]);
    expect(s.energyKwh).to.be.closeTo(0.6, 1e-12);
    expect(s.carbonIntensity).to.equal(400);
  });

  it('zero energy falls back to the rows\' intensity, and fails loudly with none', () => {
    expect(statementFromRecords([row({ energy_consumed: 0, carbon_intensity: 56.04 })]).carbonIntensity).to.equal(56);
    expect(statementFromRecords([codecarbonRow({ energy_consumed: 0, emissions: 0, country_iso_code: 'FRA' })]).carbonIntensity).to.equal(56);
    expect(() => statementFromRecords([codecarbonRow({ energy_consumed: 0, emissions: 0, country_iso_code: '' })])).to.throw(RangeError, /carbon intensity/);
  });

  it('refuses an empty list of records', () => {
    expect(() => statementFromRecords([])).to.throw(RangeError, /at least one/);
  });
});

describe('statement: methodology', () => {
  it('names this tracker, its version and how each component was obtained', () => {
    const s = statementFromRecords([
      row({ gpu_count: 2, gpu_model: '2 x NVIDIA H200', gpu_energy_method: 'measured:nvml-energy' }),
    ]);
    expect(s.methodology).to.equal(
      'the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, GPU energy measured with NVML, RAM energy estimated from a DIMM model)',
    );
    expect(s.text.startsWith(`Using ${s.methodology}, the energy consumption`)).to.equal(true);
  });

  it('uses the package version for rows without a tracker_version', () => {
    const s = statementFromRecords([row({ tracker_version: '', written_by: 'lamarr-energy-tracker' })]);
    expect(s.methodology).to.include(`the Lamarr Energy Tracker ${TRACKER_VERSION} (`);
  });

  it('never calls an estimate a measurement', () => {
    const s = statementFromRecords([
      row({ cpu_energy_method: 'estimated:tdp-load-model', ram_energy_method: 'estimated:dimm-model', gpu_energy_method: 'none:no-gpu' }),
    ]);
    expect(s.methodology).to.equal(
      "the Lamarr Energy Tracker 0.1.0 (CPU energy estimated from the CPU's TDP and load, RAM energy estimated from a DIMM model)",
    );
    expect(s.methodology).not.to.include('measured');
  });

  it('says so when runs obtained a component differently', () => {
    const s = statementFromRecords([
      row({ cpu_energy_method: 'measured:powercap' }),
      row({ cpu_energy_method: 'measured:msr' }),
      row({ cpu_energy_method: 'estimated:tdp-process-share' }),
      row({ gpu_count: 1, gpu_model: '1 x NVIDIA A100', gpu_energy_method: 'measured:nvml-power' }),
    ]);
    expect(s.methodology).to.include(
      "CPU energy measured with RAPL in some runs and estimated from the CPU's TDP and the process's CPU-time share in others",
    );
    expect(s.methodology).to.include('GPU energy integrated from NVML power readings');
    const three = statementFromRecords([
      row({ cpu_energy_method: 'measured:powercap' }),
      row({ cpu_energy_method: 'estimated:tdp-load-model' }),
      row({ cpu_energy_method: 'estimated:tdp-process-share' }),
    ]);
    expect(three.methodology).to.equal(
      "the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, estimated from the CPU's TDP and load or estimated from the CPU's TDP and the process's CPU-time share, depending on the run; RAM energy estimated from a DIMM model)",
    );
  });

  it('rows written by CodeCarbon name CodeCarbon and its versions', () => {
    expect(statementFromRecords([codecarbonRow({ codecarbon_version: '3.2.3' })]).methodology).to.equal('CodeCarbon 3.2.3');
    expect(
      statementFromRecords([
        codecarbonRow({ codecarbon_version: '3.10.0' }),
        codecarbonRow({ codecarbon_version: '2.8.0' }),
        codecarbonRow({ codecarbon_version: '3.2.3', written_by: 'lamarr-energy-tracker-python' }),
      ]).methodology,
    ).to.equal('CodeCarbon 2.8.0, 3.2.3 and 3.10.0');
    expect(statementFromRecords([codecarbonRow({ codecarbon_version: '' })]).methodology).to.equal('CodeCarbon');
  });

  it('mixed sources name each', () => {
    const s = statementFromRecords([row(), codecarbonRow({ codecarbon_version: '3.2.3' })]);
    expect(s.methodology).to.equal(
      'the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, RAM energy estimated from a DIMM model) and CodeCarbon 3.2.3',
    );
  });

  it('infers the writer from tracker_version when written_by is absent', () => {
    const { written_by: _ignored, ...ours } = row();
    const { written_by: _ignored2, ...theirs } = codecarbonRow({ codecarbon_version: '3.0.8' });
    expect(statementFromRecords([ours]).methodology).to.include('Lamarr Energy Tracker');
    expect(statementFromRecords([theirs]).methodology).to.equal('CodeCarbon 3.0.8');
  });
});

describe('statement: hardware', () => {
  it('reads naturally: CPU without clock, GPUs counted', () => {
    const s = statementFromRecords([row({ gpu_count: 2, gpu_model: '2 x NVIDIA H200' })]);
    expect(hardwareOf(s.text)).to.equal('an Intel(R) Core(TM) i7-10610U CPU and 2 NVIDIA H200 GPUs');
  });

  it('handles CodeCarbon GPU spellings and CPU names', () => {
    const cases: [Partial<Parameters<typeof row>[0]>, string][] = [
      [{ cpu_model: 'AMD EPYC 7742 64-Core Processor', gpu_count: 4, gpu_model: '4 x NVIDIA A100-SXM4-40GB' }, 'an AMD EPYC 7742 64-Core Processor and 4 NVIDIA A100-SXM4-40GB GPUs'],
      [{ cpu_model: 'AMD Ryzen 5 5600H with Radeon Graphics', gpu_count: 1, gpu_model: '1 x NVIDIA GeForce RTX 3050 Laptop GPU' }, 'an AMD Ryzen 5 5600H CPU with Radeon Graphics and an NVIDIA GeForce RTX 3050 Laptop GPU'],
      [{ cpu_model: 'Apple M1', gpu_count: 1, gpu_model: 'Apple M1' }, 'an Apple M1 CPU and an Apple M1 GPU'],
      [{ cpu_model: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', gpu_count: 2, gpu_model: "['Tesla V100-SXM2-16GB', 'Tesla V100-SXM2-16GB']" }, 'an Intel(R) Xeon(R) Gold 6248 CPU and 2 Tesla V100-SXM2-16GB GPUs'],
      [{ cpu_model: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', gpu_count: 3, gpu_model: '2 x NVIDIA A100, 1 x Tesla T4' }, 'an Intel(R) Xeon(R) Gold 6248 CPU, 2 NVIDIA A100 GPUs and a Tesla T4 GPU'],
      [{ cpu_model: '11th Gen Intel(R) Core(TM) i5-11400F @ 2.60GHz', gpu_count: 1, gpu_model: '1 x NVIDIA GeForce RTX 3060 Ti' }, 'an 11th Gen Intel(R) Core(TM) i5-11400F CPU and an NVIDIA GeForce RTX 3060 Ti GPU'],
      [{ cpu_model: 'Intel(R)  Core(TM)  i9', gpu_count: 2, gpu_model: '' }, 'an Intel(R) Core(TM) i9 CPU and 2 GPUs'],
      [{ cpu_model: '', gpu_count: 1, gpu_model: 'NVIDIA H100 80GB HBM3' }, 'an NVIDIA H100 80GB HBM3 GPU'],
    ];
    for (const [overrides, expected] of cases) {
      expect(hardwareOf(statementFromRecords([row(overrides)]).text), expected).to.equal(expected);
    }
  });

  it('several hardware configurations give each one\'s energy and the total, without aborting', () => {
    const s: PaperStatement = statementFromRecords([
      row({ energy_consumed: 0.2 }),
      row({ energy_consumed: 1.5, cpu_model: 'AMD EPYC 7742 64-Core Processor', gpu_count: 4, gpu_model: '4 x NVIDIA A100' }),
      row({ energy_consumed: 0.05 }),
      row({ energy_consumed: 0.004, cpu_model: 'Apple M1', gpu_count: 1, gpu_model: 'Apple M1' }),
    ]);
    expect(s.configurations.map((c) => [c.hardware, c.runs, c.energy.text])).to.deep.equal([
      ['an Intel(R) Core(TM) i7-10610U CPU', 2, '0.250 kWh'],
      ['an AMD EPYC 7742 64-Core Processor and 4 NVIDIA A100 GPUs', 1, '1.500 kWh'],
      ['an Apple M1 CPU and an Apple M1 GPU', 1, '4.000 Wh'],
    ]);
    expect(s.energy.text).to.equal('1.754 kWh');
    expect(s.text).to.include(
      'running all experiments on 3 hardware configurations is estimated to 1.754 kWh in total ' +
        '(0.250 kWh on an Intel(R) Core(TM) i7-10610U CPU; 1.500 kWh on an AMD EPYC 7742 64-Core Processor and 4 NVIDIA A100 GPUs; ' +
        '4.000 Wh on an Apple M1 CPU and an Apple M1 GPU).',
    );
    // 380 × 1.754 = 666.52 g
    expect(s.text).to.include('estimated carbon emissions of 0.667 kg of CO2-equivalents');
    const sum = s.configurations.reduce((total, c) => total + c.energyKwh, 0);
    expect(sum).to.be.closeTo(s.energyKwh, 1e-12);
  });

  it('rows whose raw names differ only in spacing or clock speed share one configuration', () => {
    const s = statementFromRecords([
      row({ cpu_model: 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', energy_consumed: 0.2 }),
      row({ cpu_model: 'Intel(R)  Core(TM) i7-10610U CPU @ 1.8 GHz', energy_consumed: 0.3 }),
      row({ cpu_model: 'Intel(R) Core(TM) i7-10610U CPU', energy_consumed: 0.1, gpu_count: null }),
    ]);
    expect(s.configurations).to.have.length(1);
    expect(s.configurations[0]).to.include({ hardware: 'an Intel(R) Core(TM) i7-10610U CPU', runs: 3 });
    expect(s.configurations[0]!.energyKwh).to.be.closeTo(0.6, 1e-12);
  });

  it('the custom statement adds no article before a count', () => {
    expect(hardwareOf(customPaperStatement({ methodology: 'x', hardware: '2 NVIDIA A100 GPUs', consumedEnergy: 1 }))).to.equal('2 NVIDIA A100 GPUs');
    expect(hardwareOf(customPaperStatement({ methodology: 'x', hardware: 'GPU cluster', consumedEnergy: 1 }))).to.equal('a GPU cluster');
  });
});

describe('statement: formats', () => {
  const hw = { cpu_model: 'Intel(R) Xeon(R) 100% #1 CPU_X & co', gpu_count: 0, gpu_model: '' };

  it('text keeps the \\cite commands and the raw names', () => {
    const s = statementFromRecords([row(hw)]);
    expect(formatStatement(s, 'text')).to.equal(s.text);
    expect(s.text).to.include('100% #1 CPU_X & co');
    expect(s.text).to.include('~\\cite{lamarr_energy_tracker,codecarbon}');
  });

  it('latex escapes %, _, &, # in hardware and methodology but keeps ~\\cite', () => {
    const latex = statementFromRecords([row(hw)], { format: 'latex' }).latex;
    expect(latex).to.include('100\\% \\#1 CPU\\_X \\& co');
    expect(latex).to.include('~\\cite{lamarr_energy_tracker,codecarbon}');
    expect(latex).to.include('~\\cite{ai_energy_validation}');
    const custom = customPaperStatement({ methodology: 'my_tool & 50% luck', hardware: 'GPU #3', consumedEnergy: 1, format: 'latex' });
    expect(custom).to.include('Using my\\_tool \\& 50\\% luck,');
    expect(custom).to.include('on a GPU \\#3 is');
  });

  it('json gives the numbers behind the text', () => {
    const json = customPaperStatement({ methodology: 'm', hardware: 'NVIDIA GTX 1080 GPU', consumedEnergy: 3.2, format: 'json' });
    const parsed = JSON.parse(json) as PaperStatement;
    expect(parsed.energyKwh).to.equal(3.2);
    expect(parsed.energy).to.deep.equal({ value: 3.2, unit: 'kWh', text: '3.200 kWh' });
    expect(parsed.carbonIntensity).to.equal(380);
    expect(parsed.emissionsGrams).to.be.closeTo(1216, 1e-9);
    expect(parsed.emissions).to.deep.equal({ value: 1.216, unit: 'kg', text: '1.216 kg' });
    expect(parsed.citations).to.deep.equal(['lamarr_energy_tracker', 'codecarbon', 'ai_energy_validation']);
    expect(parsed.text).to.include('3.200 kWh');
  });

  it('rejects an unknown format and bad custom input', () => {
    expect(() => customPaperStatement({ methodology: 'm', hardware: 'h', consumedEnergy: 1, format: 'html' as 'text' })).to.throw(RangeError, /format/);
    expect(() => customPaperStatement({ methodology: '', hardware: 'h', consumedEnergy: 1 })).to.throw(TypeError, /methodology/);
    expect(() => customPaperStatement({ methodology: 'm', hardware: ' ', consumedEnergy: 1 })).to.throw(TypeError, /hardware/);
    expect(() => customPaperStatement({ methodology: 'm', hardware: 'h', consumedEnergy: -1 })).to.throw(RangeError, /consumedEnergy/);
    expect(() => customPaperStatement({ methodology: 'm', hardware: 'h', consumedEnergy: Number.NaN })).to.throw(RangeError, /consumedEnergy/);
    expect(() => customPaperStatement({ methodology: 'm', hardware: 'h', consumedEnergy: 1, carbonIntensity: -5 })).to.throw(RangeError, /carbonIntensity/);
  });
});
