/**
 * Prometheus metrics through prom-client: {@link registerEnergyMetrics} adds the machine's
 * energy, power, emissions, the sampler's health and the energy of tracked runs to a registry;
 * {@link METRIC_SPECS} lists every name and label.
 */
export { registerEnergyMetrics, type EnergyMetrics, type EnergyMetricsOptions } from './register.js';
export {
  MachineEnergyMeter,
  type MachineMeterOptions,
  type MachineSnapshot,
  type DomainLabels,
  type DomainSeries,
  type DomainHealth,
  type Measurement,
} from './machine.js';
export { METRIC_SPECS, DEFAULT_METRIC_PREFIX, metricNames, type MetricSpec, type MetricKey } from './names.js';
