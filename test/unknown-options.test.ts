/** Every public function rejects a mistyped option, as `new EnergyTracker()` does. */
import { expect } from 'chai';
import { Bench } from 'tinybench';
import * as api from '../lib/index.js';
import { statementFromRecords } from '../lib/statement/index.js';

describe('public functions reject unknown options', () => {
  const cases: [string, () => unknown][] = [
    ['new EnergyTracker', () => new api.EnergyTracker({ projectNmae: 'x' } as never)],
    ['paperStatement', () => api.paperStatement({ project: 'x' } as never)],
    ['customPaperStatement', () => api.customPaperStatement({ methodology: 'm', hardware: 'h', consumedEnergy: 1, carbon_intensity: 5 } as never)],
    ['statementFromRecords', () => statementFromRecords([], { formt: 'json' } as never)],
    ['bibtex', () => api.bibtex({ comparisons: true } as never)],
    ['probe', () => api.probe({ hardwarRoot: '/' } as never)],
    ['withEnergy', () => api.withEnergy(new Bench(), { batch: 3 } as never)],
  ];
  for (const [name, call] of cases) {
    it(`${name} throws a TypeError naming the unknown option`, () => {
      expect(call).to.throw(TypeError, /unknown option \w+; valid options are/);
    });
  }

  it('measureEnergy rejects (before measuring anything)', async () => {
    let error: unknown;
    await api.measureEnergy(() => 1, { batch: 3 } as never).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.match(/^measureEnergy: unknown option batch; valid options are devices, /);
  });

  it('measureBenchEnergy rejects', async () => {
    let error: unknown;
    await api.measureBenchEnergy(new Bench(), { batch: 3 } as never).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.match(/^measureBenchEnergy: unknown option batch/);
  });

  it('EnergyTracker.stop rejects an unknown option (and keeps running until a valid stop)', () => {
    const tracker = new api.EnergyTracker({ save: false, printSummary: false, nvmlLibrary: '' }).start();
    expect(() => tracker.stop({ statu: 'failed' } as never)).to.throw(TypeError, /unknown option statu/);
    expect(tracker.running).to.equal(true);
    tracker.stop();
  });
});
