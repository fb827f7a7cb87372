/**
 * Overhead of measureEnergy per batch, against an empty batch in the same run.
 *
 *   node --import tsx bench/measure.bench.ts [--batches=20] [--json]
 *   npm run bench -- measure --batches=30
 *
 * For each counter source (an in-process simulated counter, and the native sampler reading
 * a simulated powercap tree when the addon is built) and each workload (an empty function,
 * a small one), measureEnergy runs with its default batch criteria. Then, in the same run,
 * measureEnergy runs "empty batches": one call of an empty function per batch, so that a
 * batch's duration is measureEnergy's own cost per batch (the fresh counter read that ends
 * it, the loop, the record). The table gives that cost with a 95% interval, its share of a
 * real batch, and the cost of one counter read timed directly.
 */
import { Worker } from 'node:worker_threads';
import { measureEnergy, type EnergyCounterSource } from '../lib/measure/index.js';
import { estimateMean, interval95 } from '../lib/measure/stats.js';
import type { CounterReading } from '../lib/measure/source.js';
import type { DomainInfo } from '../lib/native/types.js';
import { domain as simDomain } from '../test/measure/sim-source.js';

const args = process.argv.slice(2);
// `--batches 30` or `--batches=30` (the latter passes through bench/run.ts)
const batchesArg = args.find((a) => a.startsWith('--batches='))?.slice('--batches='.length) ?? (args.includes('--batches') ? args[args.indexOf('--batches') + 1] : undefined);
const BATCHES = Math.max(2, Math.floor(Number(batchesArg ?? 20)) || 20);
const JSON_OUT = args.includes('--json');

let sink = 0;
const workloads: Array<{ name: string; fn: () => void }> = [
  { name: 'empty function', fn: () => {} },
  {
    name: 'sum of 100 integers',
    fn: () => {
      let x = 0;
      for (let i = 0; i < 100; i++) x += i;
      sink += x;
    },
  },
];

/** In-process counter: 5 W idle, 61.035 µJ steps, read from the monotonic clock. */
function simSource(): EnergyCounterSource {
  const t0 = process.hrtime.bigint();
  const domain: DomainInfo = simDomain();
  return {
    domains: [domain],
    read(): CounterReading {
      const now = process.hrtime.bigint();
      const uj = (Number(now - t0) / 1e9) * 5e6;
      return { timestampNs: Number(now), energyUj: [Math.floor(uj / 61.035) * 61.035] };
    },
  };
}

interface NativeSetup {
  source: () => Promise<EnergyCounterSource | null>;
  cleanup: () => Promise<void>;
}

/** The native sampler on a fake powercap zone advanced by a worker thread (5 W, every 1 ms). */
async function nativeSetup(): Promise<NativeSetup | null> {
  let pool: typeof import('../lib/native/sampler-pool.js');
  let hwmod: typeof import('../test/fixtures/fake-hardware.js');
  try {
    pool = await import('../lib/native/sampler-pool.js');
    hwmod = await import('../test/fixtures/fake-hardware.js');
  } catch (error) {
    process.stderr.write(`(native sampler not available: ${(error as Error).message.split('\n')[0]})\n`);
    return null;
  }
  const hw = hwmod.FakeHardware.create({ selfPid: process.pid });
  hw.cpuinfo('GenuineIntel', 'Bench CPU', 1).procStat(1).cpu(0, 0);
  hw.process(process.pid, { ppid: 1 });
  const zone = hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
  const path = zone.energyPath;
  const worker = new Worker(
    `const { openSync, writeSync, ftruncateSync } = require('node:fs');
     const { workerData, parentPort } = require('node:worker_threads');
     const fd = openSync(workerData.path, 'r+');
     const t0 = process.hrtime.bigint();
     let stop = false;
     parentPort.on('message', () => { stop = true; });
     const tick = () => {
       if (stop) { parentPort.postMessage('done'); return; }
       const uj = Math.floor(Number(process.hrtime.bigint() - t0) / 1e9 * 5e6 / 61) * 61;
       const b = Buffer.from(uj + '\\n');
       writeSync(fd, b, 0, b.length, 0); ftruncateSync(fd, b.length);
       setTimeout(tick, 1);
     };
     tick();`,
    { eval: true, workerData: { path } },
  );
  return {
    source: async () => {
      try {
        const lease = pool.acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 1000 });
        return { domains: lease.sampler.domains, read: () => lease.read(), release: () => lease.release() };
      } catch (error) {
        process.stderr.write(`(native sampler could not open: ${(error as Error).message})\n`);
        return null;
      }
    },
    cleanup: async () => {
      worker.postMessage('stop');
      await new Promise((r) => worker.once('message', r));
      await worker.terminate();
      hw.cleanup();
    },
  };
}

interface Row {
  source: string;
  workload: string;
  quality: string;
  callsPerBatch: number;
  batchMs: number;
  emptyBatchUs: number;
  emptyBatchCi95Us: [number, number] | null;
  overheadPct: number;
  readCostUs: number;
}

function timeReads(source: EnergyCounterSource, count = 20000): number {
  for (let i = 0; i < 1000; i++) source.read();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) source.read();
  return Number(process.hrtime.bigint() - t0) / count / 1e3;
}

const noop = (): void => {};

async function benchSource(label: string, open: () => Promise<EnergyCounterSource | null>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const w of workloads) {
    const source = await open();
    if (source === null) return rows;
    // measureEnergy releases its source at the end: hand it a view and release ourselves.
    const held: EnergyCounterSource = { domains: source.domains, read: () => source.read() };
    // The workload with the default criteria (batches of ≥ 50 ms and ≥ 1000 counter steps).
    const m = await measureEnergy(w.fn, { source: held, batches: BATCHES, idlePowerW: 5 });
    // An empty batch in the same run: one call of an empty function per batch, so that a
    // batch's duration is measureEnergy's own cost per batch (counter read, loop, record).
    const empty = await measureEnergy(noop, { source: held, batches: 10 * BATCHES, idlePowerW: 5, iterationsPerBatch: 1, warmupMs: 0 });
    const readUs = timeReads(source);
    source.release?.();
    const e = estimateMean(empty.batchDurationsMs.map((ms) => ms * 1e3));
    const ci = interval95(e);
    rows.push({
      source: label,
      workload: w.name,
      quality: m.quality,
      callsPerBatch: m.iterationsPerBatch,
      batchMs: m.batchMs ?? Number.NaN,
      emptyBatchUs: e.mean,
      emptyBatchCi95Us: ci ? [ci.low, ci.high] : null,
      overheadPct: (e.mean / 1e3 / (m.batchMs ?? Number.NaN)) * 100,
      readCostUs: readUs,
    });
  }
  return rows;
}

const rows: Row[] = [];
rows.push(...(await benchSource('in-process simulated counter', async () => simSource())));
const native = await nativeSetup();
if (native !== null) {
  try {
    rows.push(...(await benchSource('native sampler, fake powercap zone', native.source)));
  } finally {
    await native.cleanup();
  }
}

if (JSON_OUT) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else {
  const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  process.stdout.write(
    `measureEnergy overhead per batch vs an empty batch (${BATCHES} batches, Node ${process.version}, sink ${sink > 0 ? 'used' : '0'})\n\n`,
  );
  process.stdout.write('| source | workload | quality | calls/batch | batch (ms) | empty batch = overhead/batch (µs, 95% CI) | overhead share | one read (µs) |\n');
  process.stdout.write('|---|---|---|---:|---:|---:|---:|---:|\n');
  for (const r of rows) {
    process.stdout.write(
      `| ${r.source} | ${r.workload} | ${r.quality} | ${r.callsPerBatch} | ${f(r.batchMs, 2)} | ${f(r.emptyBatchUs, 2)} (${r.emptyBatchCi95Us ? `${f(r.emptyBatchCi95Us[0], 2)} … ${f(r.emptyBatchCi95Us[1], 2)}` : 'n/a'}) | ${f(r.overheadPct, 4)}% | ${f(r.readCostUs, 3)} |\n`,
    );
  }
}
