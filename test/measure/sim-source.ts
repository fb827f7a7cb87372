/**
 * An in-process simulated counter for measureEnergy unit tests: energy = idle power × elapsed
 * time + a known energy per call, quantised to the counter's step.
 */
import type { DomainInfo } from '../../lib/native/types.js';
import type { CounterReading, EnergyCounterSource } from '../../lib/measure/source.js';

export function domain(overrides: Partial<DomainInfo> = {}): DomainInfo {
  return {
    id: 'sim:package-0',
    device: 'cpu',
    kind: 'package',
    name: 'package-0',
    index: 0,
    die: -1,
    parentId: null,
    method: 'powercap',
    resolutionUj: 61.035,
    wrapRangeUj: 0,
    source: 'sim',
    uuid: null,
    updatePeriodMs: 1,
    ...overrides,
  };
}

export interface SimChannel {
  domain: DomainInfo;
  idleW: number;
  perCallUj: number;
  /** Random energy per call: uniform in [0, 2 × perCallUj] (same mean). */
  jitter?: boolean;
  /** Idle power fluctuation: every 5 ms the idle power is idleW + uniform(−noiseW, +noiseW). */
  noiseW?: number;
}

export class SimSource implements EnergyCounterSource {
  readonly domains: DomainInfo[];
  private readonly t0 = process.hrtime.bigint();
  private calls = 0;
  private jitteredUj: number[];
  /** Cumulative noise energy (µJ) at the end of each 5 ms segment, per channel. */
  private noiseCum: number[][];
  released = 0;
  reads = 0;
  constructor(private readonly channels: SimChannel[], readonly estimatesAvailable = true) {
    this.domains = channels.map((c) => c.domain);
    this.jitteredUj = channels.map(() => 0);
    this.noiseCum = channels.map(() => [0]);
  }
  /** The function under test calls this once per call. */
  call(times = 1): void {
    this.calls += times;
    for (let k = 0; k < this.channels.length; k++) {
      const c = this.channels[k]!;
      if (c.jitter) for (let t = 0; t < times; t++) this.jitteredUj[k]! += 2 * c.perCallUj * Math.random();
    }
  }
  read(): CounterReading {
    this.reads++;
    const now = process.hrtime.bigint();
    const s = Number(now - this.t0) / 1e9;
    return {
      timestampNs: Number(now),
      energyUj: this.channels.map((c, k) => {
        const wobble = c.noiseW ? this.noiseEnergyUj(k, c.noiseW, s) : 0;
        const perCall = c.jitter ? this.jitteredUj[k]! : c.perCallUj * this.calls;
        const e = c.idleW * s * 1e6 + wobble + perCall;
        const step = c.domain.resolutionUj;
        return step > 0 ? Math.floor(e / step) * step : e;
      }),
    };
  }
  private noiseEnergyUj(k: number, noiseW: number, s: number): number {
    const seg = 0.005;
    const cum = this.noiseCum[k]!;
    const i = Math.floor(s / seg);
    while (cum.length <= i + 1) cum.push(cum.at(-1)! + (Math.random() * 2 - 1) * noiseW * seg * 1e6);
    const frac = s / seg - i;
    return cum[i]! + (cum[i + 1]! - cum[i]!) * frac;
  }
  release(): void {
    this.released++;
  }
}
