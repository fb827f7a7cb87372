/**
 * The npm tarball installs and runs anywhere: packed with `npm pack`, installed into a fresh
 * project with install scripts disabled (as npm 12+ does by default), it loads the bundled
 * prebuild (PREBUILDS_ONLY=1), tracks a section on simulated hardware, and runs the CLI's
 * `statement` and `probe`. Without a loadable binary, importing still works, trackers record
 * labelled estimates, the warning appears once, and LET_REQUIRE_NATIVE=1 makes it an error.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/version.js';
import { intelServer, type FakeHardware, type PowercapCounter } from '../fixtures/fake-hardware.js';

const PLATFORM_DIR = join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);

describe('the npm tarball, installed with install scripts disabled', function () {
  this.timeout(300000);
  let work: string;
  let project: string;
  let installed: string;
  let tarballFiles: string[];

  before(function () {
    if (!existsSync(PLATFORM_DIR) || !readdirSync(PLATFORM_DIR).some((name) => name.endsWith('.node'))) {
      throw new Error(`no prebuild in ${PLATFORM_DIR}: run \`npm run prebuilds\` (npm test does it via scripts/ensure-prebuild.cjs)`);
    }
    if (!existsSync(join(PACKAGE_ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts`');
    work = mkdtempSync(join(tmpdir(), 'let-pack-'));
    const packed = JSON.parse(
      // With its scripts: prepack compiles dist/ and makes sure the prebuild is current.
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarballFiles = packed[0]!.files.map((file) => file.path);
    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    execFileSync(
      'npm',
      ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0]!.filename)],
      { cwd: project, stdio: 'pipe', encoding: 'utf8' },
    );
    installed = join(project, 'node_modules', 'lamarr-energy-tracker');
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the prebuild, the compiled library, the C++ sources for a fallback build, the data with its licence, and no tests', () => {
    expect(tarballFiles).to.include.members([
      'package.json',
      'README.md',
      'LICENSE',
      'binding.gyp',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/bin.js',
      'native/sampler.cpp',
      'data/carbon-intensity.json',
      'data/cpu-tdp-index.txt',
      'data/LICENSE-codecarbon',
      'scripts/rapl-access.sh',
      'scripts/install.cjs',
    ]);
    expect(tarballFiles.some((path) => /^prebuilds\/linux-x64\/.+\.node$/.test(path))).to.equal(true);
    expect(tarballFiles.filter((path) => path.startsWith('test/') || path.startsWith('lib/'))).to.deep.equal([]);
    expect(existsSync(join(installed, 'build')), 'install scripts were disabled: nothing was compiled').to.equal(false);
  });

  describe('with the prebuild', () => {
    let hw: FakeHardware;
    let packages: PowercapCounter[];
    let store: string;
    beforeEach(() => {
      ({ hw, packages } = intelServer(1, 2));
      store = mkdtempSync(join(tmpdir(), 'let-pack-store-'));
    });
    afterEach(() => {
      hw.cleanup();
      rmSync(store, { recursive: true, force: true });
    });

    it('imports the library and tracks a section exactly on simulated hardware', () => {
      const energyFile = join(hw.root, 'sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj');
      expect(existsSync(energyFile)).to.equal(true);
      writeFileSync(
        join(project, 'track.mjs'),
        `import { writeFileSync, readFileSync } from 'node:fs';
import { EnergyTracker, probe } from 'lamarr-energy-tracker';
const tracker = new EnergyTracker({ projectName: 'packed', printSummary: false }).start();
const file = process.env.ENERGY_FILE;
const before = BigInt(readFileSync(file, 'utf8').trim());
await new Promise((resolve) => setTimeout(resolve, 50));
writeFileSync(file, String(before + 2500000n) + '\\n'); // 2.5 J
const record = tracker.stop();
console.log(JSON.stringify({ record, platform: probe().platform }));
`,
      );
      const result = spawnSync(process.execPath, ['track.mjs'], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, PREBUILDS_ONLY: '1', LET_HARDWARE_ROOT: hw.root, LET_NVML_LIBRARY: '', LET_OUTPUT_DIR: store, ENERGY_FILE: energyFile, LET_REQUIRE_NATIVE: '1' },
      });
      expect(result.status, result.stderr).to.equal(0);
      const { record, platform } = JSON.parse(result.stdout) as { record: Record<string, unknown>; platform: string };
      expect(platform).to.equal('linux');
      expect(record.cpu_energy_method).to.equal('measured:powercap');
      expect(Math.round((record.cpu_energy as number) * 3.6e12)).to.equal(2500000);
      expect(record.project_name).to.equal('packed');
      void packages;
    });

    it("runs the CLI's statement and probe", () => {
      const bin = join(project, 'node_modules', '.bin', 'lamarr-energy-tracker');
      const env = { ...process.env, PREBUILDS_ONLY: '1', LET_OUTPUT_DIR: store };
      const statement = spawnSync(bin, ['statement', '--methodology', 'the CO2 Impact Calculator', '--hardware', 'NVIDIA GTX 1080 GPU', '--consumed-energy', '3.2'], {
        cwd: project,
        encoding: 'utf8',
        env,
      });
      expect(statement.status, statement.stderr).to.equal(0);
      expect(statement.stdout).to.include('3.200 kWh').and.include('1.216 kg of CO2-equivalents');
      const probeResult = spawnSync(bin, ['probe', '--json', '--hardware-root', hw.root, '--nvml-library', ''], { cwd: project, encoding: 'utf8', env });
      expect(probeResult.status, probeResult.stderr).to.equal(0);
      const report = JSON.parse(probeResult.stdout) as { native: { loaded: boolean }; cpu: { method: string } };
      expect(report.native.loaded).to.equal(true);
      expect(report.cpu.method).to.equal('measured:powercap');
    });
  });

  describe('when the binary cannot be loaded', () => {
    let hidden: string;
    before(() => {
      hidden = join(work, 'prebuilds-hidden');
      renameSync(join(installed, 'prebuilds'), hidden);
    });
    after(() => renameSync(hidden, join(installed, 'prebuilds')));

    const script = `import { EnergyTracker } from 'lamarr-energy-tracker';
const first = new EnergyTracker({ projectName: 'fallback', printSummary: false }).start();
let x = 0;
for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
const a = first.stop();
const b = new EnergyTracker({ projectName: 'fallback', printSummary: false }).start().stop();
console.log(JSON.stringify([a, b]));
`;

    it('still imports; trackers record labelled estimates and warn once, with the fix', () => {
      const store = mkdtempSync(join(tmpdir(), 'let-pack-store-'));
      try {
        writeFileSync(join(project, 'fallback.mjs'), script);
        const result = spawnSync(process.execPath, ['fallback.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, LET_OUTPUT_DIR: store, LET_REQUIRE_NATIVE: '' } });
        expect(result.status, result.stderr).to.equal(0);
        const [a, b] = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
        for (const record of [a!, b!]) {
          expect(record.cpu_energy_method).to.equal('estimated:tdp-load-model');
          expect(record.ram_energy_method).to.equal('estimated:dimm-model');
          expect(record.cpu_energy as number).to.be.greaterThan(0);
        }
        expect(result.stderr.match(/LET_NATIVE_UNAVAILABLE/g) ?? []).to.have.length(1);
        expect(result.stderr).to.include('npm rebuild lamarr-energy-tracker');
        expect(result.stderr).to.match(/approve/);
      } finally {
        rmSync(store, { recursive: true, force: true });
      }
    });

    it('probe says the sampler is not loaded, why, and the fix', () => {
      const bin = join(project, 'node_modules', '.bin', 'lamarr-energy-tracker');
      const result = spawnSync(bin, ['probe'], { cwd: project, encoding: 'utf8' });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.include('Native sampler: NOT LOADED');
      expect(result.stdout).to.include('npm rebuild lamarr-energy-tracker');
    });

    it('LET_REQUIRE_NATIVE=1 turns the fallback into an error', () => {
      writeFileSync(join(project, 'fallback.mjs'), script);
      const result = spawnSync(process.execPath, ['fallback.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, LET_REQUIRE_NATIVE: '1' } });
      expect(result.status).to.not.equal(0);
      expect(result.stderr).to.include('LET_REQUIRE_NATIVE');
      expect(result.stderr).to.include('could not be loaded');
    });
  });
});
