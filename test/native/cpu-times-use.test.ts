import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { openSampler, sleep } from '../fixtures/native-helpers.js';
import type { NativeSampler } from '../../lib/native/types.js';

/** Wait until the sampling thread has taken `n` more samples (fails after 5 s). */
async function ticks(s: NativeSampler, n: number): Promise<void> {
  const until = s.stats().samples + n;
  for (let i = 0; i < 500 && s.stats().samples < until; i++) await sleep(10);
  expect(s.stats().samples).to.be.at.least(until);
}

/** Poll latest() until `value(latest)` equals `want` (fails after 3 s with the last value). */
async function settles(s: NativeSampler, value: (r: ReturnType<NativeSampler['latest']>) => number, want: number): Promise<void> {
  let last = Number.NaN;
  for (let i = 0; i < 300; i++) {
    last = value(s.latest());
    if (Math.abs(last - want) < 1e-9) return;
    await sleep(10);
  }
  expect(last).to.be.closeTo(want, 1e-9);
}

// The sampling thread reads CPU times only where a holder needs them (acquire's cpuTimes).
describe('native sampler: CPU times read per holder needs', () => {
  let hw: FakeHardware;
  afterEach(() => hw?.cleanup());

  it('a holder that needs no CPU times: ticks read neither proc/stat nor the process stat', async () => {
    const m = intelServer(1, 2);
    hw = m.hw;
    const s = openSampler(hw.root);
    try {
      const token = s.acquire(1, { machine: false, process: false });
      const r0 = s.read();
      hw.advanceCpu(100, 100);
      hw.advanceProcess(hw.selfPid, 50);
      m.packages[0]!.add(1000);
      await ticks(s, 20);
      const l = s.latest();
      expect(l.energyUj[0]! - r0.energyUj[0]!).to.equal(1000); // the ticks read the counters …
      expect(l.cpu).to.deep.equal(r0.cpu); // … and no CPU times
      // A proc/stat that could not be parsed: reading it would make cpu.available false.
      writeFileSync(hw.path('proc/stat'), 'garbage\n');
      await ticks(s, 20);
      expect(s.latest().cpu.available).to.equal(true);
      expect(s.read().cpu.available).to.equal(false); // a fresh read reads it, and sees the garbage
      s.release(token);
    } finally {
      s.close();
    }
  });

  it('machine times for a load estimate, both for attribution, each only while a holder needs them', async () => {
    const m = intelServer(1, 2);
    hw = m.hw;
    const s = openSampler(hw.root);
    try {
      const machineOnly = s.acquire(1, { machine: true, process: false });
      const r0 = s.read();
      hw.advanceCpu(100, 100);
      hw.advanceProcess(hw.selfPid, 50);
      await settles(s, (r) => r.cpu.machineTotalS - r0.cpu.machineTotalS, 2);
      await ticks(s, 20);
      expect(s.latest().cpu.processS).to.equal(r0.cpu.processS);
      expect(s.latest().cpu.loadModelS).to.be.greaterThan(r0.cpu.loadModelS);
      const both = s.acquire(5, { machine: true, process: true });
      await settles(s, (r) => r.cpu.processS - r0.cpu.processS, 0.5);
      s.release(both);
      s.release(machineOnly);
      const none = s.acquire(1, { machine: false, process: false });
      const r1 = s.read();
      hw.advanceCpu(10, 0);
      await ticks(s, 20);
      expect(s.latest().cpu).to.deep.equal(r1.cpu);
      s.release(none);
    } finally {
      s.close();
    }
  });
});

// Process attribution with descendants follows the tree incrementally on ticks and is exact at
// fresh reads, with the kernel's tree files (loadavg, children, status) and without (a scan).
for (const kernelFiles of [true, false]) {
  describe(`native sampler: descendants followed while sampling (${kernelFiles ? 'loadavg and children files' : 'proc scan'})`, () => {
    let hw: FakeHardware;
    afterEach(() => hw?.cleanup());

    it('counts descendants that appear, run, fork and exit mid-run, once each, and no threads or strangers', async function () {
    // Waits for the sampling thread with a 3 s limit: two more tries on a starved machine.
    this.retries(2);
      hw = FakeHardware.create({ selfPid: 100 });
      hw.cpuinfo('GenuineIntel', 'x', 1).procStat(1);
      hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
      hw.process(100, { ppid: 1 });
      hw.process(200, { ppid: 1, utime: 10 }); // the tracked root
      hw.process(300, { ppid: 1, utime: 1000 }); // a stranger
      if (kernelFiles) hw.kernelProcTree();
      const s = openSampler(hw.root, { attributionPid: 200, includeDescendants: true });
      const processS = (r: ReturnType<NativeSampler['latest']>): number => r.cpu.processS;
      try {
        const token = s.acquire(1, { machine: true, process: true });
        const p0 = s.read().cpu.processS;
        expect(p0).to.be.closeTo(0.1, 1e-12);

        hw.process(310, { ppid: 200 }); // a child appears (pids rise, as the kernel hands them out) …
        await ticks(s, 5);
        hw.advanceCpu(10, 0).advanceProcess(310, 40); // … and runs
        await settles(s, processS, 0.5);

        hw.thread(310, 311).process(312, { ppid: 310, parentTid: 311, utime: 5 }); // forked by a thread of the child
        hw.advanceProcess(312, 20);
        await settles(s, processS, 0.75);

        hw.thread(200, 313).thread(310, 314); // threads are not processes: nothing new to count
        hw.advanceProcess(300, 500).advanceCpu(10, 0);
        await ticks(s, 30);
        expect(processS(s.latest())).to.be.closeTo(0.75, 1e-9);

        hw.reap(312); // the grandchild exits: its time moves into the child's cutime, counted once
        await ticks(s, 30);
        await settles(s, processS, 0.75);

        hw.process(315, { ppid: 200, utime: 30 }).reap(315); // runs and exits between two ticks
        await settles(s, processS, 1.05);

        hw.advanceProcess(310, 15);
        await settles(s, processS, 1.2);
        hw.reap(310); // the child exits: 0.55 s into the root's cutime
        await settles(s, processS, 1.2);
        expect(s.read().cpu.processS).to.be.closeTo(1.2, 1e-9);
        s.release(token);
      } finally {
        s.close();
      }
    });

    if (kernelFiles) {
      it('a child whose pid was handed out before its proc entry appeared is found on a later tick', async function () {
        // Waits for the sampling thread with a 3 s limit: two more tries on a starved machine.
        this.retries(2);
        hw = FakeHardware.create({ selfPid: 100 });
        hw.cpuinfo('GenuineIntel', 'x', 1).procStat(1);
        hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
        hw.process(100, { ppid: 1 });
        hw.process(200, { ppid: 1, utime: 10 }).kernelProcTree();
        const s = openSampler(hw.root, { attributionPid: 200, includeDescendants: true });
        const processS = (r: ReturnType<NativeSampler['latest']>): number => r.cpu.processS;
        try {
          // 50 ms ticks: the child appears well within the 3 ticks a pid not readable yet is retried.
          const token = s.acquire(50, { machine: true, process: true });
          expect(s.read().cpu.processS).to.be.closeTo(0.1, 1e-12);
          hw.allocatePid(320); // the cursor moves, proc/320 does not exist yet …
          await ticks(s, 2); // … a tick looks at 320 and cannot read it
          hw.process(320, { ppid: 200, utime: 40 }); // now it is there; the cursor stays at 320
          hw.advanceCpu(10, 0);
          await settles(s, processS, 0.5); // only a retry can find it before the next fresh read
          expect(s.read().cpu.processS).to.be.closeTo(0.5, 1e-9);
          s.release(token);
        } finally {
          s.close();
        }
      });
    }
  });
}
