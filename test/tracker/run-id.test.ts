import { expect } from 'chai';
import { randomRunId } from '../../lib/tracker/run-id.js';

describe('run ids', () => {
  it('are version 4 UUIDs with the RFC 9562 variant, lower-case, 8-4-4-4-12', () => {
    for (let i = 0; i < 200; i++) {
      expect(randomRunId()).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('differ from each other, and every free bit varies', () => {
    const ids = Array.from({ length: 2000 }, randomRunId); // many reads of /dev/urandom (64 ids each)
    expect(new Set(ids).size).to.equal(ids.length);
    // Each of the 122 random bits is set in some id and clear in another (all fixed bits aside).
    const hex = ids.map((id) => id.replaceAll('-', ''));
    for (let digit = 0; digit < 32; digit++) {
      if (digit === 12) continue; // the version digit
      const values = new Set(hex.map((h) => h[digit]));
      expect(values.size, `hex digit ${digit}`).to.be.greaterThan(digit === 16 ? 3 : 15);
    }
  });
});
