/**
 * Metrics benchmark, on a simulated hardware root (2 sockets: 6 powercap zones):
 *
 *   node --import tsx bench/metrics.bench.ts [--scrapes 2000] [--rounds 5] [--samples 10000]
 *
 * 1. Scrape cost: `registry.metrics()` with every series of ours (machine, sampler health, and
 *    tracked runs of 8 projects), against baselines measured in the same run:
 *    - the same number of samples serialised by hand (template strings over prepared label
 *      strings and values: the least any exporter can do);
 *    - a fresh counter reading alone (`MachineEnergyMeter.read()`: what a scrape must pay to
 *      be exact at its instant).
 *    Contenders interleaved in `--rounds` rounds of `--scrapes`; medians per scrape.
 * 2. Memory of a running monitor: `startMonitor` sampling every millisecond and scraped over
 *    HTTP (a keep-alive node:http client, as Prometheus keeps its connection) 100 times a second until the sampler has taken `--samples` samples; heap and RSS after
 *    a full GC at 10%, 25%, 50%, 75% and 100% of the samples.
 */
import { Agent, get } from 'node:http';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Registry } from 'prom-client';
import { intelServer } from '../test/fixtures/fake-hardware.js';
import { MachineEnergyMeter, registerEnergyMetrics } from '../lib/metrics/index.js';
import { startMonitor } from '../lib/monitor/monitor.js';
import { EnergyTracker } from '../lib/tracker/energy-tracker.js';
import { closeIdleSamplers } from '../lib/native/sampler-pool.js';
import { middleSample } from './stats.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const scrapes = option('--scrapes', 2000);
const rounds = option('--rounds', 5);
const targetSamples = option('--samples', 10000);

const machine = intelServer(2, 2);
const root = machine.hw.root;

// ---- 1. Scrape cost -------------------------------------------------------------------------
const registry = new Registry();
const metrics = registerEnergyMetrics({ registry, hardwareRoot: root, nvmlLibrary: '' });
for (let project = 0; project < 8; project++) {
  const tracker = new EnergyTracker({ hardwareRoot: root, nvmlLibrary: '', save: false, printSummary: false, projectName: `project-${project}` }).start();
  machine.packages[0]!.add(1_000_000 * (project + 1));
  tracker.stop();
}
const exposition = await registry.metrics();
const sampleLines = exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
const headerLines = exposition.split('\n').filter((line) => line.startsWith('#'));
// The hand-written baseline: the same samples, names and label strings prepared once.
const prepared = sampleLines.map((line) => {
  const space = line.lastIndexOf(' ');
  return { series: line.slice(0, space), value: Number(line.slice(space + 1)) };
});
const headers = headerLines.join('\n');
let sink = 0;
function byHand(): string {
  let text = `${headers}\n`;
  for (const { series, value } of prepared) text += `${series} ${value + sink * 0}\n`;
  return text;
}
const meter = new MachineEnergyMeter({ hardwareRoot: root, nvmlLibrary: '' });

async function timePerScrape(operation: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < scrapes; i++) {
    const result = operation();
    if (result instanceof Promise) sink += ((await result) as string).length;
    else sink += typeof result === 'string' ? result.length : 1;
  }
  return Number(process.hrtime.bigint() - start) / scrapes / 1000; // µs
}

const contenders: Record<string, () => unknown> = {
  'hand-serialised samples (baseline)': byHand,
  'fresh counter reading (MachineEnergyMeter.read)': () => meter.read(),
  'registry.metrics() (reading + prom-client)': () => registry.metrics(),
};
const timings = new Map<string, number[]>(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, operation] of Object.entries(contenders)) timings.get(name)!.push(await timePerScrape(operation));
}
const medians = new Map([...timings].map(([name, values]) => [name, middleSample(values)]));
const baseline = medians.get('hand-serialised samples (baseline)')!;
console.log(`metrics bench: scrape of ${sampleLines.length} samples in ${headerLines.length / 2} metrics (${exposition.length} bytes); ${rounds} rounds × ${scrapes} scrapes, medians; Node ${process.version}`);
console.log('| operation | µs per scrape | vs by hand |');
console.log('|---|---:|---:|');
for (const [name, value] of medians) console.log(`| ${name} | ${value.toFixed(1)} | ${(value / baseline).toFixed(1)}× |`);
meter.close();
metrics.close();

// ---- 2. Memory of a running monitor ---------------------------------------------------------
closeIdleSamplers(); // a fresh sampler: its sample count starts at 0
const monitor = await startMonitor({ port: 0, hardwareRoot: root, nvmlLibrary: '', samplingIntervalMs: 1, save: false });
// A keep-alive client as Prometheus uses (node:http: fetch's own caches would be measured too).
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const scrape = (): Promise<string> =>
  new Promise((resolve, reject) => {
    get(monitor.url, { agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
const samplesNow = async (): Promise<number> => {
  const text = await scrape();
  return Number(/^let_sampler_samples_total\{[^}]*\} (\d+)$/m.exec(text)![1]);
};
const checkpoints = [0.1, 0.25, 0.5, 0.75, 1].map((share) => Math.round(share * targetSamples));
const memory: Array<{ samples: number; heapMiB: number; rssMiB: number; scrapes: number }> = [];
let scraped = 0;
const started = Date.now();
while (memory.length < checkpoints.length) {
  machine.packages[0]!.add(20_000);
  machine.drams[1]!.add(3_000);
  const samples = await samplesNow();
  scraped++;
  if (samples >= checkpoints[memory.length]!) {
    gc();
    const usage = process.memoryUsage();
    memory.push({ samples, heapMiB: usage.heapUsed / 2 ** 20, rssMiB: usage.rss / 2 ** 20, scrapes: scraped });
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
agent.destroy();
await monitor.stop();
console.log(`\nmonitor memory: sampling every 1 ms, scraped over HTTP every ~10 ms, ${((Date.now() - started) / 1000).toFixed(1)} s; after a full GC`);
console.log('| samples taken | scrapes | heap used (MiB) | RSS (MiB) |');
console.log('|---:|---:|---:|---:|');
for (const m of memory) console.log(`| ${m.samples} | ${m.scrapes} | ${m.heapMiB.toFixed(2)} | ${m.rssMiB.toFixed(1)} |`);
const growth = memory.at(-1)!.heapMiB - memory[0]!.heapMiB;
console.log(`heap growth from ${memory[0]!.samples} to ${memory.at(-1)!.samples} samples: ${growth >= 0 ? '+' : ''}${(growth * 1024).toFixed(0)} KiB`);
machine.hw.cleanup();
if (sink < 0) console.log(sink);
