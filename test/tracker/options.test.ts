import { expect } from 'chai';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gpuIdsFromEnvironment, resolveTrackerOptions, type EnergyTrackerOptions } from '../../lib/tracker/options.js';

describe('tracker options', () => {
  let savedCuda: string | undefined;
  let savedOutput: string | undefined;
  beforeEach(() => {
    savedCuda = process.env.CUDA_VISIBLE_DEVICES;
    savedOutput = process.env.LET_OUTPUT_DIR;
    delete process.env.CUDA_VISIBLE_DEVICES;
    delete process.env.LET_OUTPUT_DIR;
  });
  afterEach(() => {
    if (savedCuda === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
    else process.env.CUDA_VISIBLE_DEVICES = savedCuda;
    if (savedOutput === undefined) delete process.env.LET_OUTPUT_DIR;
    else process.env.LET_OUTPUT_DIR = savedOutput;
  });

  it('applies the documented defaults', () => {
    const options = resolveTrackerOptions(undefined);
    expect(options).to.deep.include({
      projectName: 'default',
      outputDir: join(homedir(), '.let'),
      countryIsoCode: 'DEU',
      carbonIntensity: null,
      pue: 1,
      samplingIntervalMs: 1000,
      gpuIds: null,
      save: true,
      printSummary: true,
      trackingMode: 'machine',
      live: false,
      checkpointIntervalMs: 60_000,
      handleSignals: true,
      timeline: true,
    });
  });

  it('turns timelines off with timeline: false and rejects a non-boolean', () => {
    expect(resolveTrackerOptions({ timeline: false }).timeline).to.equal(false);
    expect(() => resolveTrackerOptions({ timeline: 'no' as unknown as boolean })).to.throw(TypeError, /option timeline must be a boolean/);
  });

  it('takes GPU ids from CUDA_VISIBLE_DEVICES (indices or UUIDs)', () => {
    process.env.CUDA_VISIBLE_DEVICES = '0, GPU-8f3c1a,2';
    expect(resolveTrackerOptions({}).gpuIds).to.deep.equal(['0', 'GPU-8f3c1a', '2']);
    expect(gpuIdsFromEnvironment({ CUDA_VISIBLE_DEVICES: '' })).to.deep.equal([]);
    expect(resolveTrackerOptions({ gpuIds: [1, 'GPU-ab'] as unknown as string[] }).gpuIds).to.deep.equal(['1', 'GPU-ab']);
  });

  it('honours LET_OUTPUT_DIR for the default store', () => {
    process.env.LET_OUTPUT_DIR = '/tmp/somewhere';
    expect(resolveTrackerOptions({}).outputDir).to.equal('/tmp/somewhere');
  });

  const invalid: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['projectName', 42, TypeError],
    ['projectName', '  ', RangeError],
    ['projectName', 'a\nb', RangeError],
    ['outputDir', false, TypeError],
    ['countryIsoCode', 49, TypeError],
    ['countryIsoCode', 'Germany', RangeError],
    ['carbonIntensity', '380', TypeError],
    ['carbonIntensity', -1, RangeError],
    ['carbonIntensity', Number.NaN, RangeError],
    ['pue', 0.9, RangeError],
    ['pue', '1.2', TypeError],
    ['samplingIntervalMs', 0.5, RangeError],
    ['samplingIntervalMs', 60001, RangeError],
    ['samplingIntervalMs', '10', TypeError],
    ['gpuIds', '0', TypeError],
    ['gpuIds', [''], TypeError],
    ['gpuIds', [-1], TypeError],
    ['save', 'yes', TypeError],
    ['printSummary', 1, TypeError],
    ['trackingMode', 'container', RangeError],
    ['attributionPid', 0, RangeError],
    ['attributionPid', 1.5, RangeError],
    ['includeDescendants', 'true', TypeError],
    ['hardwareRoot', 7, TypeError],
    ['nvmlLibrary', null, TypeError],
    ['live', 'on', TypeError],
    ['checkpointIntervalMs', 99, RangeError],
    ['checkpointIntervalMs', 86_400_001, RangeError],
    ['checkpointIntervalMs', '1000', TypeError],
    ['handleSignals', 'no', TypeError],
    ['pue', 1e308, RangeError],
    ['pue', 10.5, RangeError],
    ['carbonIntensity', 1e308, RangeError],
    ['carbonIntensity', 2001, RangeError],
  ];
  for (const [name, value, errorType] of invalid) {
    it(`rejects ${name} = ${JSON.stringify(value)} with a ${errorType.name} naming the option`, () => {
      const options = { [name]: value } as unknown as EnergyTrackerOptions;
      expect(() => resolveTrackerOptions(options)).to.throw(errorType, new RegExp(`\\b${name}\\b`));
    });
  }

  it('rejects unknown options, naming them', () => {
    expect(() => resolveTrackerOptions({ project_name: 'x' } as unknown as EnergyTrackerOptions)).to.throw(
      TypeError,
      /unknown option project_name/,
    );
  });

  it('rejects a non-object', () => {
    expect(() => resolveTrackerOptions('x' as unknown as EnergyTrackerOptions)).to.throw(TypeError, /options must be an object/);
  });

  it('accepts valid values', () => {
    const options = resolveTrackerOptions({
      projectName: 'p',
      countryIsoCode: 'fra',
      carbonIntensity: 0,
      pue: 1.4,
      samplingIntervalMs: 1,
      trackingMode: 'process',
      nvmlLibrary: '',
    });
    expect(options.countryIsoCode).to.equal('FRA');
    expect(options.pue).to.equal(1.4);
    expect(options.samplingIntervalMs).to.equal(1);
    expect(options.trackingMode).to.equal('process');
    expect(options.nvmlLibrary).to.equal('');
  });
});
