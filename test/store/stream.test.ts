import { expect } from 'chai';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError, appendRecord, loadResults, streamResults } from '../../lib/store/index.js';
import type { LoadedRecord, ResultFilters, StoreWarning } from '../../lib/store/index.js';
import { SAMPLES_DIR, makeRecord, tempDir } from './helpers.js';

async function collect(filters: ResultFilters, chunkSize: number, warnings: StoreWarning[] = []): Promise<LoadedRecord[]> {
  const out: LoadedRecord[] = [];
  for await (const r of streamResults(filters, { chunkSize, onWarning: (w) => warnings.push(w) })) out.push(r);
  return out;
}

describe('store: streamResults', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  for (const name of readdirSync(SAMPLES_DIR).filter((n) => n.endsWith('.csv'))) {
    it(`yields what loadResults returns for ${name}, at any chunk size`, async () => {
      copyFileSync(join(SAMPLES_DIR, name), join(dir, 'emissions.csv'));
      const all = loadResults({ outputDir: dir });
      for (const size of [1, 7, 100, 1 << 20]) expect(await collect({ outputDir: dir }, size), `chunk ${size}`).to.deep.equal(all);
    });
  }

  it('handles quoted line breaks, guarded values, CRLF and BOM across chunk boundaries, with filters', async () => {
    const file = join(dir, 'emissions.csv');
    for (let i = 0; i < 30; i++) {
      appendRecord(makeRecord({ run_id: `r${i}`, project_name: i % 3 ? `multi\nline "${i}"` : '=x', user: `u${i % 2}` }), dir);
    }
    const text = '\uFEFF' + readFileSync(file, 'utf8').replace(/\n(?=\d{4}-|$)/g, '\r\n');
    writeFileSync(file, text);
    const filters = { outputDir: dir, user: 'u1' };
    const expected = loadResults(filters);
    expect(expected).to.have.length(15);
    for (const size of [3, 50, 333, 1 << 20]) expect(await collect(filters, size), `chunk ${size}`).to.deep.equal(expected);
  });

  it('reports a torn last line and yields the complete rows', async () => {
    appendRecord(makeRecord({ run_id: 'a' }), dir);
    appendRecord(makeRecord({ run_id: 'b' }), dir);
    const file = join(dir, 'emissions.csv');
    writeFileSync(file, readFileSync(file, 'utf8') + '2026-01-01T00:00:00,"=x');
    const warnings: StoreWarning[] = [];
    expect((await collect({ outputDir: dir }, 64, warnings)).map((r) => r.run_id)).to.deep.equal(['a', 'b']);
    expect(warnings.map((w) => [w.code, w.line])).to.deep.equal([['LET_TORN_LINE', 4]]);
  });

  it('throws for a malformed line with its file and line number', async () => {
    appendRecord(makeRecord({ run_id: 'a' }), dir);
    appendRecord(makeRecord({ run_id: 'b' }), dir);
    const file = join(dir, 'emissions.csv');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2]!.replace(',12.5,', ',x,');
    writeFileSync(file, lines.join('\n'));
    let err: unknown;
    try {
      await collect({ outputDir: dir }, 16);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(StoreError);
    expect((err as Error).message).to.equal(`${file}:3: column duration: "x" is not a number`);
  });

  it('decodes UTF-8 text that first appears in a later chunk', async () => {
    for (let i = 0; i < 20; i++) appendRecord(makeRecord({ run_id: `a${i}` }), dir);
    appendRecord(makeRecord({ run_id: 'utf8', cpu_model: 'Café ® 東京 — 🚀' }), dir);
    const all = loadResults({ outputDir: dir });
    expect(all.at(-1)!.cpu_model).to.equal('Café ® 東京 — 🚀');
    for (const size of [5, 64, 1 << 20]) expect(await collect({ outputDir: dir }, size), `chunk ${size}`).to.deep.equal(all);
  });

  it('yields nothing for a missing file', async () => {
    expect(await collect({ outputDir: join(dir, 'none') }, 10)).to.deep.equal([]);
  });
});
