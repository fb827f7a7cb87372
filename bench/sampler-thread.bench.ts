/**
 * The sampling thread's own CPU time against bare wake-up threads, measured in one run:
 *
 *   node --import tsx bench/sampler-thread.bench.ts [--counters 8] [--seconds 2] [--rounds 3]
 *        [--procs 500] [--disk] [--before path/to/older/let_sampler.node]
 *
 * Hardware root: simulated powercap counters (`--counters`, files updated every ~1 ms from the
 * main thread, as hardware would) with `proc` linked to this machine's real /proc, so CPU times
 * and the process tree are the real ones. The counter files live in memory (/dev/shm, tmpfs),
 * as sysfs files do; `--disk` puts them under os.tmpdir() instead (on ext4 every read of a file
 * written since its last read also updates its access time, which no sysfs read pays).
 *
 * 1. Machine mode at 1 kHz (all counters measured: the ticks need no CPU times) against two C
 *    threads that only wake every 1 ms (bench/native-wake-floor.cpp): `sleep`, a
 *    clock_nanosleep(TIMER_ABSTIME) loop (one system call per wake-up: the barest), and `cv`, a
 *    condition-variable timed wait (what the sampler used before).
 * 2. With `--procs` `sleep` processes alive, as children of this process (so, descendants of
 *    the attribution process) and, separately, as strangers (re-parented away from us): process
 *    mode with descendants (ticks read proc/stat and the tree) against machine mode, both at
 *    1 kHz, same counters.
 * With `--before`, an older build of the addon (whose ticks read the CPU times every 10 ms and
 * scan all of /proc for descendants) is measured in the same rounds for comparison.
 *
 * Thread CPU: /proc/self/task/<tid>/schedstat (ns) over wall time; contenders alternate within
 * each round; medians over the rounds (ratios: medians of per-round ratios).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeHardware, type PowercapCounter } from '../test/fixtures/fake-hardware.js';
import { buildWakeFloor, samplerThreadCost, wakeFloor, type ThreadCost } from './thread-cpu.js';
import { loadNativeBinding } from '../lib/native/loader.js';
import { addonSamplerOptions, resolveSamplerOptions } from '../lib/native/sampler-options.js';
import type { CpuTimesUse } from '../lib/native/types.js';
import { middleSample } from './stats.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || def : def;
};
const N = arg('--counters', 8);
const SECONDS = arg('--seconds', 2);
const ROUNDS = arg('--rounds', 3);
const PROCS = arg('--procs', 500);
const beforeIndex = args.indexOf('--before');
const BEFORE = beforeIndex >= 0 ? args[beforeIndex + 1] : undefined;


interface AnySampler {
  acquire(ms: number, use?: CpuTimesUse): number;
  release(token: number): void;
  stats(): { samples: number };
  close(): void;
}

let counters: PowercapCounter[] = [];
const moveCounters = (): void => {
  for (const c of counters) c.add(61);
};

/** The sampler thread's CPU share of one core while it samples at `ms` for SECONDS. */
const samplerShare = (sampler: AnySampler, ms: number, use?: CpuTimesUse): Promise<ThreadCost> => samplerThreadCost(sampler, ms, SECONDS, moveCounters, use);

const wakeShare = (bin: string, mode: 'sleep' | 'cv'): { share: number } => wakeFloor(bin, 1, SECONDS, mode);

/** `count` sleeping processes: our children, or strangers (their shell exits: re-parented away). */
function spawnSleepers(count: number, asChildren: boolean): { pids: number[]; children: ChildProcess[] } {
  if (asChildren) {
    const children = Array.from({ length: count }, () => spawn('sleep', ['600'], { stdio: 'ignore' }));
    return { pids: children.map((c) => c.pid!), children };
  }
  const out = execFileSync('sh', ['-c', `i=0; while [ $i -lt ${count} ]; do sleep 600 >/dev/null 2>&1 & echo $!; i=$((i+1)); done`]).toString();
  return { pids: out.trim().split('\n').map(Number), children: [] };
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function main(): Promise<void> {
  const binding = loadNativeBinding();
  if (!args.includes('--disk') && existsSync('/dev/shm')) process.env.TMPDIR = '/dev/shm';
  const hw = FakeHardware.create({ selfPid: process.pid });
  symlinkSync('/proc', hw.path('proc'));
  counters = [];
  for (let i = 0; i < N; i++) {
    const pkg = Math.floor(i / 4);
    const sub = i % 4;
    const zone = sub === 0 ? `intel-rapl:${pkg.toString(16)}` : `intel-rapl:${pkg.toString(16)}:${sub - 1}`;
    counters.push(hw.zone({ zone, name: sub === 0 ? `package-${pkg}` : ['core', 'uncore', 'dram'][sub - 1]!, startUj: 123456789 + i }));
  }
  const floor = buildWakeFloor();
  const older = BEFORE !== undefined ? (createRequire(import.meta.url)(BEFORE) as { Sampler: new (o: object) => AnySampler }) : null;
  const open = (includeDescendants: boolean): AnySampler => new binding.Sampler({ hardwareRoot: hw.root, nvmlLibrary: '', includeDescendants });
  const openOlder = (includeDescendants: boolean): AnySampler | null =>
    older === null ? null : new older.Sampler(addonSamplerOptions(resolveSamplerOptions({ hardwareRoot: hw.root, nvmlLibrary: '', includeDescendants })));
  const none: CpuTimesUse = { machine: false, process: false };
  const both: CpuTimesUse = { machine: true, process: true };
  const sleepers: number[] = [];
  const onExit = (): void => killAll(sleepers);
  process.on('exit', onExit);
  try {
    // 1. machine mode at 1 kHz against bare wake-ups
    const machine = open(false);
    const olderMachine = openOlder(false);
    const r1 = { machine: [] as number[], sleep: [] as number[], cv: [] as number[], older: [] as number[], rs: [] as number[], rc: [] as number[], tick: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const m = await samplerShare(machine, 1, none);
      const s = wakeShare(floor.bin, 'sleep');
      const c = wakeShare(floor.bin, 'cv');
      r1.machine.push(m.share);
      r1.tick.push(m.perTickUs);
      r1.sleep.push(s.share);
      r1.cv.push(c.share);
      r1.rs.push(m.share / s.share);
      r1.rc.push(m.share / c.share);
      if (olderMachine !== null) r1.older.push((await samplerShare(olderMachine, 1)).share);
    }
    machine.close();
    olderMachine?.close();

    // 2. process mode with descendants against machine mode, PROCS processes alive
    const rows: string[] = [];
    for (const asChildren of [true, false]) {
      const { pids, children } = spawnSleepers(PROCS, asChildren);
      sleepers.push(...pids);
      await sleep(300);
      const m2 = open(false);
      const tree = open(true);
      const olderTree = openOlder(true);
      const r2 = { machine: [] as number[], tree: [] as number[], ratio: [] as number[], older: [] as number[] };
      for (let r = 0; r < ROUNDS; r++) {
        const m = await samplerShare(m2, 1, none);
        const t = await samplerShare(tree, 1, both);
        r2.machine.push(m.share);
        r2.tree.push(t.share);
        r2.ratio.push(t.share / m.share);
        if (olderTree !== null) r2.older.push((await samplerShare(olderTree, 1)).share);
      }
      m2.close();
      tree.close();
      olderTree?.close();
      killAll(pids);
      for (const c of children) c.unref();
      const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
      rows.push(
        `| ${PROCS} ${asChildren ? 'children (descendants)' : 'strangers (not descendants)'} | ${pct(middleSample(r2.machine))} | ${pct(middleSample(r2.tree))} | **${middleSample(r2.ratio).toFixed(2)}×** |` +
          (older !== null ? ` ${pct(middleSample(r2.older))} |` : ''),
      );
    }

    const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
    console.log(`# sampling thread at 1 kHz (${N} simulated counters under ${tmpdir()}, real /proc, node ${process.version}, ${ROUNDS} rounds of ${SECONDS} s)\n`);
    console.log(`| thread | CPU (% of one core) | ratio to clock_nanosleep | ratio to cv timed wait |`);
    console.log('|---|---:|---:|---:|');
    console.log(`| C: clock_nanosleep every 1 ms | ${pct(middleSample(r1.sleep))} | 1.00× | |`);
    console.log(`| C: condition-variable timed wait every 1 ms | ${pct(middleSample(r1.cv))} | | 1.00× |`);
    console.log(`| sampler, machine mode (${middleSample(r1.tick).toFixed(1)} µs per tick) | ${pct(middleSample(r1.machine))} | **${middleSample(r1.rs).toFixed(2)}×** | **${middleSample(r1.rc).toFixed(2)}×** |`);
    if (older !== null) console.log(`| older addon (--before), same counters | ${pct(middleSample(r1.older))} | ${(middleSample(r1.older) / middleSample(r1.sleep)).toFixed(2)}× | ${(middleSample(r1.older) / middleSample(r1.cv)).toFixed(2)}× |`);
    console.log(`\n| processes alive | machine mode | process mode with descendants | ratio |${older !== null ? ' older addon, descendants |' : ''}`);
    console.log(`|---|---:|---:|---:|${older !== null ? '---:|' : ''}`);
    for (const row of rows) console.log(row);
  } finally {
    killAll(sleepers);
    process.off('exit', onExit);
    hw.cleanup();
    rmSync(floor.dir, { recursive: true, force: true });
  }
}

await main();
