/**
 * A store for the report tests, made by real trackers on simulated hardware: measured runs
 * (RAPL counters), estimated runs (no readable counter: TDP and DIMM models), a run saved
 * without a timeline, and one measured run given wall-plug ground truth.
 *
 * The ground-truth fields (`wall_energy`, …) are added to the loaded record here, as the
 * store returns them once wall-plug measurement is merged; the report reads them from any record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { loadResults } from '../../lib/store/index.js';
import type { ReportRecord } from '../../lib/report/index.js';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReportFixture {
  outputDir: string;
  /** The runs as loadResults returns them, the ground-truth run with its wall-plug fields. */
  records: ReportRecord[];
  measuredRunId: string;
  estimatedRunId: string;
  wallRunId: string;
  noTimelineRunId: string;
  cleanup(): void;
}

/** Builds the store (about 1.5 s of tracked runs). */
export async function buildReportFixture(): Promise<ReportFixture> {
  const outputDir = mkdtempSync(join(tmpdir(), 'let-report-'));
  const { hw, packages, drams } = intelServer(2, 2);
  const estimatedHw = FakeHardware.create();
  try {
    const measured = { hardwareRoot: hw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 5, projectName: 'gpu-free-training' };
    const runIds: string[] = [];
    for (let run = 0; run < 3; run++) {
      const tracker = new EnergyTracker(measured).start();
      for (let step = 0; step < 6; step++) {
        packages[0]!.addJoules(2 + run + step * 0.5);
        packages[1]!.addJoules(1.5 + step * 0.25);
        drams[0]!.addJoules(0.4 + step * 0.05);
        drams[1]!.addJoules(0.3);
        await sleep(25);
      }
      runIds.push(tracker.stop().run_id);
    }
    const untimed = new EnergyTracker({ ...measured, timeline: false }).start();
    packages[0]!.addJoules(4);
    const noTimelineRunId = untimed.stop().run_id;

    estimatedHw.cpuinfo('GenuineIntel', 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 8).procStat(8);
    estimatedHw.process(estimatedHw.selfPid, { ppid: 1 });
    const estimated = { hardwareRoot: estimatedHw.root, nvmlLibrary: '', outputDir, printSummary: false, samplingIntervalMs: 10, projectName: 'laptop <estimates> & co' };
    let estimatedRunId = '';
    for (let run = 0; run < 2; run++) {
      const tracker = new EnergyTracker(estimated).start();
      await sleep(80);
      estimatedHw.advanceCpu(600, 200);
      await sleep(80);
      estimatedHw.advanceCpu(100, 700);
      await sleep(80);
      estimatedRunId = tracker.stop().run_id;
    }

    const records: ReportRecord[] = loadResults({ outputDir });
    const wallRunId = runIds[1]!;
    const wallRecord = records.find((record) => record.run_id === wallRunId)!;
    wallRecord.wall_energy = (wallRecord.energy_consumed ?? 0) * 1.37;
    wallRecord.wall_energy_method = 'measured:tasmota';
    wallRecord.wall_energy_uncertainty = (wallRecord.energy_consumed ?? 0) * 0.05;
    return {
      outputDir,
      records,
      measuredRunId: runIds[2]!,
      estimatedRunId,
      wallRunId,
      noTimelineRunId,
      cleanup: () => rmSync(outputDir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(outputDir, { recursive: true, force: true });
    throw error;
  } finally {
    hw.cleanup();
    estimatedHw.cleanup();
  }
}
