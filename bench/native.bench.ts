/**
 * Native sampler costs, as ratios measured in one run on simulated hardware:
 *
 *   node --import tsx bench/native.bench.ts [--counters 8] [--reads 20000] [--seconds 3] [--json]
 *
 *  1. fresh read: `sampler.read()` of N powercap counters (plus proc/stat and proc/self/stat,
 *     which every fresh read also reads) against the raw pread of the same files from Node
 *     (`fs.readSync(fd, buf, 0, 32, 0)` on descriptors kept open): the physical floor of
 *     reading those files from JavaScript. Reported against the N counter files alone and
 *     against all N + 2 files.
 *  2. cheap read: `sampler.latest()` against `binding.noop()` (an empty native call).
 *  3. sampling thread CPU use at 1 ms, 10 ms and 1 s with N counters: the thread's own CPU
 *     time from /proc/self/task/<tid>/schedstat (ns) over the wall time, as a share of one core;
 *     against an empty thread that only waits on a condition variable with the same deadline
 *     (bench/native-wake-floor.cpp, compiled with g++ when available): the cost of waking up
 *     at all on this machine.
 *
 * Times are medians of 7 alternating rounds (contenders interleaved so machine noise hits both).
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { FakeHardware, type PowercapCounter } from '../test/fixtures/fake-hardware.js';
import { loadNativeBinding } from '../lib/native/loader.js';
import { buildWakeFloor, samplerThreadCost, wakeFloor } from './thread-cpu.js';
import { middleSample } from './stats.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || def : def;
};
const N = arg('--counters', 8);
const READS = arg('--reads', 20000);
const SECONDS = arg('--seconds', 3);
const JSON_OUT = args.includes('--json');
const ROUNDS = 7;


function timePerOp(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n; // ns per op
}

async function main(): Promise<void> {
  const binding = loadNativeBinding();
  const hw = FakeHardware.create({ selfPid: process.pid });
  hw.cpuinfo('GenuineIntel', 'bench', 2).procStat(2).process(process.pid, { ppid: 1 });
  const counters: PowercapCounter[] = [];
  for (let i = 0; i < N; i++) {
    const pkg = Math.floor(i / 4);
    const sub = i % 4;
    const zone = sub === 0 ? `intel-rapl:${pkg.toString(16)}` : `intel-rapl:${pkg.toString(16)}:${sub - 1}`;
    counters.push(hw.zone({ zone, name: sub === 0 ? `package-${pkg}` : ['core', 'uncore', 'dram'][sub - 1]!, startUj: 123456789 + i }));
  }
  const sampler = new binding.Sampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
  if (sampler.domains.length !== N) throw new Error(`expected ${N} domains, got ${sampler.domains.length}`);

  // 1. fresh read vs raw pread
  const files = sampler.domains.map((d) => d.source);
  const procFiles = [hw.path('proc/stat'), hw.path('proc/self/stat')];
  const fds = files.map((f) => openSync(f, 'r'));
  const allFds = [...fds, ...procFiles.map((f) => openSync(f, 'r'))];
  const buf = Buffer.alloc(512);
  let sink = 0;
  const rawN = (): void => {
    for (const fd of fds) sink += readSync(fd, buf, 0, 32, 0);
  };
  const rawAll = (): void => {
    for (let i = 0; i < allFds.length; i++) sink += readSync(allFds[i]!, buf, 0, i < fds.length ? 32 : 512, 0);
  };
  const fresh = (): void => {
    sink += sampler.read().energyUj.length;
  };
  const latest = (): void => {
    sink += sampler.latest().energyUj.length;
  };
  const noop = (): void => binding.noop();
  for (const f of [rawN, rawAll, fresh, latest, noop]) timePerOp(f, 2000); // warm up
  const t = { rawN: [] as number[], rawAll: [] as number[], fresh: [] as number[], latest: [] as number[], noop: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    t.rawN.push(timePerOp(rawN, READS));
    t.fresh.push(timePerOp(fresh, READS));
    t.rawAll.push(timePerOp(rawAll, READS));
    t.latest.push(timePerOp(latest, READS * 5));
    t.noop.push(timePerOp(noop, READS * 5));
  }
  const ratioFreshN = middleSample(t.fresh.map((x, i) => x / t.rawN[i]!));
  const ratioFreshAll = middleSample(t.fresh.map((x, i) => x / t.rawAll[i]!));
  const ratioLatest = middleSample(t.latest.map((x, i) => x / t.noop[i]!));
  for (const fd of allFds) closeSync(fd);

  // 3. sampling thread CPU
  const floorBin = buildWakeFloor();
  const threadCpu: Array<{
    intervalMs: number;
    samples: number;
    cpuShare: number;
    perSampleUs: number;
    emptyWaitShare: number | null;
    emptyWaitPerWakeUs: number | null;
  }> = [];
  for (const intervalMs of [1, 10, 1000]) {
    // Keep the counters moving like hardware would (every ~1 ms, from this thread).
    const cost = await samplerThreadCost(sampler, intervalMs, SECONDS, () => {
      for (const c of counters) c.add(61);
    });
    const floor = wakeFloor(floorBin.bin, intervalMs, SECONDS);
    threadCpu.push({
      intervalMs,
      samples: cost.samples,
      cpuShare: cost.share,
      perSampleUs: cost.perTickUs,
      emptyWaitShare: floor.share,
      emptyWaitPerWakeUs: floor.perWakeUs,
    });
  }
  sampler.close();
  hw.cleanup();
  rmSync(floorBin.dir, { recursive: true, force: true });

  const us = (ns: number): string => (ns / 1000).toFixed(2);
  const result = {
    counters: N,
    freshReadUs: middleSample(t.fresh) / 1000,
    rawPreadCountersUs: middleSample(t.rawN) / 1000,
    rawPreadAllFilesUs: middleSample(t.rawAll) / 1000,
    ratioFreshVsRawCounters: ratioFreshN,
    ratioFreshVsRawAllFiles: ratioFreshAll,
    latestUs: middleSample(t.latest) / 1000,
    noopUs: middleSample(t.noop) / 1000,
    ratioLatestVsNoop: ratioLatest,
    threadCpu,
    sink,
  };
  if (JSON_OUT) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`# native sampler (${N} simulated powercap counters, node ${process.version})\n`);
  console.log('| measure | time per call (µs) | ratio |');
  console.log('|---|---:|---:|');
  console.log(`| raw pread of the ${N} counter files (fs.readSync) | ${us(middleSample(t.rawN))} | 1.00× |`);
  console.log(`| raw pread of the ${N} counter files + proc/stat + proc/self/stat | ${us(middleSample(t.rawAll))} | 1.00× |`);
  console.log(`| sampler.read() (fresh, all ${N} counters + CPU times) | ${us(middleSample(t.fresh))} | ${ratioFreshN.toFixed(2)}× / ${ratioFreshAll.toFixed(2)}× |`);
  console.log(`| binding.noop() | ${us(middleSample(t.noop))} | 1.00× |`);
  console.log(`| sampler.latest() | ${us(middleSample(t.latest))} | ${ratioLatest.toFixed(2)}× |`);
  console.log('\n| sampling interval | samples | thread CPU (% of one core) | CPU per sample (µs) | empty timed wait (% of a core) | per wake-up (µs) | ratio |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of threadCpu) {
    const f = r.emptyWaitShare === null ? '| n/a | n/a | n/a |' : `| ${(r.emptyWaitShare * 100).toFixed(3)}% | ${r.emptyWaitPerWakeUs!.toFixed(2)} | ${(r.cpuShare / r.emptyWaitShare).toFixed(2)}× |`;
    console.log(`| ${r.intervalMs} ms | ${r.samples} | ${(r.cpuShare * 100).toFixed(3)}% | ${r.perSampleUs.toFixed(2)} ${f}`);
  }
}

await main();
