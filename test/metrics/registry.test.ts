/**
 * registerEnergyMetrics: a service's own prom-client registry serves its metrics and ours
 * together; the default registry; tracked runs per project; estimated machines; bad options.
 */
import { expect } from 'chai';
import { CPU_LOAD_MODEL } from '../../lib/estimate/cpu-power.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry, register as defaultRegistry } from 'prom-client';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { registerEnergyMetrics, metricNames, METRIC_SPECS, type EnergyMetrics } from '../../lib/metrics/index.js';
import { acquireSampler, closeIdleSamplers } from '../../lib/native/sampler-pool.js';
import { EnergyTracker } from '../../lib/tracker/energy-tracker.js';
import { FakeNvml, NVML, nowNs } from '../fixtures/fake-nvml.js';

/** One sample of an exposition: name, labels, value. */
interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse the samples of a Prometheus text exposition (enough for prom-client's output). */
function parseExposition(text: string): ExpositionSample[] {
  const samples: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function find(samples: ExpositionSample[], name: string, labels: Record<string, string> = {}): ExpositionSample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

describe('metrics: prom-client registries', function () {
  this.timeout(30000);
  let hw: FakeHardware | null = null;
  let metrics: EnergyMetrics | null = null;
  let server: Server | null = null;
  afterEach(async () => {
    metrics?.close();
    metrics = null;
    if (server !== null) await new Promise((resolve) => server!.close(resolve));
    server = null;
    closeIdleSamplers();
    hw?.cleanup();
    hw = null;
  });

  it("a service's own registry serves its metrics and ours together on its /metrics", async () => {
    const machine = intelServer(2, 2);
    hw = machine.hw;
    // The service: its own registry, its own metrics, its own /metrics endpoint.
    const registry = new Registry();
    const requests = new Counter({ name: 'http_requests_total', help: 'Requests served.', labelNames: ['route'], registers: [registry] });
    const latency = new Histogram({ name: 'http_request_duration_seconds', help: 'Latency.', buckets: [0.1, 1], registers: [registry] });
    server = createServer((request, response) => {
      requests.inc({ route: request.url ?? '/' });
      latency.observe(0.05);
      registry.metrics().then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

    // The one line.
    metrics = registerEnergyMetrics({ registry, hardwareRoot: hw.root, nvmlLibrary: '' });

    machine.packages[0]!.add(12_345_678);
    machine.packages[1]!.add(1_000_001);
    machine.drams[1]!.add(250_000);
    const response = await fetch(url);
    expect(response.headers.get('content-type')).to.equal(registry.contentType);
    const samples = parseExposition(await response.text());
    expect(find(samples, 'http_requests_total', { route: '/metrics' })[0]!.value).to.equal(1);
    expect(find(samples, 'http_request_duration_seconds_count')[0]!.value).to.equal(1);
    const energy = (component: string, device: string) =>
      find(samples, 'let_energy_joules_total', { component, device, measurement: 'measured', method: 'powercap' }).map((s) => s.value);
    expect(energy('cpu', 'socket0')).to.deep.equal([12.345678]);
    expect(energy('cpu', 'socket1')).to.deep.equal([1.000001]);
    expect(energy('ram', 'socket0')).to.deep.equal([0]);
    expect(energy('ram', 'socket1')).to.deep.equal([0.25]);
    // Sub-zones (core) are not components: the cpu series sum to the machine's CPU energy.
    expect(find(samples, 'let_energy_joules_total', { domain: 'core' })).to.have.length(0);
    expect(find(samples, 'let_sampler_read_errors_total', { domain: 'core' })).to.have.length(2);
    // Every series of ours carries the measured/estimated label.
    const ours = samples.filter((s) => s.name.startsWith('let_'));
    expect(ours.length).to.be.greaterThan(10);
    for (const sample of ours) expect(['measured', 'estimated'], `${sample.name} ${JSON.stringify(sample.labels)}`).to.include(sample.labels.measurement);
    // Every name we document is registered, and nothing else.
    const registered = registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith('let_'));
    expect(registered).to.deep.equal(metricNames());
    expect(metrics.metricNames).to.deep.equal(metricNames());
    // A second scrape sees the counters grow by exactly what was injected since.
    machine.packages[0]!.add(1);
    const again = parseExposition(await (await fetch(url)).text());
    expect(find(again, 'let_energy_joules_total', { device: 'socket0', component: 'cpu' })[0]!.value).to.equal(12.345679);
    expect(find(again, 'http_requests_total', { route: '/metrics' })[0]!.value).to.equal(2);
  });

  it('uses prom-client\'s default registry when none is given; close() removes the metrics and frees the names', async () => {
    hw = intelServer(1, 1).hw;
    metrics = registerEnergyMetrics({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(metrics.registry).to.equal(defaultRegistry);
    expect(await defaultRegistry.metrics()).to.include('let_energy_joules_total{');
    expect(() => registerEnergyMetrics({ hardwareRoot: hw!.root, nvmlLibrary: '' })).to.throw(/already been registered/);
    metrics.close();
    metrics.close();
    expect(await defaultRegistry.metrics()).to.not.include('let_');
    metrics = registerEnergyMetrics({ hardwareRoot: hw.root, nvmlLibrary: '', prefix: 'lab_' });
    expect(defaultRegistry.getSingleMetric('lab_energy_joules_total')).to.not.equal(undefined);
  });

  it('counts the energy of runs tracked in this process per project and component, as stored', async () => {
    const machine = intelServer(1, 1);
    hw = machine.hw;
    const registry = new Registry();
    metrics = registerEnergyMetrics({ registry, hardwareRoot: hw.root, nvmlLibrary: '' });
    const options = { save: false, printSummary: false, hardwareRoot: hw.root, nvmlLibrary: '' };
    const records = [];
    for (const [project, joules] of [['alpha', 3], ['beta', 5], ['alpha', 7]] as const) {
      const tracker = new EnergyTracker({ ...options, projectName: project }).start();
      machine.packages[0]!.addJoules(joules);
      records.push(tracker.stop());
    }
    const failing = new EnergyTracker({ ...options, projectName: 'beta' });
    await failing.track(() => machine.packages[0]!.addJoules(1)).catch(() => undefined);
    await failing.track(() => {
      throw new Error('boom');
    }).catch(() => undefined);
    const samples = parseExposition(await registry.metrics());
    const tracked = (project: string, component: string) =>
      find(samples, 'let_tracked_energy_joules_total', { project, component }).map((s) => [s.labels.measurement, s.value]);
    expect(tracked('alpha', 'cpu')).to.deep.equal([['measured', records[0]!.cpu_energy! * 3.6e6 + records[2]!.cpu_energy! * 3.6e6]]);
    expect((tracked('alpha', 'cpu')[0]![1] as number)).to.be.closeTo(10, 1e-9);
    expect((tracked('beta', 'cpu')[0]![1] as number)).to.be.closeTo(6, 1e-9);
    expect(tracked('alpha', 'ram')[0]![0]).to.equal('measured'); // DRAM zone present
    expect(find(samples, 'let_tracked_energy_joules_total', { component: 'gpu' })).to.have.length(0); // none:no-gpu
    const runs = find(samples, 'let_tracked_runs_total').map((s) => [s.labels.project, s.labels.status, s.labels.measurement, s.value]);
    expect(runs).to.deep.include.members([
      ['alpha', 'completed', 'measured', 2],
      ['beta', 'completed', 'measured', 2],
      ['beta', 'failed', 'measured', 1],
    ]);
    const grams = find(samples, 'let_tracked_emissions_grams_total', { project: 'alpha', component: 'cpu' })[0]!.value;
    expect(grams).to.be.closeTo((records[0]!.emissions! + records[2]!.emissions!) * 1000 - find(samples, 'let_tracked_emissions_grams_total', { project: 'alpha', component: 'ram' })[0]!.value, 1e-12);
    // After close(), runs are no longer counted (and nothing throws).
    metrics.close();
    metrics = null;
    new EnergyTracker({ ...options, projectName: 'gamma' }).start().stop();
  });

  it('a machine without counters: CPU and RAM from the models, labelled estimated', async () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 4).procStat(4);
    hw.process(hw.selfPid, { ppid: 1, utime: 0, stime: 0 });
    const registry = new Registry();
    metrics = registerEnergyMetrics({ registry, hardwareRoot: hw.root, nvmlLibrary: '', minPowerWindowMs: 0 });
    hw.advanceCpu(200, 200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const samples = parseExposition(await registry.metrics());
    const series = find(samples, 'let_energy_joules_total').map((s) => [s.labels.component, s.labels.method, s.labels.measurement, s.labels.device, s.labels.domain]);
    expect(series).to.deep.equal([
      ['cpu', 'tdp-load-model', 'estimated', 'machine', 'model'],
      ['ram', 'dimm-model', 'estimated', 'machine', 'model'],
    ]);
    for (const sample of find(samples, 'let_energy_joules_total')) expect(sample.value).to.be.greaterThan(0);
    expect(find(samples, 'let_emissions_grams_total').map((s) => s.labels.measurement)).to.deep.equal(['estimated', 'estimated']);
  });

  it("trackingMode 'process': this process's share of CPU and DRAM energy by CPU time, GPUs whole, labelled scope=\"process\"", async () => {
    const machine = intelServer(1, 4);
    hw = machine.hw;
    const registry = new Registry();
    metrics = registerEnergyMetrics({ registry, hardwareRoot: hw.root, nvmlLibrary: '', trackingMode: 'process' });
    machine.packages[0]!.add(8_000_000);
    machine.drams[0]!.add(2_000_000);
    hw.advanceCpu(100, 300); // 4 s of CPU time on the machine …
    hw.advanceProcess(hw.selfPid, 100); // … 1 s of it ours: a quarter
    const samples = parseExposition(await registry.metrics());
    const energy = find(samples, 'let_energy_joules_total').map((s) => [s.labels.component, s.labels.scope, s.value]);
    expect(energy).to.deep.equal([
      ['cpu', 'process', 2],
      ['ram', 'process', 0.5],
    ]);
    expect(find(samples, 'let_emissions_grams_total').every((s) => s.labels.scope === 'process')).to.equal(true);
    expect(() => registerEnergyMetrics({ registry: new Registry(), hardwareRoot: hw!.root, trackingMode: 'both' as never })).to.throw(/trackingMode/);
  });

  it('GPUs through NVML: one series per device, energy counter or integrated power, both measured', async () => {
    hw = intelServer(1, 1).hw;
    const fake = FakeNvml.create({
      gpus: [
        { name: 'NVIDIA H200', uuid: 'GPU-8f3c0a1e-55aa-4b1c-9d2e-0123456789ab', energyBaseNs: nowNs(), profile: [{ startNs: 0n, mW: 60000 }] },
        { name: 'NVIDIA T4', uuid: 'GPU-00000000-55aa-4b1c-9d2e-0123456789ab', energyRc: NVML.NOT_SUPPORTED, powerMw: 30000 },
      ],
    });
    try {
      const registry = new Registry();
      metrics = registerEnergyMetrics({ registry, hardwareRoot: hw.root, nvmlLibrary: fake.libraryPath, samplingIntervalMs: 20, gpuIds: [] });
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const samples = parseExposition(await registry.metrics());
      const elapsedS = (performance.now() - started) / 1000;
      const gpus = find(samples, 'let_energy_joules_total', { component: 'gpu' });
      expect(gpus.map((s) => [s.labels.device, s.labels.domain, s.labels.method, s.labels.measurement])).to.deep.equal([
        ['gpu0', 'NVIDIA H200', 'nvml-energy', 'measured'],
        ['gpu1', 'NVIDIA T4', 'nvml-power', 'measured'],
      ]);
      expect(gpus[0]!.value).to.be.closeTo(60 * elapsedS, 60 * elapsedS * 0.25);
      expect(gpus[1]!.value).to.be.closeTo(30 * elapsedS, 30 * elapsedS * 0.25);
      const power = find(samples, 'let_power_watts', { component: 'gpu', device: 'gpu0' })[0]!.value;
      expect(power).to.be.closeTo(60, 60 * 0.25);
      expect(find(samples, 'let_emissions_grams_total', { component: 'gpu' })).to.have.length(1);
    } finally {
      metrics?.close();
      metrics = null;
      closeIdleSamplers();
      fake.dispose();
    }
  });

  it("a sampler that fails does not fail the registry: the service's metrics and our last values are served, up = 0, one warning", async () => {
    const machine = intelServer(1, 1);
    hw = machine.hw;
    const registry = new Registry();
    const requests = new Counter({ name: 'http_requests_total', help: 'Requests.', registers: [registry] });
    requests.inc();
    metrics = registerEnergyMetrics({ registry, hardwareRoot: hw.root, nvmlLibrary: '' });
    machine.packages[0]!.add(4_000_000);
    expect(find(parseExposition(await registry.metrics()), 'let_energy_joules_total', { component: 'cpu' })[0]!.value).to.equal(4);
    await new Promise((resolve) => setImmediate(resolve)); // the next collection reads afresh
    // Close the shared sampler under the exporter (as an addon teardown would).
    // (the exporter's own sampler: same options, the tracker's load model included)
    const lease = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', loadModel: CPU_LOAD_MODEL });
    lease.sampler.close();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 2; i++) {
        const samples = parseExposition(await registry.metrics());
        expect(find(samples, 'http_requests_total')[0]!.value).to.equal(1);
        expect(find(samples, 'let_energy_joules_total', { component: 'cpu' })[0]!.value).to.equal(4);
        expect(find(samples, 'let_sampler_up')[0]!.value).to.equal(0);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => (w as NodeJS.ErrnoException).code === 'LET_METRICS_READ_FAILED')).to.have.length(1);
    } finally {
      process.off('warning', onWarning);
      lease.release();
    }
  });

  it('rejects bad options with errors naming them', () => {
    hw = intelServer(1, 1).hw;
    const root = hw.root;
    expect(() => registerEnergyMetrics({ registry: {} as Registry, hardwareRoot: root })).to.throw(TypeError, /registry/);
    expect(() => registerEnergyMetrics({ registry: new Registry(), prefix: 'bad-prefix', hardwareRoot: root })).to.throw(RangeError, /prefix/);
    expect(() => registerEnergyMetrics({ registry: new Registry(), countryIsoCode: 'XXX', hardwareRoot: root })).to.throw(/XXX/);
    expect(() => registerEnergyMetrics({ registry: new Registry(), samplingIntervalMs: 0, hardwareRoot: root })).to.throw(RangeError, /samplingIntervalMs/);
    expect(() => registerEnergyMetrics({ registry: new Registry(), minPowerWindowMs: -1, hardwareRoot: root })).to.throw(RangeError, /minPowerWindowMs/);
    expect(() => registerEnergyMetrics({ registry: new Registry(), projectName: 'x' } as never)).to.throw(TypeError, /unknown option projectName; valid options are registry, prefix, samplingIntervalMs/);
    expect(Object.keys(METRIC_SPECS)).to.have.length(metricNames().length);
  });
});
