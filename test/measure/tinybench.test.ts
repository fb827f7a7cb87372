import { expect } from 'chai';
import { Bench as Bench5 } from 'tinybench5';
import { Bench as Bench6 } from 'tinybench6';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The installed version of an (aliased) tinybench, from its package.json. */
function versionOf(alias: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(alias));
  while (!dir.endsWith(alias)) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}
import { energyOf, measureBenchEnergy, withEnergy } from '../../lib/measure/index.js';
import { SimSource, domain } from './sim-source.js';

for (const [Bench, version] of [
  [Bench5, versionOf('tinybench5')],
  [Bench6, versionOf('tinybench6')],
] as const) {
describe(`tinybench ${version} adapter (real tinybench run, simulated counters)`, function () {
  this.timeout(60000);

  it(`is tinybench ${version.split('.')[0]}`, () => {
    expect(version).to.match(Bench === Bench5 ? /^5\./ : /^6\./);
  });

  it('adds joules per operation to each task, next to tinybench latency', async function () {
    // A 95% interval misses the truth in about one run in twenty by design: two more tries.
    this.retries(2);
    const src = new SimSource([{ domain: domain(), idleW: 3, perCallUj: 2 }]);
    const bench = withEnergy(new Bench({ time: 50, warmupTime: 10, iterations: 10 }), { source: src, batches: 5 });
    let hookCalls = 0;
    bench
      .add('cheap', () => src.call(1))
      .add('dear', () => src.call(10), {
        beforeAll: () => {
          hookCalls++;
        },
      });
    const tasks = await bench.run();
    expect(tasks).to.have.length(2);
    // tinybench ran its own timing
    expect((bench.getTask('cheap')!.result as { latency: { mean: number } }).latency.mean).to.be.a('number');
    expect(bench.energy).to.have.length(2);
    const [cheap, dear] = bench.energy;
    expect(cheap!.name).to.equal('cheap');
    expect(cheap!.quality, cheap!.message).to.equal('measured');
    expect(dear!.quality, dear!.message).to.equal('measured');
    expect(cheap!.joulesPerOp! * 1e6).to.be.closeTo(2, 0.1);
    expect(dear!.joulesPerOp! * 1e6).to.be.closeTo(20, 1);
    expect(cheap!.ci95J!.low).to.be.at.most(2e-6);
    expect(cheap!.ci95J!.high).to.be.at.least(2e-6);
    expect(dear!.ci95J!.low).to.be.at.most(20e-6);
    expect(dear!.ci95J!.high).to.be.at.least(20e-6);
    expect(cheap!.latencyMeanMs).to.be.a('number');
    // tinybench's warmup + run, then the energy measurement
    expect(hookCalls).to.equal(3);
    expect(energyOf(bench.getTask('dear')!)).to.equal(dear);
    const table = bench.table();
    expect(table[0]!['Task name']).to.equal('cheap');
    expect(table[0]!['Energy quality']).to.equal('measured');
    expect(String(table[1]!['Energy/op'])).to.match(/^\d+(\.\d+)? µJ ± /);
    expect(table[0]).to.have.property('Latency avg (ns)');
  });

  it('labels a task the counters cannot resolve, and works without tinybench having run', async () => {
    const src = new SimSource([{ domain: domain(), idleW: 0, perCallUj: 0.0001 }]);
    const bench = withEnergy(new Bench({ time: 20 }));
    bench.add('tiny', () => src.call());
    const [tiny] = await measureBenchEnergy(bench, { source: src, maxTimeMs: 500, batches: 3, warmupMs: 10 });
    expect(tiny!.quality).to.equal('below-resolution');
    expect(tiny!.joulesPerOp).to.equal(null);
    expect(tiny!.upperBoundJ).to.be.a('number');
    expect(tiny!.latencyMeanMs).to.equal(null);
  });

  it('reports estimate-only tasks without a number', async () => {
    const bench = withEnergy(new Bench());
    bench.add('x', () => 1);
    const [x] = await measureBenchEnergy(bench, { source: new SimSource([]) });
    expect(x!.quality).to.equal('estimate-only');
    expect(x!.joulesPerOp).to.equal(null);
  });

  it(Bench === Bench5 ? 'reaches the task functions of a bench not wrapped by withEnergy (tinybench 5)' : 'says how to use a bench whose tasks were added before withEnergy (tinybench 6 keeps task functions private)', async () => {
    const bench = new Bench();
    bench.add('x', () => 1);
    if (Bench === Bench5) {
      const [x] = await measureBenchEnergy(bench, { source: new SimSource([]) });
      expect(x!.quality).to.equal('estimate-only');
    } else {
      let error: unknown;
      await measureBenchEnergy(bench, { source: new SimSource([]) }).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.match(/tinybench 6.*withEnergy\(new Bench\(\)\)/);
    }
  });
});
}
