import { expect } from 'chai';
import type { CpuTimes } from '../../lib/native/types.js';
import {
  cpuConstantModePower,
  cpuLoadModelPower,
  cpuTimesDelta,
  estimateCpuEnergyJ,
  loadModelFactor,
  machineCpuEnergyJ,
  machineLoadFraction,
  processCpuEnergyJ,
  processCpuShare,
} from '../../lib/estimate/index.js';

function times(p: Partial<CpuTimes>): CpuTimes {
  return { available: true, machineTotalS: 0, machineBusyS: 0, processS: 0, loadModelS: 0, logicalCpus: 8, ...p };
}

describe('estimate: CPU load model', () => {
  it('is 0.1 + 0.9·u³ of TDP', () => {
    for (const u of [0, 0.1, 0.25, 0.5, 0.8, 1]) {
      expect(loadModelFactor(u)).to.be.closeTo(0.1 + 0.9 * u ** 3, 1e-12);
    }
    expect(cpuLoadModelPower(100, 0)).to.be.closeTo(10, 1e-12);
    expect(cpuLoadModelPower(100, 0.5)).to.be.closeTo(21.25, 1e-12);
    expect(cpuLoadModelPower(65, 1)).to.be.closeTo(65, 1e-12);
  });

  it('clamps the load to [0, 1] and treats NaN as idle', () => {
    expect(cpuLoadModelPower(100, 1.7)).to.be.closeTo(100, 1e-12);
    expect(cpuLoadModelPower(100, -0.3)).to.be.closeTo(10, 1e-12);
    expect(cpuLoadModelPower(100, Number.NaN)).to.be.closeTo(10, 1e-12);
  });

  it('is monotonic in the load', () => {
    let prev = -1;
    for (let u = 0; u <= 1; u += 0.05) {
      const p = cpuLoadModelPower(80, u);
      expect(p).to.be.greaterThan(prev);
      prev = p;
    }
  });

  it('has a constant mode of half the TDP', () => {
    expect(cpuConstantModePower(85)).to.equal(42.5);
  });
});

describe('estimate: CPU energy from CpuTimes deltas', () => {
  const start = times({ machineTotalS: 1000, machineBusyS: 200, processS: 3, loadModelS: 10 });
  const end = times({ machineTotalS: 1080, machineBusyS: 240, processS: 7, loadModelS: 25 });

  it('machine mode is TDP × ΔloadModelS', () => {
    expect(machineCpuEnergyJ(65, start, end)).to.be.closeTo(65 * 15, 1e-9);
    expect(estimateCpuEnergyJ('machine', 65, start, end)).to.be.closeTo(975, 1e-9);
  });

  it('process mode is TDP × ΔprocessS ÷ logical CPUs', () => {
    expect(processCpuEnergyJ(80, start, end)).to.be.closeTo((80 * 4) / 8, 1e-9);
    expect(estimateCpuEnergyJ('process', 80, start, end)).to.be.closeTo(40, 1e-9);
  });

  it('a process using every CPU for the whole window is charged the full TDP', () => {
    const a = times({ processS: 0, logicalCpus: 4 });
    const b = times({ processS: 4 * 10, logicalCpus: 4 }); // 10 s on 4 CPUs
    expect(processCpuEnergyJ(50, a, b)).to.be.closeTo(50 * 10, 1e-9);
  });

  it('gives the load and the process share of the window', () => {
    const d = cpuTimesDelta(start, end);
    expect(d).to.deep.equal({ available: true, machineTotalS: 80, machineBusyS: 40, processS: 4, loadModelS: 15, logicalCpus: 8 });
    expect(machineLoadFraction(d)).to.be.closeTo(0.5, 1e-12);
    expect(processCpuShare(d)).to.be.closeTo(0.05, 1e-12);
  });

  it('two processes\' process-mode estimates add up to the estimate of their summed CPU time', () => {
    const a0 = times({ processS: 1 });
    const a1 = times({ processS: 3 });
    const b0 = times({ processS: 10 });
    const b1 = times({ processS: 15 });
    const both = processCpuEnergyJ(100, a0, a1) + processCpuEnergyJ(100, b0, b1);
    expect(both).to.be.closeTo((100 * (2 + 5)) / 8, 1e-9);
  });

  it('is 0 when CPU times are unavailable, and never negative', () => {
    const gone = { ...end, available: false };
    expect(machineCpuEnergyJ(65, start, gone)).to.equal(0);
    expect(processCpuEnergyJ(65, gone, end)).to.equal(0);
    expect(machineCpuEnergyJ(65, end, start)).to.equal(0);
    expect(processCpuEnergyJ(65, end, start)).to.equal(0);
    expect(processCpuEnergyJ(65, times({ logicalCpus: 0 }), times({ processS: 5, logicalCpus: 0 }))).to.equal(0);
  });
});
