import { chmodSync } from 'node:fs';
import { expect } from 'chai';
import { FakeHardware, intelServer } from '../fixtures/fake-hardware.js';
import { probe } from '../../lib/native/probe.js';

describe('native sampler: discovery', () => {
  let hw: FakeHardware;
  afterEach(() => hw?.cleanup());

  it('two sockets with subzones: packages top-level, subzones with parentId, per-socket dram kept apart', () => {
    const m = intelServer(2, 2);
    hw = m.hw;
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(p.platform).to.equal('linux');
    expect(p.hardwareRoot).to.equal(hw.root);
    expect(p.cpuVendor).to.equal('GenuineIntel');
    expect(p.cpuModel).to.equal('Fake Xeon');
    expect(p.unavailable).to.deep.equal([]);
    const ids = p.domains.map((d) => [d.id, d.kind, d.index, d.parentId]);
    expect(ids).to.deep.equal([
      ['powercap:intel-rapl:0', 'package', 0, null],
      ['powercap:intel-rapl:0:0', 'core', 0, 'powercap:intel-rapl:0'],
      ['powercap:intel-rapl:0:1', 'dram', 0, 'powercap:intel-rapl:0'],
      ['powercap:intel-rapl:1', 'package', 1, null],
      ['powercap:intel-rapl:1:0', 'core', 1, 'powercap:intel-rapl:1'],
      ['powercap:intel-rapl:1:1', 'dram', 1, 'powercap:intel-rapl:1'],
    ]);
    const pkg = p.domains[0]!;
    expect(pkg).to.include({ device: 'cpu', method: 'powercap', name: 'package-0', die: -1, uuid: null, wrapRangeUj: 262143328850 });
    expect(pkg.source).to.equal(`${hw.root}/sys/class/powercap/intel-rapl:0/energy_uj`);
  });

  it('hexadecimal indices past 9 and package-N-die-D names', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake many-die', 1);
    for (let i = 0; i < 12; i++) hw.zone({ zone: `intel-rapl:${i.toString(16)}`, name: `package-${i >> 1}-die-${i & 1}` });
    hw.zone({ zone: 'intel-rapl:b:0', name: 'dram' });
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    const top = p.domains.filter((d) => d.parentId === null);
    expect(top.map((d) => d.id)).to.deep.equal(
      Array.from({ length: 12 }, (_, i) => `powercap:intel-rapl:${i.toString(16)}`),
    );
    expect(top.map((d) => [d.index, d.die])).to.deep.equal(Array.from({ length: 12 }, (_, i) => [i >> 1, i & 1]));
    const dram = p.domains.find((d) => d.kind === 'dram')!;
    expect(dram.parentId).to.equal('powercap:intel-rapl:b');
    expect(dram.index).to.equal(5);
  });

  it('recognises the intel-rapl-mmio copy of package-0 and does not count it twice', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake laptop', 1);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
    hw.zone({ zone: 'intel-rapl:0:0', name: 'core' });
    hw.zone({ zone: 'intel-rapl:1', name: 'psys' });
    hw.zone({ zone: 'intel-rapl-mmio:0', name: 'package-0' });
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(p.domains.map((d) => d.id)).to.deep.equal(['powercap:intel-rapl:0', 'powercap:intel-rapl:0:0', 'powercap:intel-rapl:1']);
    expect(p.domains.filter((d) => d.kind === 'package')).to.have.length(1);
    expect(p.domains[2]).to.include({ kind: 'psys', index: -1, parentId: null });
  });

  it('uses the mmio zone when the intel-rapl package is not readable', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake laptop', 1);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0', rootOnly: true });
    hw.zone({ zone: 'intel-rapl-mmio:0', name: 'package-0' });
    const p = FakeHardware.unprivileged(() => probe({ hardwareRoot: hw.root, nvmlLibrary: '' }));
    expect(p.domains.map((d) => d.id)).to.deep.equal(['powercap:intel-rapl-mmio:0']);
    expect(p.unavailable).to.have.length(1);
  });

  it('finds zones under sys/devices/virtual/powercap when sys/class/powercap is absent', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('AuthenticAMD', 'Fake Ryzen', 1);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0', classLink: false, rangeUj: 65532610987 });
    hw.zone({ zone: 'intel-rapl:0:0', name: 'core', classLink: false, rangeUj: 65532610987 });
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(p.domains.map((d) => d.id)).to.deep.equal(['powercap:intel-rapl:0', 'powercap:intel-rapl:0:0']);
    expect(p.domains[0]!.resolutionUj).to.be.closeTo(15.2587890625, 1e-9);
    expect(p.domains[0]!.source).to.contain('sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj');
  });

  it('some zones readable, others root-only: the root-only ones appear in probe() with the reason and the fix', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake Xeon', 2);
    hw.cpu(0, 0).cpu(1, 1);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0' });
    hw.zone({ zone: 'intel-rapl:0:0', name: 'dram', rootOnly: true });
    hw.zone({ zone: 'intel-rapl:1', name: 'package-1', rootOnly: true });
    hw.zone({ zone: 'intel-rapl:1:0', name: 'dram' });
    hw.zone({ zone: 'intel-rapl:2', name: 'psys', rangeReadable: false });
    const p = FakeHardware.unprivileged(() => probe({ hardwareRoot: hw.root, nvmlLibrary: '' }));
    expect(p.domains.map((d) => d.id)).to.deep.equal(['powercap:intel-rapl:0', 'powercap:intel-rapl:1:0']);
    expect(p.domains[1]!.parentId).to.equal('powercap:intel-rapl:1');
    expect(p.unavailable.map((u) => u.target)).to.deep.equal([
      `${hw.root}/sys/class/powercap/intel-rapl:0:0/energy_uj`,
      `${hw.root}/sys/class/powercap/intel-rapl:1/energy_uj`,
      `${hw.root}/sys/class/powercap/intel-rapl:2/max_energy_range_uj`,
    ]);
    for (const u of p.unavailable.slice(0, 2)) {
      expect(u.method).to.equal('powercap');
      expect(u.reason).to.match(/readable only by root.*5\.10/);
      expect(u.fix).to.contain('sudo scripts/rapl-access.sh');
    }
    expect(p.unavailable[2]!.reason).to.match(/wrap range/);
    // Without the hook (we are root here) everything is readable.
    expect(probe({ hardwareRoot: hw.root, nvmlLibrary: '' }).domains).to.have.length(5);
  });

  it('no powercap at all: the MSR registers are used', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake i7', 2).cpu(0, 0).cpu(1, 0);
    const cpu = hw.msrCpu(0, 'intel', 14);
    cpu.counter(0x611, 5);
    cpu.counter(0x639, 3);
    cpu.counter(0x619, 0); // reads 0: never counted, not a domain
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(p.domains.map((d) => [d.id, d.kind, d.method])).to.deep.equal([
      ['msr:cpu0:0x611', 'package', 'msr'],
      ['msr:cpu0:0x639', 'core', 'msr'],
    ]);
    expect(p.unavailable).to.deep.equal([]);
  });

  it('powercap present but every zone root-only: MSR is used and the powercap reason is listed', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('AuthenticAMD', 'Fake EPYC', 2).cpu(0, 0).cpu(1, 0);
    hw.zone({ zone: 'intel-rapl:0', name: 'package-0', rootOnly: true });
    hw.msrCpu(0, 'amd', 16).counter(0xc001029b, 1);
    chmodSync(hw.path("dev/cpu/0/msr"), 0o644); // granted, as a udev rule would
    const p = FakeHardware.unprivileged(() => probe({ hardwareRoot: hw.root, nvmlLibrary: '' }));
    expect(p.domains.map((d) => d.id)).to.deep.equal(['msr:cpu0:0xc001029b']);
    expect(p.unavailable.map((u) => u.method)).to.deep.equal(['powercap']);
  });

  it('msr device root-only or the msr module not loaded: actionable reasons', () => {
    hw = FakeHardware.create();
    hw.cpuinfo('GenuineIntel', 'Fake i7', 2).cpu(0, 0).cpu(1, 1);
    hw.msrCpu(0, 'intel', 14).counter(0x611, 1);
    const p = FakeHardware.unprivileged(() => probe({ hardwareRoot: hw.root, nvmlLibrary: '' }));
    expect(p.domains).to.deep.equal([]);
    expect(p.unavailable.map((u) => [u.method, u.target.slice(hw.root.length)])).to.deep.equal([
      ['msr', '/dev/cpu/0/msr'],
      ['msr', '/dev/cpu/1/msr'],
    ]);
    expect(p.unavailable[0]!.reason).to.match(/needs root/);
    expect(p.unavailable[1]!.reason).to.match(/msr kernel module is not loaded/);
    expect(p.unavailable[1]!.fix).to.equal('sudo modprobe msr');
    hw.removeMsrModule();
    const q = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(q.unavailable.every((u) => u.fix === 'sudo modprobe msr')).to.equal(true);
  });

  it('nothing at all: empty result and no error', () => {
    hw = FakeHardware.create();
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(p).to.deep.equal({
      platform: 'linux',
      hardwareRoot: hw.root,
      domains: [],
      unavailable: [],
      cpuVendor: '',
      cpuModel: '',
      nvmlLoaded: false,
      nvmlDriverVersion: '',
    });
  });

  it('a missing NVML library is not a sensor problem (no GPU machine)', () => {
    hw = FakeHardware.create();
    const p = probe({ hardwareRoot: hw.root, nvmlLibrary: '/nonexistent/libnvidia-ml.so.1' });
    expect(p.nvmlLoaded).to.equal(false);
    expect(p.unavailable).to.deep.equal([]);
  });

  it('validates options at the native boundary', async () => {
    const { loadNativeBinding } = await import('../../lib/native/loader.js');
    const B = loadNativeBinding().Sampler;
    hw = FakeHardware.create();
    expect(() => new B({ hardwareRoot: 5 as unknown as string })).to.throw(TypeError);
    expect(() => new B({ hardwareRoot: '' })).to.throw(RangeError);
    expect(() => new B({ hardwareRoot: hw.root, gpuIds: [1 as unknown as string] })).to.throw(TypeError);
    expect(() => new B({ hardwareRoot: hw.root, attributionPid: -3 })).to.throw(RangeError);
    expect(() => new B({ hardwareRoot: hw.root, includeDescendants: 'yes' as unknown as boolean })).to.throw(TypeError);
  });
});

