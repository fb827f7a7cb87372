/**
 * The packed tarball as other projects use it: `require()` from a `.cjs` file, a CommonJS
 * TypeScript project (compiled with tsc, without skipLibCheck, then run), and the tinybench
 * adapter with tinybench 5 and with tinybench 6 installed beside it (peer range ^5 || ^6).
 * Installs with scripts disabled and the bundled prebuild, as tarball.test.ts does.
 */
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/version.js';
import { intelServer, type FakeHardware } from '../fixtures/fake-hardware.js';

const PLATFORM_DIR = join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
const TSC = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function npm(args: string[], cwd: string): void {
  execFileSync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd, stdio: 'pipe', encoding: 'utf8' });
}

describe('the packed tarball used by CommonJS, TypeScript and tinybench projects', function () {
  this.timeout(300_000);
  let work: string;
  let tarball: string;
  let hw: FakeHardware;
  let store: string;

  before(() => {
    if (!existsSync(PLATFORM_DIR) || !readdirSync(PLATFORM_DIR).some((name) => name.endsWith('.node'))) {
      throw new Error(`no prebuild in ${PLATFORM_DIR}: run \`npm run prebuilds\` (npm test does it via scripts/ensure-prebuild.cjs)`);
    }
    if (!existsSync(join(PACKAGE_ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts`');
    work = mkdtempSync(join(tmpdir(), 'let-consumers-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: PACKAGE_ROOT, encoding: 'utf8' }),
    ) as Array<{ filename: string }>;
    tarball = join(work, packed[0]!.filename);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    ({ hw } = intelServer(1, 2));
    store = mkdtempSync(join(tmpdir(), 'let-consumers-store-'));
  });
  afterEach(() => {
    hw.cleanup();
    rmSync(store, { recursive: true, force: true });
  });

  /** A fresh project with the tarball installed (and `extra` packages). */
  function project(name: string, packageJson: Record<string, unknown>, extra: string[] = []): string {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...packageJson }));
    npm(['install', tarball, ...extra], dir);
    return dir;
  }

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PREBUILDS_ONLY: '1', LET_HARDWARE_ROOT: hw.root, LET_NVML_LIBRARY: '', LET_OUTPUT_DIR: store, LET_REQUIRE_NATIVE: '1' });

  it('require() works from a .cjs file (CommonJS), and the run is tracked on simulated hardware', () => {
    const dir = project('cjs-consumer', { type: 'commonjs' });
    writeFileSync(
      join(dir, 'track.cjs'),
      `const { EnergyTracker, carbonIntensity, version } = require('lamarr-energy-tracker');
const tracker = new EnergyTracker({ projectName: 'cjs', printSummary: false }).start();
const record = tracker.stop();
console.log(JSON.stringify({ status: record.run_status, method: record.cpu_energy_method, caf: carbonIntensity('CAF').gramsPerKwh, version }));
`,
    );
    const result = spawnSync(process.execPath, ['track.cjs'], { cwd: dir, encoding: 'utf8', env: env() });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stderr, 'no warning (require of ES modules is not experimental on the Node versions engines allows)').to.equal('');
    expect(JSON.parse(result.stdout)).to.deep.include({ status: 'completed', method: 'measured:powercap', caf: 26 });
  });

  for (const [flavour, compilerOptions] of [
    ['module commonjs', { module: 'commonjs', target: 'es2022' }],
    ['module nodenext', { module: 'nodenext', target: 'es2022' }],
  ] as const) {
    it(`a CommonJS TypeScript project (${flavour}) that compiles also runs; the types need nothing else installed`, () => {
      const dir = project(`ts-cjs-${flavour.split(' ')[1]}`, { type: 'commonjs' });
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { ...compilerOptions, strict: true, outDir: 'out', skipLibCheck: false }, files: ['index.ts'] }),
      );
      writeFileSync(
        join(dir, 'index.ts'),
        `import { EnergyTracker, type EmissionsRecord } from 'lamarr-energy-tracker';
const tracker = new EnergyTracker({ projectName: 'ts-cjs', printSummary: false }).start();
const record: EmissionsRecord = tracker.stop();
console.log(JSON.stringify({ status: record.run_status, method: record.cpu_energy_method }));
`,
      );
      const compiled = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
      expect(compiled.status, compiled.stdout + compiled.stderr).to.equal(0);
      const result = spawnSync(process.execPath, [join('out', 'index.js')], { cwd: dir, encoding: 'utf8', env: env() });
      expect(result.status, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.deep.equal({ status: 'completed', method: 'measured:powercap' });
    });
  }

  for (const major of [5, 6]) {
    it(`installs beside tinybench ${major} and measures its tasks (withEnergy)`, () => {
      const dir = project(`tinybench${major}`, { type: 'module' }, [`tinybench@^${major}`]);
      writeFileSync(
        join(dir, 'bench.mjs'),
        `import { Bench } from 'tinybench';
import { withEnergy } from 'lamarr-energy-tracker';
import { readFileSync } from 'node:fs';
const bench = withEnergy(new Bench({ time: 20, iterations: 5 }), { maxTimeMs: 3000, batches: 3, warmupMs: 10 });
bench.add('parse', () => JSON.parse('[1,2,3]'));
await bench.run();
const version = JSON.parse(readFileSync('node_modules/tinybench/package.json', 'utf8')).version;
console.log(JSON.stringify({ version, energy: bench.energy.map((e) => [e.name, e.quality]), columns: Object.keys(bench.table()[0]) }));
`,
      );
      const result = spawnSync(process.execPath, ['bench.mjs'], { cwd: dir, encoding: 'utf8', env: env() });
      expect(result.status, result.stderr).to.equal(0);
      const out = JSON.parse(result.stdout) as { version: string; energy: [string, string][]; columns: string[] };
      expect(out.version.split('.')[0]).to.equal(String(major));
      expect(out.energy.map(([name]) => name)).to.deep.equal(['parse']);
      expect(out.columns).to.include.members(['Task name', 'Energy/op', 'Energy quality']);
    });
  }

  it('ships let_exec in the prebuild: `run` installed without compiling still ends its command when killed with SIGKILL', async () => {
    const dir = project('run-consumer', { type: 'module' });
    // A PATH with only node, sh and sleep: no setpriv to fall back on, so only let_exec can end the command.
    const bin = join(dir, 'path-bin');
    mkdirSync(bin);
    for (const [name, target] of [['node', process.execPath], ['sh', '/bin/sh'], ['sleep', execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim()]]) {
      symlinkSync(target!, join(bin, name!));
    }
    const child = spawn(join(dir, 'node_modules', '.bin', 'lamarr-energy-tracker'), ['run', '--no-summary', '--', 'sh', '-c', 'echo $$; exec sleep 60'], {
      cwd: dir,
      env: { ...env(), PATH: bin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!/^\d+\n/.test(out)) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`no pid printed: ${out}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const pid = Number(out.trim());
    child.kill('SIGKILL');
    await exited;
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return false;
      }
    };
    const until = Date.now() + 5000;
    while (alive() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    const stillAlive = alive();
    if (stillAlive) process.kill(pid, 'SIGKILL');
    expect(stillAlive, 'the command outlived run').to.equal(false);
    expect(existsSync(join(dir, 'node_modules', 'lamarr-energy-tracker', 'prebuilds', `${process.platform}-${process.arch}`, 'let_exec'))).to.equal(true);
  });
});
