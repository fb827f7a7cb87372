/**
 * Synthetic stored runs for the report bench and the README screenshot: realistic-looking
 * records (measured RAPL/NVML runs, TDP-estimated laptop runs, a few wall-plug measurements)
 * with power timelines whose last points are the records' energies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_COLUMNS, appendRecord, formatHeader, formatRecordRow } from '../lib/store/index.js';
import { writeTimeline, type TimelineComponent, type TimelineData } from '../lib/timeline/index.js';
import type { ReportRecord } from '../lib/report/index.js';
import { makeRecord } from '../test/store/helpers.js';

const KWH = 3.6e6;

/** A deterministic pseudo-random sequence. */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Profile {
  project: string;
  host: string;
  cpu: string;
  cpuCount: number;
  gpu: string;
  gpuCount: number;
  ramGiB: number;
  cpuW: number;
  gpuW: number;
  ramW: number;
  estimated: boolean;
  wallEvery: number;
}

const PROFILES: Profile[] = [
  { project: 'llm-finetune', host: 'gpu-node-3', cpu: 'AMD EPYC 9354 32-Core Processor', cpuCount: 64, gpu: '1 x NVIDIA H200', gpuCount: 1, ramGiB: 512, cpuW: 160, gpuW: 520, ramW: 38, estimated: false, wallEvery: 0 },
  { project: 'image-classifier', host: 'ws-lab-12', cpu: 'Intel(R) Xeon(R) w5-2455X', cpuCount: 24, gpu: '1 x NVIDIA RTX A5000', gpuCount: 1, ramGiB: 128, cpuW: 95, gpuW: 180, ramW: 12, estimated: false, wallEvery: 3 },
  { project: 'thesis-laptop', host: 'mylaptop', cpu: 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', cpuCount: 8, gpu: '', gpuCount: 0, ramGiB: 16, cpuW: 12, gpuW: 0, ramW: 6, estimated: true, wallEvery: 0 },
];

/** Runs and their timelines (by run id). */
export interface SyntheticStore {
  records: ReportRecord[];
  timelines: Map<string, TimelineData>;
}

function timelineFor(random: () => number, durationS: number, powers: Array<{ component: 'cpu' | 'gpu' | 'ram'; watts: number; method: string }>, points: number, totalJ: number[]): TimelineData {
  const t: number[] = [0];
  for (let index = 1; index < points; index++) t.push(Number(((durationS * index) / (points - 1)).toFixed(6)));
  const components: TimelineComponent[] = powers.map((power, position) => {
    const raw: number[] = [0];
    let level = power.watts * (0.6 + random() * 0.5);
    for (let index = 1; index < points; index++) {
      if (random() < 0.04) level = power.watts * (0.3 + random() * 0.9); // phases: load changes
      const warm = Math.min(1, t[index]! / (durationS * 0.08));
      raw.push(raw.at(-1)! + level * (0.35 + 0.65 * warm) * (0.9 + random() * 0.2) * (t[index]! - t[index - 1]!));
    }
    const scale = totalJ[position]! / raw.at(-1)!;
    const energy = raw.map((value) => Math.round(value * scale * 1e6) / 1e6);
    energy[energy.length - 1] = totalJ[position]!; // the record's energy, exactly
    return { component: power.component, method: power.method, estimated: power.method.startsWith('estimated:'), energy_j: energy };
  });
  return { format: 'lamarr-energy-tracker/timeline', version: 1, start_time: new Date(0).toISOString(), duration_s: durationS, pue: 1, sampling_interval_ms: 1000, t_s: t, components };
}

/**
 * `count` runs spread over the profiles, one per 20 minutes from 2026-09-01, with timelines of
 * up to `maxPoints` points (runs longer than `maxPoints` s have `maxPoints`).
 */
export function syntheticStore(count: number, options: { seed?: number; maxPoints?: number } = {}): SyntheticStore {
  const random = lcg(options.seed ?? 42);
  const records: ReportRecord[] = [];
  const timelines = new Map<string, TimelineData>();
  for (let index = 0; index < count; index++) {
    const profile = PROFILES[index % PROFILES.length]!;
    const durationS = Math.round(60 + random() * random() * 3 * 3600);
    const factor = 0.6 + random() * 0.5;
    const cpuJ = Math.round(profile.cpuW * factor * durationS * 1e6) / 1e6;
    const gpuJ = Math.round(profile.gpuW * factor * durationS * 1e6) / 1e6;
    const ramJ = Math.round(profile.ramW * durationS * 1e6) / 1e6;
    const cpuMethod = profile.estimated ? 'estimated:tdp-load-model' : 'measured:powercap';
    const gpuMethod = profile.gpuCount > 0 ? 'measured:nvml-energy' : 'none:no-gpu';
    const ramMethod = profile.estimated || profile.project === 'image-classifier' ? 'estimated:dimm-model' : 'measured:powercap';
    const energyKwh = (cpuJ + gpuJ + ramJ) / KWH;
    const runId = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
    const record: ReportRecord = makeRecord({
      timestamp: new Date(Date.UTC(2026, 8, 1) + index * 20 * 60_000).toISOString().slice(0, 19),
      project_name: profile.project,
      run_id: runId,
      user: 'alice',
      hostname: profile.host,
      duration: durationS,
      cpu_energy: cpuJ / KWH,
      gpu_energy: gpuJ / KWH,
      ram_energy: ramJ / KWH,
      energy_consumed: energyKwh,
      emissions: (energyKwh * 380) / 1000,
      emissions_rate: (energyKwh * 380) / 1000 / durationS,
      cpu_power: cpuJ / durationS,
      gpu_power: gpuJ / durationS,
      ram_power: ramJ / durationS,
      carbon_intensity: 380,
      cpu_model: profile.cpu,
      cpu_count: profile.cpuCount,
      gpu_model: profile.gpu,
      gpu_count: profile.gpuCount,
      ram_total_size: profile.ramGiB,
      cpu_energy_method: cpuMethod,
      gpu_energy_method: gpuMethod,
      ram_energy_method: ramMethod,
      tracker_version: '0.1.0',
      run_status: 'completed',
    });
    if (profile.wallEvery > 0 && index % (profile.wallEvery * PROFILES.length) === 1) {
      record.wall_energy = energyKwh * (1.25 + random() * 0.15);
      record.wall_energy_method = 'measured:tasmota';
      record.wall_energy_uncertainty = record.wall_energy * 0.02;
    }
    records.push(record);
    const powers: Array<{ component: 'cpu' | 'gpu' | 'ram'; watts: number; method: string }> = [{ component: 'cpu', watts: profile.cpuW, method: cpuMethod }];
    const totals = [cpuJ];
    if (profile.gpuCount > 0) {
      powers.push({ component: 'gpu' as const, watts: profile.gpuW, method: gpuMethod });
      totals.push(gpuJ);
    }
    powers.push({ component: 'ram' as const, watts: profile.ramW, method: ramMethod });
    totals.push(ramJ);
    const points = Math.min(options.maxPoints ?? 2000, Math.max(2, durationS + 1));
    timelines.set(runId, timelineFor(random, durationS, powers, points, totals));
  }
  return { records, timelines };
}

/**
 * Writes the runs as a store (`emissions.csv` and `timelines/`) under `outputDir`: through
 * `appendRecord` (`append`, the default: what the tracker does), or as one file written at once
 * (`bulk`, for thousands of runs: the store's row formatter, as the store bench does).
 */
export function writeSyntheticStore(outputDir: string, store: SyntheticStore, how: 'append' | 'bulk' = 'append'): void {
  mkdirSync(outputDir, { recursive: true });
  if (how === 'append') {
    for (const record of store.records) appendRecord(record, outputDir);
  } else {
    const chunks = [formatHeader(ALL_COLUMNS)];
    for (const record of store.records) chunks.push(formatRecordRow(record));
    writeFileSync(join(outputDir, 'emissions.csv'), chunks.join(''));
  }
  for (const [runId, timeline] of store.timelines) writeTimeline(runId, timeline, { outputDir });
}
