/**
 * `run --live`: one line rewritten in place on a terminal (a pseudo-terminal from script(1)),
 * nothing when stdout is a pipe.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackerOptionsFromFlags, LIVE_SAMPLING_INTERVAL_MS } from '../../lib/cli/commands/run.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'lib/cli/bin.ts');
const CLEAR = '\r\x1b[2K';

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

describe('lamarr-energy-tracker run --live', function () {
  this.timeout(60000);
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'let-live-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  const args = (): string[] => [
    '--import',
    'tsx',
    BIN,
    'run',
    '--live',
    '--no-summary',
    '--output-dir',
    out,
    '--',
    process.execPath,
    '-e',
    'setTimeout(() => {}, 1600)',
  ];

  it('rewrites one line in place about twice a second on a terminal, and erases it at the end', function () {
    expect(hasScript(), 'this test needs script(1) from util-linux (apt-get install -y bsdutils)').to.equal(true);
    const command = [process.execPath, ...args()].map(shellQuote).join(' ');
    const r = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const draws = r.stdout.split(CLEAR).filter((s) => s.includes('⚡'));
    // 1.6 s at 2 Hz: about 3–4 redraws (plus the first one at start)
    expect(draws.length, JSON.stringify(r.stdout)).to.be.within(2, 7);
    for (const d of draws) {
      // the live text itself is one line; anything after a newline is other output (stderr
      // shares the pseudo-terminal), which the next redraw starts over with \r + clear-line
      const line = d.split('\n')[0]!;
      expect(line, JSON.stringify(r.stdout)).to.match(/^⚡ 0:0\d {2}cpu [\d.]+ W.*│ {2}[\d.]+ (J|kJ)/);
    }
    // every redraw starts with \r + clear-line: the draws are never stacked as separate lines
    expect(r.stdout.split('⚡').length - 1).to.equal(r.stdout.split(CLEAR + '⚡').length - 1);
    expect(r.stdout.endsWith(CLEAR) || r.stdout.trimEnd().endsWith('\x1b[2K')).to.equal(true);
  });

  it('writes nothing of the live line when stdout is not a terminal', () => {
    const r = spawnSync(process.execPath, args(), { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.not.contain('\x1b[2K');
    expect(r.stdout).to.not.contain('⚡');
  });

  it('samples faster than the refresh with --live unless an interval is given', () => {
    const base = { save: true, summary: true };
    expect(trackerOptionsFromFlags({ ...base, live: true }, 'x', 1).samplingIntervalMs).to.equal(LIVE_SAMPLING_INTERVAL_MS);
    expect(trackerOptionsFromFlags({ ...base, live: true, samplingIntervalMs: 2000 }, 'x', 1).samplingIntervalMs).to.equal(2000);
    expect(trackerOptionsFromFlags(base, 'x', 1).samplingIntervalMs).to.equal(undefined);
    const p = trackerOptionsFromFlags({ ...base, trackingMode: 'process' }, '/usr/bin/python3', 4321);
    expect(p).to.include({ attributionPid: 4321, includeDescendants: true, projectName: 'python3', trackingMode: 'process' });
  });
});
