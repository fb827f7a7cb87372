/**
 * Ground-truth benchmark: what a wall plug adds to a tracked run, against baselines measured in
 * the same run:
 *
 *   node --import tsx bench/groundtruth.bench.ts [--runs 40] [--rounds 3]
 *
 * - one GET on the HTTP thread, waited for synchronously (the floor of any plug reading);
 * - `start()`+`stop()` with `save: false` and no plug (the measurement alone);
 * - the same with a simulated Shelly Gen2 plug (one GET at start, one at stop) and a simulated
 *   Tasmota plug (two GETs each: `EnergyRes 5`, `Status 8`), on 127.0.0.1, each on its own thread.
 * Interleaved in `--rounds` rounds of `--runs`; medians per run.
 */
import { EnergyTracker } from '../lib/tracker/energy-tracker.js';
import { SimulatedPlug } from '../lib/groundtruth/simulated-plug.js';
import { closeHttpThread, requestSequence } from '../lib/groundtruth/http-thread.js';
import { intelServer } from '../test/fixtures/fake-hardware.js';
import { middleSample } from './stats.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const runs = option('--runs', 40);
const rounds = option('--rounds', 3);

const { hw } = intelServer(2, 2);
const tasmota = await SimulatedPlug.start({ firmware: 'tasmota', watts: 100 });
const gen2 = await SimulatedPlug.start({ firmware: 'shelly-gen2', watts: 100 });
const base = { hardwareRoot: hw.root, nvmlLibrary: '', save: false, printSummary: false } as const;

const contenders: Record<string, () => void> = {
  'one GET on the HTTP thread (waitSync)': () => {
    requestSequence([{ url: `${gen2.url}/rpc/Switch.GetStatus?id=0` }], 5000).waitSync();
  },
  'start()+stop(), no plug': () => {
    new EnergyTracker(base).start().stop();
  },
  'start()+stop(), Shelly Gen2 plug': () => {
    const record = new EnergyTracker({ ...base, groundTruth: { shellyGen2: gen2.url } }).start().stop();
    if (record.wall_energy_method !== 'measured:shelly-gen2') throw new Error(record.wall_energy_method);
  },
  'start()+stop(), Tasmota plug': () => {
    const record = new EnergyTracker({ ...base, groundTruth: { tasmota: tasmota.url } }).start().stop();
    if (record.wall_energy_method !== 'measured:tasmota') throw new Error(record.wall_energy_method);
  },
};

const samples = new Map<string, number[]>(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, operation] of Object.entries(contenders)) {
    operation(); // warm
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) operation();
    samples.get(name)!.push(Number(process.hrtime.bigint() - start) / runs / 1000);
  }
}
const medians = new Map([...samples].map(([name, values]) => [name, middleSample(values)]));
const get = medians.get('one GET on the HTTP thread (waitSync)')!;
const plain = medians.get('start()+stop(), no plug')!;
console.log(`ground-truth bench: ${rounds} rounds × ${runs} runs, medians; Node ${process.version}`);
console.log('| operation | µs per run | vs one GET | vs no plug |');
console.log('|---|---:|---:|---:|');
for (const [name, value] of medians) console.log(`| ${name} | ${value.toFixed(0)} | ${(value / get).toFixed(1)}× | ${(value / plain).toFixed(2)}× |`);

await tasmota.close();
await gen2.close();
await closeHttpThread();
hw.cleanup();
