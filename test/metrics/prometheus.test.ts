/**
 * A real Prometheus (Debian's `prometheus` 2.x, started here on loopback) scrapes the
 * `monitor` command every second while simulated RAPL counters receive a known power profile
 * (40 W package, 6 W DRAM, counters wrapping every 100 J). What Prometheus stored and computes
 * must be the true energy: every scraped value is exactly the energy injected before that
 * scrape, `increase()` between two scrapes is exactly the energy injected between them, the
 * latest value is the total. Without the prometheus binary this test fails (it never skips).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intelServer, type FakeHardware, type PowercapCounter } from '../fixtures/fake-hardware.js';
import { loadResults } from '../../lib/store/index.js';
import { dashboardExpressions, sleep, startMonitorChild, startPrometheus, waitFor, type Child, type PrometheusServer } from './helpers.js';

type Vector = { metric: Record<string, string>; value: [number, string] };
type Matrix = { metric: Record<string, string>; values: Array<[number, string]> };

/** One step of the injected profile: cumulative true energy (µJ) after it, and when. */
interface Step {
  atMs: number;
  pkgUj: number;
  dramUj: number;
}

const SERIES = {
  pkg: 'let_energy_joules_total{component="cpu",domain="package-0",measurement="measured",method="powercap",device="socket0"}',
  dram: 'let_energy_joules_total{component="ram",domain="dram",measurement="measured",method="powercap",device="socket0"}',
} as const;

describe('metrics: a real Prometheus scraping the monitor', function () {
  this.timeout(90000);
  let hw: FakeHardware | null = null;
  let monitor: (Child & { url: string; port: number }) | null = null;
  let prometheus: PrometheusServer | null = null;
  let out: string;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'let-prom-store-'));
  });
  after(() => {
    monitor?.kill();
    prometheus?.stop();
    hw?.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it('stores and computes exactly the injected energy (increase, latest value, power, emissions), across counter wraps', async () => {
    const machine = intelServer(1, 2, 100_000_000); // counters wrap every 100 J
    hw = machine.hw;
    const pkg: PowercapCounter = machine.packages[0]!;
    const dram: PowercapCounter = machine.drams[0]!;
    monitor = await startMonitorChild(['--hardware-root', hw.root, '--nvml-library', '', '--output-dir', out, '--interval', '1']);
    prometheus = await startPrometheus([`127.0.0.1:${monitor.port}`]);
    const prom = prometheus;

    // Two scrapes of the idle machine before the profile starts.
    await waitFor('two scrapes', async () => {
      const r = await prom.query<Vector>(`count_over_time(${SERIES.pkg}[1m])`);
      return r.length === 1 && Number(r[0]!.value[1]) >= 2 ? true : undefined;
    }, 30000, 250);

    // The profile: every 50 ms, 2 J into the package (40 W) and 0.3 J into DRAM (6 W), for 6 s.
    const steps: Step[] = [{ atMs: Date.now(), pkgUj: 0, dramUj: 0 }];
    const startPkg = pkg.injectedUj();
    const startDram = dram.injectedUj();
    for (let i = 0; i < 120; i++) {
      pkg.add(2_000_000);
      dram.add(300_000);
      steps.push({ atMs: Date.now(), pkgUj: Number(pkg.injectedUj() - startPkg), dramUj: Number(dram.injectedUj() - startDram) });
      await sleep(50);
    }
    const endOfProfileMs = Date.now();
    const total = steps.at(-1)!;
    expect(pkg.wraps, 'the package counter wrapped').to.be.at.least(2);
    // Idle again: wait for three scrapes after the last step.
    await waitFor('three scrapes after the profile', async () => {
      const r = await prom.query<Matrix>(`${SERIES.pkg}[1m]`);
      const after = (r[0]?.values ?? []).filter(([t]) => t * 1000 > endOfProfileMs);
      return after.length >= 3 ? true : undefined;
    }, 15000, 250);

    const queryAt = Date.now();
    for (const [key, selector] of Object.entries(SERIES) as Array<['pkg' | 'dram', string]>) {
      const truthUj = (step: Step) => (key === 'pkg' ? step.pkgUj : step.dramUj);
      const [matrix] = await prom.query<Matrix>(`${selector}[2m]`, queryAt);
      expect(matrix, `${key}: stored samples`).to.not.equal(undefined);
      const samples = matrix!.values.map(([t, v]) => ({ atMs: Math.round(t * 1000), joules: Number(v) }));
      expect(samples.length, `${key}: scrapes`).to.be.at.least(8);

      // Every scraped value is exactly the cumulative injected energy of some step (µJ / 10^6).
      // The monitor reads at or after the scrape's timestamp: the next step, not counted, was
      // injected after it (its time is taken after the injection); the step counted was
      // injected before the read, which answers within 2 s even on a loaded machine.
      let previous = -1;
      let stepIndex = 0;
      for (const sample of samples) {
        const index = steps.findIndex((step, i) => i >= stepIndex && truthUj(step) / 1e6 === sample.joules);
        expect(index, `${key}: ${sample.joules} J at ${sample.atMs} is the energy injected before some step`).to.be.at.least(0);
        expect(steps[index]!.atMs, `${key}: the step counted happened before the read`).to.be.at.most(sample.atMs + 2000);
        if (index + 1 < steps.length) expect(steps[index + 1]!.atMs, `${key}: the next step happened after the scrape`).to.be.at.least(sample.atMs - 20);
        expect(sample.joules).to.be.at.least(previous);
        previous = sample.joules;
        stepIndex = index;
      }
      // The latest value is the total injected energy, exactly.
      const [latest] = await prom.query<Vector>(selector, queryAt);
      expect(Number(latest!.value[1]), `${key}: latest value`).to.equal(truthUj(total) / 1e6);

      // increase() and rate() over a window from one scrape to another: no extrapolation, so
      // exactly the energy injected between the two scrapes (up to the 1 µJ counter resolution).
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const windowMs = last.atMs - first.atMs;
      const [increase] = await prom.query<Vector>(`increase(${selector}[${windowMs}ms])`, last.atMs);
      expect(Number(increase!.value[1]), `${key}: increase over ${windowMs} ms`).to.be.closeTo(truthUj(total) / 1e6 - first.joules, 1e-6);
      const [rate] = await prom.query<Vector>(`rate(${selector}[${windowMs}ms])`, last.atMs);
      expect(Number(rate!.value[1]), `${key}: rate`).to.be.closeTo((truthUj(total) / 1e6 - first.joules) / (windowMs / 1000), 1e-9);
      // Between any two consecutive scrapes too.
      for (let i = 1; i < samples.length; i++) {
        const [step] = await prom.query<Vector>(`increase(${selector}[${samples[i]!.atMs - samples[i - 1]!.atMs}ms])`, samples[i]!.atMs);
        expect(Number(step!.value[1]), `${key}: increase between scrapes ${i - 1} and ${i}`).to.be.closeTo(samples[i]!.joules - samples[i - 1]!.joules, 1e-6);
      }
    }

    // Power: 0 W once idle. While the profile ran, 2 J at most every 50 ms (sleeps only add
    // time) over windows of at least half a second: never above 40 W × (1 + 0.05/0.5) = 44 W.
    const [power] = await prom.query<Matrix>('let_power_watts{component="cpu"}[2m]', queryAt);
    const watts = power!.values.map(([, v]) => Number(v));
    expect(watts.at(-1)).to.equal(0);
    expect(Math.max(...watts)).to.be.above(10).and.at.most(44);
    expect(Math.min(...watts)).to.be.at.least(0);

    // Emissions: the total energy × the default carbon intensity (Germany), in grams.
    const [grams] = await prom.query<Vector>('let_emissions_grams_total{component="cpu"}', queryAt);
    const [intensity] = await prom.query<Vector>('let_carbon_intensity_grams_per_kwh', queryAt);
    expect(intensity!.metric.country_iso_code).to.equal('DEU');
    expect(Number(grams!.value[1])).to.be.closeTo((total.pkgUj / 1e6 / 3.6e6) * Number(intensity!.value[1]), 1e-12);

    // Sampler health as Prometheus sees it: up, wraps counted, no read errors or anomalies.
    const [wraps] = await prom.query<Vector>('let_sampler_wraps_total{domain="package-0"}', queryAt);
    expect(Number(wraps!.value[1])).to.equal(pkg.wraps);
    const [errors] = await prom.query<Vector>('sum(let_sampler_read_errors_total) + sum(let_sampler_anomalies_total)', queryAt);
    expect(Number(errors!.value[1])).to.equal(0);
    const [up] = await prom.query<Vector>('let_sampler_up', queryAt);
    expect(up!.metric.measurement).to.equal('measured');
    expect(Number(up!.value[1])).to.equal(1);

    // The Grafana dashboard's queries run on this data: valid PromQL, and the machine's and the
    // sampler's panels show series (tracked runs need an EnergyTracker in the exporting process).
    for (const expression of dashboardExpressions()) {
      const concrete = expression
        .replace(/^label_values\((\w+), (\w+)\)$/, 'count by ($2) ($1)') // Grafana's variable query
        .replaceAll('$instance', '.*')
        .replaceAll('$__range', '1m')
        .replaceAll('$__rate_interval', '4s');
      const result = await prom.query(concrete, queryAt);
      if (!expression.includes('let_tracked_')) expect(result, `dashboard query ${expression}`).to.not.be.empty;
    }

    // SIGTERM: the monitor exits 0 within a second and stores its run with the same energy.
    const signalledAt = Date.now();
    monitor.process.kill('SIGTERM');
    const exit = await monitor.exited;
    expect(Date.now() - signalledAt, 'exit within a second').to.be.below(1000);
    expect(exit, monitor.output().stderr).to.deep.equal({ code: 0, signal: null });
    const [run] = loadResults({ outputDir: out });
    expect(run!.project_name).to.equal('monitor');
    expect(run!.cpu_energy_method).to.equal('measured:powercap');
    expect(run!.cpu_energy! * 3.6e6).to.be.closeTo(total.pkgUj / 1e6, 1e-6);
    expect(run!.ram_energy! * 3.6e6).to.be.closeTo(total.dramUj / 1e6, 1e-6);
  });
});
