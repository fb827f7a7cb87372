import { expect } from 'chai';
import { estimateDimmCount, isArmArch, ramDimmModel } from '../../lib/estimate/index.js';

describe('estimate: RAM DIMM model (CodeCarbon 3.x)', () => {
  const x86: Array<[number, number, number]> = [
    // [GB, DIMMs, W]
    [1, 1, 10], // 1 DIMM = 5 W, raised to the x86 minimum of 10 W
    [2, 1, 10],
    [4, 2, 10],
    [8, 2, 10],
    [15.5, 2, 10],
    [16, 2, 10],
    [32, 4, 20],
    [64, 4, 20],
    [100, 8, 38],
    [128, 8, 38],
    [256, 8, 38], // 8 × 32 GB
    [512, 8, 38], // 8 × 64 GB
    [1000, 16, 70], // "1 TB": 16 × 64 GB
    [1024, 8, 38], // exactly 1024 GiB: 8 × 128 GB, CodeCarbon's heuristic step
    [2000, 16, 70], // 16 × 128 GB
    [4096, 32, 126], // 32 × 128 GB, the cap
    [8192, 32, 126],
  ];
  for (const [gb, dimms, watts] of x86) {
    it(`${gb} GB on x86: ${dimms} DIMMs, ${watts} W`, () => {
      const m = ramDimmModel(gb, 'x64');
      expect(m.dimmCount).to.equal(dimms);
      expect(m.powerWatts).to.be.closeTo(watts, 1e-9);
    });
  }

  it('gives the reference figures: 8 GB 10 W, 64 GB 20 W, 128 GB 38 W, 1 TB 70 W', () => {
    expect([8, 64, 128, 1000].map((gb) => ramDimmModel(gb, 'x86_64').powerWatts)).to.deep.equal([10, 20, 38, 70]);
  });

  it('uses 1.5 W per DIMM and a 3 W minimum on ARM', () => {
    expect(ramDimmModel(8, 'arm64')).to.deep.equal({ dimmCount: 2, powerWatts: 3 });
    expect(ramDimmModel(1, 'aarch64')).to.deep.equal({ dimmCount: 1, powerWatts: 3 });
    expect(ramDimmModel(64, 'arm64').powerWatts).to.be.closeTo(6, 1e-9);
    expect(ramDimmModel(128, 'armv7l').powerWatts).to.be.closeTo(1.5 * 4 + 1.35 * 4, 1e-9);
    expect(ramDimmModel(1000, 'arm64').powerWatts).to.be.closeTo(21, 1e-9);
  });

  it('recognises ARM architectures', () => {
    expect(['arm', 'arm64', 'aarch64', 'ARMv7l'].map(isArmArch)).to.deep.equal([true, true, true, true]);
    expect(['x64', 'x86_64', 'ia32', 'riscv64', 'ppc64'].map(isArmArch)).to.deep.equal([false, false, false, false, false]);
  });

  it('defaults to this machine\'s architecture', () => {
    const expected = ramDimmModel(64, process.arch);
    expect(ramDimmModel(64)).to.deep.equal(expected);
  });

  it('rejects impossible sizes', () => {
    expect(() => ramDimmModel(-1)).to.throw(RangeError);
    expect(() => ramDimmModel(Number.NaN)).to.throw(RangeError);
    expect(() => ramDimmModel(Number.POSITIVE_INFINITY)).to.throw(RangeError);
  });

  it('estimates between 8 and 32 DIMMs above 128 GB', () => {
    for (let gb = 129; gb < 4096; gb += 37) {
      const n = estimateDimmCount(gb);
      expect(n).to.be.within(8, 32);
    }
  });
});
