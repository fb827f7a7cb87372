import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmissionsRecord } from '../../lib/store/schema.js';

/** Directory of the real CodeCarbon files (read-only; copy them before use). */
export const SAMPLES_DIR = new URL('../fixtures/codecarbon-samples/', import.meta.url).pathname;

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'let-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A complete record as the tracker writes it, with overrides. */
export function makeRecord(overrides: Partial<EmissionsRecord> = {}): EmissionsRecord {
  const project = overrides.project_name ?? 'demo';
  const user = overrides.user ?? 'alice';
  const hostname = overrides.hostname ?? 'node1';
  return {
    timestamp: '2026-11-29T10:00:00',
    project_name: project,
    run_id: '00000000-0000-4000-8000-000000000000',
    experiment_id: `${project}___${user}___${hostname}`,
    duration: 12.5,
    emissions: 0.00123,
    emissions_rate: 0.0000984,
    cpu_power: 42.5,
    gpu_power: 0,
    ram_power: 10,
    cpu_energy: 0.0021,
    gpu_energy: 0,
    ram_energy: 0.0004,
    energy_consumed: 0.0025,
    water_consumed: 0,
    country_name: 'Germany',
    country_iso_code: 'DEU',
    region: '',
    cloud_provider: '',
    cloud_region: '',
    os: 'Linux-6.8.0-x86_64',
    python_version: '',
    codecarbon_version: '',
    cpu_count: 16,
    cpu_model: 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz',
    gpu_count: 0,
    gpu_model: '',
    longitude: -8.61,
    latitude: 41.15,
    ram_total_size: 31.2,
    tracking_mode: 'machine',
    cpu_utilization_percent: 55.5,
    gpu_utilization_percent: null,
    ram_utilization_percent: 40,
    ram_used_gb: 12.1,
    on_cloud: 'N',
    pue: 1,
    wue: 0,
    hostname,
    user,
    tracker_version: '0.1.0',
    cpu_energy_method: 'measured:powercap',
    gpu_energy_method: 'none:no-gpu',
    ram_energy_method: 'estimated:dimm-model',
    carbon_intensity: 380.95,
    run_status: 'completed',
    wall_energy: null,
    wall_energy_method: '',
    wall_energy_uncertainty: null,
    ...overrides,
  };
}

/** The record part of a loaded record (without source_file, source_line, written_by). */
export function stripSource<T extends { source_file?: unknown; source_line?: unknown; written_by?: unknown }>(
  rec: T,
): Omit<T, 'source_file' | 'source_line' | 'written_by'> {
  const { source_file: _f, source_line: _l, written_by: _w, ...rest } = rec;
  return rest;
}
