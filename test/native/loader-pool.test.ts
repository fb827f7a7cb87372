import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intelServer, type FakeHardware } from '../fixtures/fake-hardware.js';
import { loadNativeBinding, packageRoot, tryLoadNativeBinding } from '../../lib/native/loader.js';
import { acquireSampler, closeIdleSamplers, pooledSamplerCount, resolveSamplerOptions, samplerIdleCloseMs } from '../../lib/native/sampler-pool.js';
import { probe } from '../../lib/native/probe.js';
import { withIdleMs } from '../helpers/process-state.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('native loader', () => {
  it('loads the binding once, with the surface of types.ts', () => {
    const a = tryLoadNativeBinding();
    expect(a.error).to.equal(null);
    const b = loadNativeBinding();
    expect(b).to.equal(a.binding);
    expect(b.platform).to.equal('linux');
    const pkg = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: REPO }).toString());
    expect(b.version).to.equal(pkg.version);
    expect(b.noop()).to.equal(undefined);
    expect(packageRoot().replace(/\/$/, '')).to.equal(REPO.replace(/\/$/, ''));
  });

  it('a missing binary gives an actionable error: what was tried and how to fix it', function () {
    this.timeout(30000);
    // A copy of the package without build/ or prebuilds/.
    const dir = mkdtempSync(join(tmpdir(), 'let-pkg-'));
    try {
      mkdirSync(join(dir, 'lib', 'native'), { recursive: true });
      for (const file of ['loader.ts', 'sampler-options.ts']) copyFileSync(join(REPO, 'lib/native', file), join(dir, 'lib/native', file));
      writeFileSync(join(dir, 'package.json'), '{"name":"lamarr-energy-tracker","type":"module","version":"0.0.0"}');
      writeFileSync(join(dir, 'binding.gyp'), '{}');
      symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
      const script = `import { tryLoadNativeBinding } from './lib/native/loader.ts';
const r = tryLoadNativeBinding(); console.log(JSON.stringify({ name: r.error?.name, message: r.error?.message }));`;
      writeFileSync(join(dir, 'check.mts'), script);
      const out = spawnSync(process.execPath, ['--import', 'tsx', 'check.mts'], { cwd: dir, encoding: 'utf8' });
      const r = JSON.parse(out.stdout.trim()) as { name: string; message: string };
      expect(r.name).to.equal('NativeLoadError');
      expect(r.message).to.contain(join(dir, 'build', 'Release', 'let_sampler.node'));
      expect(r.message).to.contain('prebuilds');
      expect(r.message).to.contain('npm rebuild lamarr-energy-tracker');
      expect(r.message).to.contain('npm install-scripts approve lamarr-energy-tracker');
      expect(r.message).to.not.match(/(^|[^p])npm approve-builds/); // npm has no such command (pnpm does)
      // Every npm command the hint names exists in the npm installed here.
      const commands = [...new Set([...r.message.matchAll(/\bnpm ([a-z][a-z-]+)/g)].map((m) => m[1]!))];
      expect(commands).to.include.members(['rebuild', 'install-scripts']);
      for (const command of commands) {
        const help = spawnSync('npm', [command, '--help'], { encoding: 'utf8' });
        expect(help.status, `npm ${command} --help: ${help.stdout}${help.stderr}`).to.equal(0);
      }
      expect(r.message).to.match(/python3, make and a C\+\+17 compiler/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the stub backend compiles with the same surface (g++ -fsyntax-only)', function () {
    this.timeout(60000);
    const gxx = spawnSync('g++', ['--version']);
    if (gxx.status !== 0 || !existsSync('/usr/include/node/node_api.h')) this.skip();
    const inc = execFileSync('node', ['-p', "require('node-addon-api').include_dir"], { cwd: REPO }).toString().trim();
    for (const f of ['native/addon.cpp', 'native/sampler.cpp', 'native/accumulator.cpp', 'native/stub/discovery_stub.cpp']) {
      const r = spawnSync(
        'g++',
        ['-std=c++17', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', `-I${join(REPO, inc)}`, '-I/usr/include/node',
          '-DNAPI_VERSION=9', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS', join(REPO, f)],
        { encoding: 'utf8' },
      );
      expect(r.stderr, f).to.equal('');
      expect(r.status, f).to.equal(0);
    }
  });
});

describe('native sampler pool and probe()', () => {
  let hw: FakeHardware;
  beforeEach(() => {
    closeIdleSamplers(); // idle samplers left by earlier tests would count in the pool
    hw = intelServer(1, 2).hw;
  });
  afterEach(() => hw.cleanup());

  it('shares one sampler per configuration; the last release stops the thread sampling (parks it) and closes it', () => {
    const a = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 100 });
    const b = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', samplingIntervalMs: 10 });
    const other = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '', includeDescendants: true });
    expect(b.sampler).to.equal(a.sampler);
    expect(other.sampler).to.not.equal(a.sampler);
    expect(pooledSamplerCount()).to.equal(2);
    expect(a.sampler.stats().intervalMs).to.equal(10);
    b.release();
    expect(a.sampler.stats().intervalMs).to.equal(100);
    const r = a.read();
    expect(r.energyUj).to.have.length(3);
    expect(a.latest().timestampNs).to.equal(r.timestampNs);
    a.release();
    expect(a.released).to.equal(true);
    expect(a.sampler.stats().threadRunning).to.equal(false);
    expect(a.sampler.stats().threadParked, 'kept parked for the idle window').to.equal(true);
    // Idle: kept open briefly, so the next run reuses it without discovery.
    const reused = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(reused.sampler).to.equal(a.sampler);
    reused.release();
    closeIdleSamplers();
    expect(() => a.sampler.read()).to.throw(/closed/);
    other.release();
    closeIdleSamplers();
    expect(pooledSamplerCount()).to.equal(0);
    const again = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
    expect(again.sampler).to.not.equal(a.sampler);
    again.release();
    closeIdleSamplers();
  });

  it('closes an idle sampler after LET_SAMPLER_IDLE_MS, or at once when it is 0', async () => {
    expect(samplerIdleCloseMs({})).to.equal(2000);
    expect(samplerIdleCloseMs({ LET_SAMPLER_IDLE_MS: '0' })).to.equal(0);
    expect(samplerIdleCloseMs({ LET_SAMPLER_IDLE_MS: 'soon' })).to.equal(2000);
    await withIdleMs('30', async () => {
      const lease = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
      lease.release();
      expect(pooledSamplerCount()).to.equal(1);
      expect(lease.sampler.stats().threadParked).to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(pooledSamplerCount()).to.equal(0);
      expect(() => lease.sampler.read()).to.throw(/closed/);
      expect(lease.sampler.stats().threadParked, 'the parked thread is joined with the sampler').to.equal(false);
    });
    await withIdleMs('0', async () => {
      const immediate = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
      immediate.release();
      expect(pooledSamplerCount()).to.equal(0);
      expect(immediate.sampler.stats()).to.include({ threadRunning: false, threadParked: false });
    });
  });

  it("memAvailable() reads what os.freemem() returns, with one descriptor kept until the sampler closes", () => {
    const b = loadNativeBinding();
    const s = new b.Sampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
    try {
      const files = b.openFiles();
      const low = freemem();
      const available = s.memAvailable!();
      const high = freemem();
      expect(available).to.be.a('number');
      // MemAvailable moves between the calls; 256 MiB of slack around the two reads of os.freemem().
      expect(available!).to.be.within(Math.min(low, high) - 2 ** 28, Math.max(low, high) + 2 ** 28);
      expect(available! % 1024, 'whole KiB, as /proc/meminfo gives them').to.equal(0);
      expect(b.openFiles(), 'opened on the first read').to.equal(files + 1);
      s.memAvailable!();
      expect(b.openFiles(), 'and kept').to.equal(files + 1);
    } finally {
      s.close();
    }
    expect(b.openFiles()).to.equal(0);
    expect(() => s.memAvailable!()).to.throw(/closed/);
  });

  it("a lease's fresh reading comes through readInto() and equals the Reading the sampler published", () => {
    const lease = acquireSampler({ hardwareRoot: hw.root, nvmlLibrary: '' });
    try {
      expect(lease.sampler.readInto).to.be.a('function');
      const fresh = lease.read();
      expect(fresh).to.deep.equal(lease.sampler.latest());
      expect(fresh.energyUj).to.have.length(3);
      expect(fresh.cpu.available).to.equal(true);
      expect(fresh.cpu.logicalCpus).to.be.above(0);
      const next = lease.read();
      expect(next.timestampNs).to.be.above(fresh.timestampNs);
      expect(next).to.deep.equal(lease.sampler.latest());
      expect(() => lease.sampler.readInto!(new Float64Array(1 + 2 * 3 + 5))).to.throw(TypeError, /Float64Array of 1 \+ 2 × domains \+ 6/);
      expect(() => lease.sampler.readInto!(new Float32Array(20) as unknown as Float64Array)).to.throw(TypeError, /Float64Array/);
    } finally {
      lease.release();
    }
  });

  it('takes LET_HARDWARE_ROOT and LET_NVML_LIBRARY as defaults', () => {
    const env = { LET_HARDWARE_ROOT: '/x', LET_NVML_LIBRARY: '/y.so' };
    expect(resolveSamplerOptions({}, env)).to.include({ hardwareRoot: '/x', nvmlLibrary: '/y.so' });
    expect(resolveSamplerOptions({ hardwareRoot: '/z', nvmlLibrary: '' }, env)).to.include({ hardwareRoot: '/z', nvmlLibrary: '' });
    expect(resolveSamplerOptions({}, {})).to.include({ hardwareRoot: '/', nvmlLibrary: 'libnvidia-ml.so.1' });
    const prev = process.env.LET_HARDWARE_ROOT;
    process.env.LET_HARDWARE_ROOT = hw.root;
    try {
      expect(probe({ nvmlLibrary: '' }).domains).to.have.length(3);
    } finally {
      if (prev === undefined) delete process.env.LET_HARDWARE_ROOT;
      else process.env.LET_HARDWARE_ROOT = prev;
    }
  });

  it('rejects a sampling interval outside 1..60000 ms', () => {
    const pooled = pooledSamplerCount();
    expect(() => acquireSampler({ hardwareRoot: hw.root, samplingIntervalMs: 0 })).to.throw(RangeError);
    expect(() => acquireSampler({ hardwareRoot: hw.root, samplingIntervalMs: 61000 })).to.throw(RangeError);
    expect(pooledSamplerCount()).to.equal(pooled);
  });

  it('probe() on this VM (real root) lists what exists and why the rest cannot be read', () => {
    const p = probe({ nvmlLibrary: '' });
    expect(p.platform).to.equal('linux');
    for (const u of p.unavailable) {
      expect(u.reason).to.be.a('string').and.not.equal('');
      expect(['powercap', 'msr', 'nvml']).to.include(u.method);
    }
    for (const d of p.domains) expect(['powercap', 'msr']).to.include(d.method);
  });
});
