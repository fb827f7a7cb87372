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
}

export class SimSource implements EnergyCounterSource {
  readonly domains: DomainInfo[];
  private readonly t0 = process.hrtime.bigint();
  private calls = 0;
  released = 0;
  reads = 0;
  constructor(private readonly channels: SimChannel[], readonly estimatesAvailable = true) {
    this.domains = channels.map((c) => c.domain);
  }
  /** The function under test calls this once per call. */
  call(times = 1): void {
    this.calls += times;
  }
  read(): CounterReading {
    this.reads++;
    const now = process.hrtime.bigint();
    const s = Number(now - this.t0) / 1e9;
    return {
      timestampNs: Number(now),
      energyUj: this.channels.map((c) => {
        const e = c.idleW * s * 1e6 + c.perCallUj * this.calls;
        const step = c.domain.resolutionUj;
        return step > 0 ? Math.floor(e / step) * step : e;
      }),
    };
  }
  release(): void {
    this.released++;
  }
}
