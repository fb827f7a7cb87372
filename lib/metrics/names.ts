/**
 * The Prometheus metrics this package exports: names, types, help texts and label names. This
 * list is the contract with dashboards (docs/grafana/lamarr-energy-tracker.json is checked
 * against it) and with the README's table.
 *
 * Conventions: base units (joules, watts, grams, seconds) in the name, `_total` on counters,
 * low-cardinality labels only (a machine has a handful of domains; projects are few).
 * Every series carries `measurement`: `measured` (a hardware counter) or `estimated` (a model).
 */

/** Labels of one series of the machine's energy and power. */
export const DOMAIN_LABELS = ['component', 'device', 'domain', 'method', 'measurement', 'scope'] as const;
/** Labels of the sampler's per-domain trouble counters. */
export const HEALTH_LABELS = ['device', 'domain', 'method', 'measurement'] as const;
/** Labels of the energy of tracked runs. */
export const TRACKED_LABELS = ['project', 'component', 'measurement'] as const;

/** How one metric is exported. */
export interface MetricSpec {
  /** Name without the prefix (default prefix `let_`). */
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly labels: readonly string[];
}

/** Every metric, in exposition order (names without the prefix). */
export const METRIC_SPECS = {
  energy: {
    name: 'energy_joules_total',
    type: 'counter',
    help: 'Energy since the exporter started, per component (cpu, ram, gpu) and domain, in joules (PUE not applied); scope="process": this process\'s share.',
    labels: DOMAIN_LABELS,
  },
  power: {
    name: 'power_watts',
    type: 'gauge',
    help: 'Mean power per component and domain between the last two collections (at least half a second apart), in watts.',
    labels: DOMAIN_LABELS,
  },
  emissions: {
    name: 'emissions_grams_total',
    type: 'counter',
    help: 'Emissions since the exporter started, per component, in grams of CO2eq (energy x PUE x carbon intensity).',
    labels: ['component', 'measurement', 'scope'],
  },
  carbonIntensity: {
    name: 'carbon_intensity_grams_per_kwh',
    type: 'gauge',
    help: 'Carbon intensity used for the emissions, in gCO2eq/kWh (a yearly country average, hence estimated).',
    labels: ['country_iso_code', 'measurement'],
  },
  samples: {
    name: 'sampler_samples_total',
    type: 'counter',
    help: 'Samples taken by the native sampler since it opened.',
    labels: ['measurement'],
  },
  readErrors: {
    name: 'sampler_read_errors_total',
    type: 'counter',
    help: 'Failed or unparsable counter reads per domain (each skipped, the energy counted at the next good read).',
    labels: HEALTH_LABELS,
  },
  anomalies: {
    name: 'sampler_anomalies_total',
    type: 'counter',
    help: 'Counter deltas discarded as physically impossible, per domain.',
    labels: HEALTH_LABELS,
  },
  wraps: {
    name: 'sampler_wraps_total',
    type: 'counter',
    help: 'Counter wraps handled, per domain.',
    labels: HEALTH_LABELS,
  },
  resets: {
    name: 'sampler_resets_total',
    type: 'counter',
    help: 'Counter resets seen (a driver reload), per domain.',
    labels: HEALTH_LABELS,
  },
  samplerUp: {
    name: 'sampler_up',
    type: 'gauge',
    help: 'Whether the sampling thread runs (1) or not (0); measurement="estimated" when the native addon could not be loaded.',
    labels: ['measurement'],
  },
  samplerInterval: {
    name: 'sampler_interval_seconds',
    type: 'gauge',
    help: 'Effective sampling interval of the native sampler, in seconds.',
    labels: ['measurement'],
  },
  trackedEnergy: {
    name: 'tracked_energy_joules_total',
    type: 'counter',
    help: 'Energy of the runs tracked by EnergyTracker in this process since the exporter started, per project and component, in joules as stored (PUE applied).',
    labels: TRACKED_LABELS,
  },
  trackedEmissions: {
    name: 'tracked_emissions_grams_total',
    type: 'counter',
    help: 'Emissions of the runs tracked in this process, per project and component, in grams of CO2eq.',
    labels: TRACKED_LABELS,
  },
  trackedRuns: {
    name: 'tracked_runs_total',
    type: 'counter',
    help: 'Runs tracked in this process, per project and status; measurement="measured" when every counted component was measured.',
    labels: ['project', 'status', 'measurement'],
  },
} as const satisfies Record<string, MetricSpec>;

/** The key of a metric in {@link METRIC_SPECS}. */
export type MetricKey = keyof typeof METRIC_SPECS;

/** Default metric name prefix. */
export const DEFAULT_METRIC_PREFIX = 'let_';

/** Every exported metric name with `prefix`, in exposition order. */
export function metricNames(prefix: string = DEFAULT_METRIC_PREFIX): string[] {
  return Object.values(METRIC_SPECS).map((spec) => `${prefix}${spec.name}`);
}
