/**
 * The "Using {methodology}" part for tracked runs: which tool wrote the rows, its version, and
 * how each component's energy was obtained. Estimates are always called estimates.
 */
import { TRACKER_VERSION } from '../version.js';
import type { LoadedRecord } from '../store/schema.js';
import { joinAnd } from './hardware.js';

/** Which tool wrote a row. */
export type RecordSource = LoadedRecord['written_by'];

/** The columns the methodology reads. */
export interface MethodologyRecord {
  written_by?: RecordSource;
  tracker_version: string;
  codecarbon_version: string;
  cpu_energy_method: string;
  gpu_energy_method: string;
  ram_energy_method: string;
}

const SENSORS: Readonly<Record<string, string>> = {
  powercap: 'RAPL',
  msr: 'RAPL',
  rapl: 'RAPL',
  'nvml-energy': 'NVML',
  nvml: 'NVML',
};

const MODELS: Readonly<Record<string, string>> = {
  'tdp-load-model': "the CPU's TDP and load",
  'tdp-process-share': "the CPU's TDP and the process's CPU-time share",
  'tdp-constant': "the CPU's TDP",
  'dimm-model': 'a DIMM model',
  'dimm-model-rss-share': "a DIMM model and the process's memory share",
};

/** Words for one `*_energy_method` value, or null when the component was not counted or the method is unknown. */
export function methodPhrase(method: string): string | null {
  const colon = method.indexOf(':');
  if (colon < 0) return null;
  const kind = method.slice(0, colon).trim();
  const details = method
    .slice(colon + 1)
    .split('+')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (kind === 'measured') {
    if (details.length === 1 && details[0] === 'nvml-power') return 'integrated from NVML power readings';
    const sensors = [...new Set(details.map((d) => (d === 'nvml-power' ? 'NVML power readings' : (SENSORS[d] ?? d))))];
    return sensors.length === 0 ? 'measured' : `measured with ${joinAnd(sensors)}`;
  }
  if (kind === 'estimated') {
    // `os-cpus` (lib/tracker/components.ts OS_CPUS) is where the CPU times came from, not a model.
    const models = [...new Set(details.filter((d) => d !== 'os-cpus').map((d) => MODELS[d] ?? d))];
    const origin = details.includes('os-cpus') ? ' (CPU times from os.cpus(), as /proc/stat was missing)' : '';
    return models.length === 0 ? `estimated${origin}` : `estimated from ${joinAnd(models)}${origin}`;
  }
  return null;
}

/** Joins alternatives: "a", "a or b", "a, b or c". */
function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}

/** Infers the writer of a row that does not say: a tracker version means ours. */
export function recordSource(record: MethodologyRecord): RecordSource {
  return record.written_by ?? (record.tracker_version !== '' ? 'lamarr-energy-tracker' : 'codecarbon');
}

/** What a {@link MethodologyCollector} has seen, in order of first appearance (serialisable). */
export interface MethodologyState {
  /** Which writers appeared, first one first. */
  order: ('let' | 'codecarbon')[];
  /** Trimmed `tracker_version` values of our rows ('' when a row left it empty). */
  trackerVersions: string[];
  /** Non-empty trimmed `codecarbon_version` values of other tools' rows. */
  codecarbonVersions: string[];
  /** Raw `*_energy_method` values of our rows, per component. */
  methods: Record<'CPU' | 'GPU' | 'RAM', string[]>;
}

/** Accumulates rows and names the methodology; linear in the rows, constant memory per distinct value. */
export class MethodologyCollector {
  private readonly order: ('let' | 'codecarbon')[] = [];
  private readonly trackerVersions = new Set<string>();
  private readonly codecarbonVersions = new Set<string>();
  private readonly methods: Record<'CPU' | 'GPU' | 'RAM', Set<string>> = { CPU: new Set(), GPU: new Set(), RAM: new Set() };
  private hasTracker = false;
  private hasCodeCarbon = false;
  private lastTrackerVersion: string | undefined;
  private lastCodeCarbonVersion: string | undefined;
  private lastCpu: string | undefined;
  private lastGpu: string | undefined;
  private lastRam: string | undefined;

  /** Adds one row. */
  add(record: MethodologyRecord): void {
    // Per-column "same as the last value seen" checks: rows repeat their values, so most rows
    // add nothing and touch no set.
    if (recordSource(record) === 'lamarr-energy-tracker') {
      if (!this.hasTracker) {
        this.hasTracker = true;
        this.order.push('let');
      }
      const version = record.tracker_version;
      if (version !== this.lastTrackerVersion) {
        this.lastTrackerVersion = version;
        // Kept as written; '' reads as the running version when described.
        this.trackerVersions.add(version.trim());
      }
      const cpu = record.cpu_energy_method;
      if (cpu !== this.lastCpu) {
        this.lastCpu = cpu;
        this.methods.CPU.add(cpu);
      }
      const gpu = record.gpu_energy_method;
      if (gpu !== this.lastGpu) {
        this.lastGpu = gpu;
        this.methods.GPU.add(gpu);
      }
      const ram = record.ram_energy_method;
      if (ram !== this.lastRam) {
        this.lastRam = ram;
        this.methods.RAM.add(ram);
      }
    } else {
      if (!this.hasCodeCarbon) {
        this.hasCodeCarbon = true;
        this.order.push('codecarbon');
      }
      const raw = record.codecarbon_version;
      if (raw !== this.lastCodeCarbonVersion) {
        this.lastCodeCarbonVersion = raw;
        const version = raw.trim();
        if (version !== '') this.codecarbonVersions.add(version);
      }
    }
  }

  /** Adds what `other` has seen, as if its rows came after this collector's. */
  merge(other: MethodologyCollector): void {
    for (const source of other.order) {
      if (source === 'let' && !this.hasTracker) {
        this.hasTracker = true;
        this.order.push('let');
      } else if (source === 'codecarbon' && !this.hasCodeCarbon) {
        this.hasCodeCarbon = true;
        this.order.push('codecarbon');
      }
    }
    for (const v of other.trackerVersions) this.trackerVersions.add(v);
    for (const v of other.codecarbonVersions) this.codecarbonVersions.add(v);
    for (const label of ['CPU', 'GPU', 'RAM'] as const) for (const m of other.methods[label]) this.methods[label].add(m);
  }

  /** What was seen, for serialising. */
  state(): MethodologyState {
    return {
      order: [...this.order],
      trackerVersions: [...this.trackerVersions],
      codecarbonVersions: [...this.codecarbonVersions],
      methods: { CPU: [...this.methods.CPU], GPU: [...this.methods.GPU], RAM: [...this.methods.RAM] },
    };
  }

  /** A collector that has seen what `state` says (validated; `what` names it in errors). */
  static fromState(state: unknown, what = 'methodology'): MethodologyCollector {
    if (state === null || typeof state !== 'object') throw new TypeError(`${what} must be an object`);
    const s = state as Record<string, unknown>;
    const strings = (value: unknown, name: string): string[] => {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TypeError(`${what}.${name} must be an array of strings`);
      return value as string[];
    };
    const order = strings(s.order, 'order');
    if (order.some((o) => o !== 'let' && o !== 'codecarbon') || new Set(order).size !== order.length) {
      throw new TypeError(`${what}.order must list "let" and/or "codecarbon" at most once each, got ${JSON.stringify(order)}`);
    }
    const methods = s.methods;
    if (methods === null || typeof methods !== 'object') throw new TypeError(`${what}.methods must be an object`);
    const m = methods as Record<string, unknown>;
    const collector = new MethodologyCollector();
    for (const source of order as ('let' | 'codecarbon')[]) {
      if (source === 'let') collector.hasTracker = true;
      else collector.hasCodeCarbon = true;
      collector.order.push(source);
    }
    for (const v of strings(s.trackerVersions, 'trackerVersions')) collector.trackerVersions.add(v);
    for (const v of strings(s.codecarbonVersions, 'codecarbonVersions')) collector.codecarbonVersions.add(v);
    for (const label of ['CPU', 'GPU', 'RAM'] as const) for (const v of strings(m[label], `methods.${label}`)) collector.methods[label].add(v);
    return collector;
  }

  /** The methodology phrase, e.g. "the Lamarr Energy Tracker 0.1.0 (CPU energy measured with RAPL, …)". */
  describe(): string {
    const parts = this.order.map((source) => {
      if (source === 'codecarbon') {
        const versions = [...this.codecarbonVersions].sort(compareVersions);
        return versions.length === 0 ? 'CodeCarbon' : `CodeCarbon ${joinAnd(versions)}`;
      }
      const versions = [...new Set([...this.trackerVersions].map((v) => v || TRACKER_VERSION))].sort(compareVersions);
      const components = (['CPU', 'GPU', 'RAM'] as const).flatMap((label) => {
        const phrases = [...new Set([...this.methods[label]].map(methodPhrase).filter((p): p is string => p !== null))];
        if (phrases.length === 0) return [];
        if (phrases.length === 1) return [`${label} energy ${phrases[0]!}`];
        if (phrases.length === 2) return [`${label} energy ${phrases[0]!} in some runs and ${phrases[1]!} in others`];
        return [`${label} energy ${joinOr(phrases)}, depending on the run`];
      });
      const name = `the Lamarr Energy Tracker ${joinAnd(versions)}`;
      // Semicolons keep the components apart when one of them contains a comma.
      const separator = components.some((c) => c.includes(',')) ? '; ' : ', ';
      return components.length === 0 ? name : `${name} (${components.join(separator)})`;
    });
    return joinAnd(parts);
  }
}

/** Orders dotted versions numerically ("2.8.0" before "3.0.8" before "3.10.0"). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+]/);
  const pb = b.split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff = Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== '' ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (diff !== 0) return diff;
  }
  return 0;
}
