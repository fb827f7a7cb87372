import { expect } from 'chai';
import type { CpuTimes, DomainInfo, Reading } from '../../lib/native/types.js';
import { cpuEnergyDomains, describeMethod, runEnergy } from '../../lib/tracker/components.js';
import { gpuModelField, localTimestamp } from '../../lib/tracker/record-fields.js';

function domain(partial: Partial<DomainInfo> & Pick<DomainInfo, 'id' | 'kind'>): DomainInfo {
  return {
    device: partial.kind === 'gpu' ? 'gpu' : 'cpu',
    name: partial.kind,
    index: 0,
    die: -1,
    parentId: null,
    method: partial.kind === 'gpu' ? 'nvml-energy' : 'powercap',
    resolutionUj: 61.035,
    wrapRangeUj: 262143328850,
    source: '',
    uuid: null,
    updatePeriodMs: 1,
    ...partial,
  };
}

const cpuTimes = (overrides: Partial<CpuTimes> = {}): CpuTimes => ({
  available: true,
  machineTotalS: 0,
  machineBusyS: 0,
  processS: 0,
  loadModelS: 0,
  logicalCpus: 4,
  ...overrides,
});

const reading = (energyUj: number[], attributedUj: number[], cpu: CpuTimes): Reading => ({
  timestampNs: 0,
  energyUj,
  attributedUj,
  cpu,
});

const estimation = { cpuTdpWatts: 100, ramModelWatts: 10, processRamShare: 0.25 };

describe('run energy per component', () => {
  const domains = [
    domain({ id: 'pkg0', kind: 'package', name: 'package-0' }),
    domain({ id: 'core0', kind: 'core', parentId: 'pkg0' }),
    domain({ id: 'dram0', kind: 'dram', parentId: 'pkg0' }),
    domain({ id: 'pkg1', kind: 'package', name: 'package-1', index: 1 }),
    domain({ id: 'dram1', kind: 'dram', parentId: 'pkg1', index: 1 }),
    domain({ id: 'gpu0', kind: 'gpu', name: 'NVIDIA H200', uuid: 'GPU-1' }),
  ];

  it('sums packages (never their subzones), both sockets\' DRAM, and GPUs', () => {
    const start = reading([1e6, 5e5, 2e5, 3e6, 1e5, 7e6], [0, 0, 0, 0, 0, 0], cpuTimes());
    const end = reading([11e6, 9e6, 2.2e6, 8e6, 1.1e6, 17e6], [0, 0, 0, 0, 0, 0], cpuTimes({ machineTotalS: 40, machineBusyS: 10 }));
    const energy = runEnergy({ domains, unavailable: [], start, end, durationS: 10, mode: 'machine', estimation });
    expect(energy.cpu).to.deep.equal({ joules: 15, method: 'measured:powercap' });
    expect(energy.ram).to.deep.equal({ joules: 3, method: 'measured:powercap' });
    expect(energy.gpu).to.deep.equal({ joules: 10, method: 'measured:nvml-energy' });
    expect(energy.gpuDomains.map((gpu) => gpu.uuid)).to.deep.equal(['GPU-1']);
    expect(energy.cpuUtilizationPercent).to.equal(25);
  });

  it('charges the attributed share in process mode, but whole GPUs', () => {
    const start = reading([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], cpuTimes());
    const end = reading([10e6, 0, 2e6, 10e6, 2e6, 5e6], [2e6, 0, 4e5, 3e6, 6e5, 0], cpuTimes());
    const energy = runEnergy({ domains, unavailable: [], start, end, durationS: 10, mode: 'process', estimation });
    expect(energy.cpu.joules).to.equal(5);
    expect(energy.ram.joules).to.equal(1);
    expect(energy.gpu.joules).to.equal(5);
  });

  it('estimates from TDP and load, and from the DIMM model, when no counter exists, and says so', () => {
    const start = reading([], [], cpuTimes({ loadModelS: 1, processS: 2 }));
    const end = reading([], [], cpuTimes({ loadModelS: 3.5, processS: 6 }));
    const machine = runEnergy({ domains: [], unavailable: [], start, end, durationS: 10, mode: 'machine', estimation });
    expect(machine.cpu).to.deep.equal({ joules: 250, method: 'estimated:tdp-load-model' });
    expect(machine.ram).to.deep.equal({ joules: 100, method: 'estimated:dimm-model' });
    expect(machine.gpu).to.deep.equal({ joules: 0, method: 'none:no-gpu' });
    const processMode = runEnergy({ domains: [], unavailable: [], start, end, durationS: 10, mode: 'process', estimation });
    expect(processMode.cpu).to.deep.equal({ joules: 100, method: 'estimated:tdp-process-share' });
    expect(processMode.ram.joules).to.equal(25);
  });

  it('says when NVML exists but could not be used', () => {
    const start = reading([], [], cpuTimes());
    const energy = runEnergy({
      domains: [],
      unavailable: [{ method: 'nvml', target: 'nvml', reason: 'DRIVER_NOT_LOADED', fix: null }],
      start,
      end: start,
      durationS: 1,
      mode: 'machine',
      estimation,
    });
    expect(energy.gpu.method).to.equal('none:nvml-unavailable');
  });

  it('uses psys only when no package exists', () => {
    expect(cpuEnergyDomains([domain({ id: 'psys', kind: 'psys' })])).to.deep.equal([0]);
    expect(cpuEnergyDomains([domain({ id: 'psys', kind: 'psys' }), domain({ id: 'p', kind: 'package' })])).to.deep.equal([1]);
  });

  it('describes methods in words', () => {
    expect(describeMethod('measured:powercap')).to.equal('measured with RAPL (Linux powercap)');
    expect(describeMethod('estimated:tdp-load-model')).to.equal("estimated from the CPU's TDP and load");
    expect(describeMethod('none:no-gpu')).to.equal('not counted (no GPU found)');
  });
});

describe('record fields', () => {
  it('writes gpu_model as CodeCarbon does', () => {
    expect(gpuModelField(['NVIDIA H200', 'NVIDIA H200', 'NVIDIA A100'])).to.equal('2 x NVIDIA H200, 1 x NVIDIA A100');
    expect(gpuModelField([])).to.equal('');
  });
  it('writes local timestamps without zone', () => {
    expect(localTimestamp(new Date(2026, 0, 2, 3, 4, 5))).to.equal('2026-01-02T03:04:05');
  });
});
