/**
 * Energy metrics in a prom-client registry: the whole machine's energy, power and emissions,
 * the sampler's health, and the energy of the runs this process's trackers finish.
 *
 * ```ts
 * import { register } from 'prom-client';
 * import { registerEnergyMetrics } from 'lamarr-energy-tracker';
 * registerEnergyMetrics({ registry: register }); // your /metrics now includes let_energy_joules_total, …
 * ```
 *
 * Every collection takes one fresh reading of the counters, shared by all metrics of that
 * collection (the registry collects its metrics synchronously one after the other; the reading
 * is dropped once the current turn of the event loop ends).
 */
import { rejectUnknownOptions } from '../options-check.js';
import type { Counter, Gauge, Registry } from 'prom-client';
import { promClient } from './prom-client.js';
import type { EmissionsRecord } from '../store/schema.js';
import { onRunStopped } from '../tracker/run-events.js';
import { MACHINE_METER_OPTIONS, MachineEnergyMeter, type MachineMeterOptions, type MachineSnapshot } from './machine.js';
import { DEFAULT_METRIC_PREFIX, METRIC_SPECS, type MetricKey } from './names.js';

/** Options of {@link registerEnergyMetrics}. */
export interface EnergyMetricsOptions extends MachineMeterOptions {
  /** The registry to add the metrics to. Default: prom-client's default registry (`register`). */
  registry?: Registry;
  /** Prefix of every metric name. Default `let_`. */
  prefix?: string;
}

/** Handle on registered energy metrics. */
export interface EnergyMetrics {
  /** The registry the metrics are in. */
  readonly registry: Registry;
  /** The names of the registered metrics. */
  readonly metricNames: readonly string[];
  /** A fresh reading of the machine (what the next collection would show). */
  snapshot(): MachineSnapshot;
  /** Remove the metrics from the registry, stop counting tracked runs, give the sampler back. Idempotent. */
  close(): void;
}

const JOULES_PER_KWH = 3.6e6;
type Labels = Record<string, string>;
type AnyMetric = Counter<string> | Gauge<string>;

function measurementOfRecord(record: Readonly<EmissionsRecord>): 'measured' | 'estimated' {
  const methods = [record.cpu_energy_method, record.gpu_energy_method, record.ram_energy_method];
  return methods.every((method) => !method.startsWith('estimated:')) ? 'measured' : 'estimated';
}

/** Cumulative totals of tracked runs, kept as exact sums per label set. */
class TrackedTotals {
  readonly energy = new Map<string, { labels: Labels; value: number }>();
  readonly emissions = new Map<string, { labels: Labels; value: number }>();
  readonly runs = new Map<string, { labels: Labels; value: number }>();

  private static add(map: Map<string, { labels: Labels; value: number }>, labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    const entry = map.get(key);
    if (entry === undefined) map.set(key, { labels, value });
    else entry.value += value;
  }

  add(record: Readonly<EmissionsRecord>): void {
    const project = record.project_name;
    const total = record.energy_consumed ?? 0;
    const parts = [
      ['cpu', record.cpu_energy, record.cpu_energy_method],
      ['gpu', record.gpu_energy, record.gpu_energy_method],
      ['ram', record.ram_energy, record.ram_energy_method],
    ] as const;
    for (const [component, kwh, method] of parts) {
      if (method.startsWith('none:') || method === '') continue;
      const measurement = method.startsWith('measured:') ? 'measured' : 'estimated';
      const labels = { project, component, measurement };
      TrackedTotals.add(this.energy, labels, (kwh ?? 0) * JOULES_PER_KWH);
      const grams = total > 0 ? ((record.emissions ?? 0) * 1000 * (kwh ?? 0)) / total : 0;
      TrackedTotals.add(this.emissions, labels, grams);
    }
    TrackedTotals.add(this.runs, { project, status: record.run_status || 'completed', measurement: measurementOfRecord(record) }, 1);
  }
}

/**
 * Add the energy metrics to a prom-client registry (default: prom-client's default registry)
 * and start sampling the machine. Names and labels: see the README's "Prometheus metrics".
 *
 * @throws TypeError/RangeError for a bad option (naming it); prom-client's error when a metric
 *   of the same name is already in the registry (register once per registry, or `close()` first).
 */
export function registerEnergyMetrics(options: EnergyMetricsOptions = {}): EnergyMetrics {
  rejectUnknownOptions('registerEnergyMetrics', options, ['registry', 'prefix', ...MACHINE_METER_OPTIONS]);
  const { Counter, Gauge, register: defaultRegistry } = promClient();
  const { registry = defaultRegistry, prefix = DEFAULT_METRIC_PREFIX, ...meterOptions } = options;
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function') {
    throw new TypeError('option registry must be a prom-client Registry');
  }
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new RangeError(`option prefix must be empty or a valid metric name prefix such as "let_", got ${JSON.stringify(prefix)}`);
  }
  const meter = new MachineEnergyMeter(meterOptions);
  const tracked = new TrackedTotals();
  // A reading that fails (the sampler closed under us) must not fail the registry's whole
  // exposition, which in a service holds the service's own metrics: serve the last values, with
  // let_sampler_up 0, and warn once.
  let lastGood: MachineSnapshot;
  try {
    lastGood = meter.read();
  } catch (error) {
    meter.close();
    throw error;
  }
  let warned = false;
  let cached: MachineSnapshot | null = null;
  const current = (): MachineSnapshot => {
    if (cached === null) {
      try {
        cached = lastGood = meter.read();
      } catch (error) {
        if (!warned) {
          warned = true;
          process.emitWarning(
            `lamarr-energy-tracker: the energy metrics could not read the counters (${(error as Error)?.message ?? String(error)}); serving the last values with let_sampler_up 0`,
            { code: 'LET_METRICS_READ_FAILED' },
          );
        }
        cached = { ...lastGood, sampler: { ...lastGood.sampler, up: false } };
      }
      setImmediate(() => {
        cached = null;
      });
    }
    return cached;
  };

  const metrics = new Map<MetricKey, AnyMetric>();
  const set = (key: MetricKey, values: Iterable<{ labels: Labels; value: number }>) => {
    const metric = metrics.get(key)!;
    metric.reset();
    for (const { labels, value } of values) {
      if (metric instanceof Counter) metric.inc(labels, value);
      else metric.set(labels, value);
    }
  };
  const collectors: Record<MetricKey, () => void> = {
    energy: () => set('energy', current().series.map((s) => ({ labels: { ...s.labels }, value: s.joules }))),
    power: () => set('power', current().series.map((s) => ({ labels: { ...s.labels }, value: s.watts }))),
    emissions: () => set('emissions', current().emissions.map(({ component, measurement, scope, grams }) => ({ labels: { component, measurement, scope }, value: grams }))),
    carbonIntensity: () => {
      const { carbon } = current();
      set('carbonIntensity', [{ labels: { country_iso_code: carbon.countryIsoCode, measurement: 'estimated' }, value: carbon.gramsPerKwh }]);
    },
    samples: () => set('samples', [{ labels: { measurement: current().sampler.measurement }, value: current().sampler.samples }]),
    readErrors: () => set('readErrors', current().sampler.domains.map((d) => ({ labels: { ...d.labels }, value: d.readErrors }))),
    anomalies: () => set('anomalies', current().sampler.domains.map((d) => ({ labels: { ...d.labels }, value: d.anomalies }))),
    wraps: () => set('wraps', current().sampler.domains.map((d) => ({ labels: { ...d.labels }, value: d.wraps }))),
    resets: () => set('resets', current().sampler.domains.map((d) => ({ labels: { ...d.labels }, value: d.resets }))),
    samplerUp: () => set('samplerUp', [{ labels: { measurement: current().sampler.measurement }, value: current().sampler.up ? 1 : 0 }]),
    samplerInterval: () => set('samplerInterval', [{ labels: { measurement: current().sampler.measurement }, value: current().sampler.intervalS }]),
    trackedEnergy: () => set('trackedEnergy', tracked.energy.values()),
    trackedEmissions: () => set('trackedEmissions', tracked.emissions.values()),
    trackedRuns: () => set('trackedRuns', tracked.runs.values()),
  };

  const names: string[] = [];
  try {
    for (const [key, spec] of Object.entries(METRIC_SPECS) as Array<[MetricKey, (typeof METRIC_SPECS)[MetricKey]]>) {
      const name = `${prefix}${spec.name}`;
      const collect = collectors[key];
      const config = { name, help: spec.help, labelNames: [...spec.labels], registers: [registry], collect };
      metrics.set(key, spec.type === 'counter' ? new Counter(config) : new Gauge(config));
      names.push(name);
    }
  } catch (error) {
    for (const name of names) registry.removeSingleMetric(name);
    meter.close();
    throw error;
  }
  const stopListening = onRunStopped((record) => tracked.add(record));
  let closed = false;
  return {
    registry,
    metricNames: names,
    snapshot: () => meter.read(),
    close: () => {
      if (closed) return;
      closed = true;
      stopListening();
      for (const name of names) registry.removeSingleMetric(name);
      meter.close();
    },
  };
}
