/**
 * forEachResult (the store read a part at a time, for counts and statements over large stores)
 * and a torn last line: reported when the file still ends there once the lock is taken, not when
 * a writer holding the lock was appending it.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODECARBON_COLUMNS, formatHeader, formatRecordRow } from '../../lib/store/index.js';
import type { StoreWarning } from '../../lib/store/index.js';
import { forEachResult } from '../../lib/store/query.js';
import { makeRecord, tempDir } from './helpers.js';

const LOCK = fileURLToPath(new URL('../../lib/store/lock.ts', import.meta.url));

describe('store: forEachResult and a torn last line', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const rows = (ids: string[]): string => ids.map((id) => formatRecordRow(makeRecord({ run_id: id }), CODECARBON_COLUMNS)).join('');

  it('reports a torn last line that is still there under the lock, and visits the complete rows', () => {
    writeFileSync(join(dir, 'emissions.csv'), formatHeader(CODECARBON_COLUMNS) + rows(['a', 'b']) + '2026-01-01T00:00:00,torn');
    const seen: string[] = [];
    const warnings: StoreWarning[] = [];
    forEachResult({ outputDir: dir }, (r) => seen.push(r.run_id), { onWarning: (w) => warnings.push(w) });
    expect(seen).to.deep.equal(['a', 'b']);
    expect(warnings.map((w) => w.code)).to.deep.equal(['LET_TORN_LINE']);
  });

  it('does not report the line a writer holding the lock was appending', async () => {
    const file = join(dir, 'emissions.csv');
    const last = rows(['c']);
    writeFileSync(file, formatHeader(CODECARBON_COLUMNS) + rows(['a', 'b']) + last.slice(0, 40));
    // A writer: holds the lock, then completes its line and lets go.
    const script = `const { withLock, sleepSync } = await import(${JSON.stringify(LOCK)}); const fs = await import('node:fs');
withLock(${JSON.stringify(file)}, () => { process.stdout.write('held\\n'); sleepSync(400); fs.appendFileSync(${JSON.stringify(file)}, ${JSON.stringify(last.slice(40))}); });`;
    const writer = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
        writer.on('exit', (code) => reject(new Error(`writer exited with ${code} before holding the lock`)));
      });
      const seen: string[] = [];
      const warnings: StoreWarning[] = [];
      forEachResult({ outputDir: dir }, (r) => seen.push(r.run_id), { onWarning: (w) => warnings.push(w) });
      expect(seen).to.deep.equal(['a', 'b']); // the file as it was opened
      expect(warnings).to.deep.equal([]);
      const after: string[] = [];
      forEachResult({ outputDir: dir }, (r) => after.push(r.run_id));
      expect(after).to.deep.equal(['a', 'b', 'c']);
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
