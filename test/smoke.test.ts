import { expect } from 'chai';
import { ALL_COLUMNS, CODECARBON_COLUMNS } from '../lib/store/schema.js';

describe('schema', () => {
  it('starts with CodeCarbon 3.x 38 columns', () => {
    expect(CODECARBON_COLUMNS).to.have.length(38);
    expect(ALL_COLUMNS.slice(0, 38)).to.deep.equal([...CODECARBON_COLUMNS]);
  });
});
