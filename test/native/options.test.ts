import { expect } from 'chai';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intelServer, type FakeHardware } from '../fixtures/fake-hardware.js';
import { binding, openSampler } from '../fixtures/native-helpers.js';
import { SAMPLING_INTERVAL_MS, addonSamplerOptions, resolveSamplerOptions } from '../../lib/native/sampler-options.js';
import type { NativeBinding } from '../../lib/native/types.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// The addon takes complete options (lib/native/sampler-options.ts resolves every default) and
// only checks them; the rules it runs by come from TypeScript.
describe('native sampler: options resolved in TypeScript, checked by the addon', () => {
  let hw: FakeHardware;
  beforeEach(() => (hw = intelServer(1, 1).hw));
  afterEach(() => hw.cleanup());

  it('the raw addon has no defaults: missing interval limits are a TypeError naming them', () => {
    const raw = createRequire(import.meta.url)('node-gyp-build')(REPO) as NativeBinding;
    expect(() => new raw.Sampler({ hardwareRoot: hw.root, nvmlLibrary: '' })).to.throw(TypeError, /options\.intervalLimitsMs/);
    expect(() => new raw.Sampler({ hardwareRoot: hw.root } as never)).to.throw(TypeError, /options\.nvmlLibrary/);
    const s = new raw.Sampler(addonSamplerOptions(resolveSamplerOptions({ hardwareRoot: hw.root, nvmlLibrary: '' })) as never);
    s.close();
  });

  it('acquire() checks the interval against the limits TypeScript passed, and the cpuTimes shape', () => {
    const s = openSampler(hw.root);
    try {
      const { min, max } = SAMPLING_INTERVAL_MS;
      expect(() => s.acquire(min / 2)).to.throw(RangeError, new RegExp(`between ${min} and ${max}`));
      expect(() => s.acquire(max + 1)).to.throw(RangeError, new RegExp(`between ${min} and ${max}`));
      expect(() => s.acquire(10, { machine: 'no' } as never)).to.throw(TypeError, /cpuTimes\.machine must be a boolean/);
      s.release(s.acquire(min, { machine: false, process: true }));
      s.release(s.acquire(max));
    } finally {
      s.close();
    }
  });

  it('a load model outside its range is refused, naming the field', () => {
    const Sampler = binding().Sampler;
    expect(() => new Sampler({ hardwareRoot: hw.root, nvmlLibrary: '', loadModel: { idleShare: 2, exponent: 3 } })).to.throw(RangeError, /loadModel\.idleShare/);
    expect(() => new Sampler({ hardwareRoot: hw.root, nvmlLibrary: '', loadModel: { idleShare: 0.1, exponent: 0 } })).to.throw(RangeError, /loadModel\.exponent/);
  });

  it('LET_TEST_UNPRIVILEGED is validated when read', () => {
    expect(resolveSamplerOptions({}, { LET_TEST_UNPRIVILEGED: '1' }).simulateUnprivileged).to.equal(true);
    expect(resolveSamplerOptions({}, {}).simulateUnprivileged).to.equal(false);
    expect(() => resolveSamplerOptions({}, { LET_TEST_UNPRIVILEGED: 'yes' })).to.throw(RangeError, /LET_TEST_UNPRIVILEGED must be 1 or 0/);
  });
});
