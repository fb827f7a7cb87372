/**
 * scripts/rapl-access.sh in a fake root: a powercap tree like Linux's (two sockets with core
 * and dram subzones, an intel-rapl-mmio zone, flat /sys/class/powercap links) plus /dev/cpu/N/msr.
 */
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repoRoot, 'scripts/rapl-access.sh');
const RULE = 'etc/udev/rules.d/99-lamarr-energy-tracker-rapl.rules';
const MSR_RULE = 'etc/udev/rules.d/99-lamarr-energy-tracker-msr.rules';
const MODULES_LOAD = 'etc/modules-load.d/lamarr-energy-tracker-msr.conf';
const isRoot = process.getuid?.() === 0;

const ZONES = [
  'intel-rapl/intel-rapl:0',
  'intel-rapl/intel-rapl:0/intel-rapl:0:0',
  'intel-rapl/intel-rapl:0/intel-rapl:0:1',
  'intel-rapl/intel-rapl:1',
  'intel-rapl/intel-rapl:1/intel-rapl:1:0',
  'intel-rapl/intel-rapl:1/intel-rapl:1:1',
  'intel-rapl-mmio/intel-rapl-mmio:0',
];

function groupOf(gid: number): string | null {
  const r = spawnSync('getent', ['group', String(gid)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(':')[0]! : null;
}

/** A group this process may chgrp its files to, preferably not its primary group. */
function pickGroup(): { name: string; gid: number } {
  const primary = process.getgid!();
  const candidates = isRoot ? [1, 2, 3, 4, 5, 100, 65534] : process.getgroups!().filter((g) => g !== primary);
  for (const gid of [...candidates, primary]) {
    const name = groupOf(gid);
    if (name && gid !== 0 && /^[a-z_][a-z0-9_-]*$/.test(name)) return { name, gid };
  }
  return { name: groupOf(primary) ?? 'root', gid: primary };
}

class FakeRoot {
  readonly root = mkdtempSync(join(tmpdir(), 'let-rapl-access-'));
  readonly energyFiles: string[] = [];
  readonly rangeFiles: string[] = [];
  readonly msrFiles: string[] = [];
  constructor() {
    const devices = join(this.root, 'sys/devices/virtual/powercap');
    const cls = join(this.root, 'sys/class/powercap');
    mkdirSync(cls, { recursive: true });
    for (const z of ZONES) {
      const dir = join(devices, z);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'name'), 'zone\n');
      writeFileSync(join(dir, 'energy_uj'), '123456\n');
      chmodSync(join(dir, 'energy_uj'), 0o400);
      writeFileSync(join(dir, 'max_energy_range_uj'), '262143328850\n');
      chmodSync(join(dir, 'max_energy_range_uj'), 0o444);
      this.energyFiles.push(join(dir, 'energy_uj'));
      this.rangeFiles.push(join(dir, 'max_energy_range_uj'));
      const zone = z.split('/').pop()!;
      symlinkSync(relative(cls, dir), join(cls, zone));
    }
    for (const type of ['intel-rapl', 'intel-rapl-mmio']) symlinkSync(relative(cls, join(devices, type)), join(cls, type));
    for (const cpu of [0, 1, 2, 3]) {
      const dir = join(this.root, 'dev/cpu', String(cpu));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'msr'), '');
      chmodSync(join(dir, 'msr'), 0o600);
      this.msrFiles.push(join(dir, 'msr'));
    }
  }
  path(rel: string): string {
    return join(this.root, rel);
  }
  /** mode, uid, gid and content of every file under the root (symlinks as their target text). */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const st = lstatSync(p);
        const rel = relative(this.root, p);
        if (st.isSymbolicLink()) out[rel] = 'link';
        else if (st.isDirectory()) {
          out[rel] = `dir ${(st.mode & 0o7777).toString(8)} ${st.gid}`;
          walk(p);
        } else out[rel] = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${readFileSync(p, 'utf8')}`;
      }
    };
    walk(this.root);
    return out;
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function run(args: string[], env: Record<string, string> = {}, prefix: string[] = []): SpawnSyncReturns<string> {
  const cmd = prefix.length > 0 ? prefix[0]! : 'bash';
  const argv = prefix.length > 0 ? [...prefix.slice(1), 'bash', script, ...args] : [script, ...args];
  return spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env } });
}

function mode(p: string): number {
  return statSync(p).mode & 0o7777;
}

describe('scripts/rapl-access.sh (fake root)', function () {
  this.timeout(30_000);
  const group = pickGroup();
  let fake: FakeRoot;
  // As root, the fake root is taken literally; as an ordinary user --skip-root-check is needed.
  const base = (): string[] => ['--root', fake.root, '--group', group.name, ...(isRoot ? [] : ['--skip-root-check'])];

  beforeEach(() => {
    fake = new FakeRoot();
  });
  afterEach(() => fake.cleanup());

  it('prints help', () => {
    const r = run(['--help']);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.include('--dry-run').and.include('--undo').and.include('--msr').and.include('--group');
  });

  it('grants every energy_uj (both sockets, subzones, mmio) to the group only, with a udev rule', () => {
    const r = run(base());
    expect(r.status, r.stderr).to.equal(0);
    for (const f of fake.energyFiles) {
      expect(mode(f).toString(8), f).to.equal('440');
      expect(statSync(f).gid, f).to.equal(group.gid);
    }
    for (const f of fake.rangeFiles) expect(mode(f).toString(8)).to.equal('444');
    const rule = readFileSync(fake.path(RULE), 'utf8');
    expect(mode(fake.path(RULE)).toString(8)).to.equal('644');
    expect(rule).to.match(/SUBSYSTEM=="powercap", KERNEL=="intel-rapl:\*"/);
    expect(rule).to.match(/SUBSYSTEM=="powercap", KERNEL=="intel-rapl-mmio:\*"/);
    for (const line of rule.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).to.match(/RUN\+="\S*chgrp \S+ %S%p\/energy_uj"/);
      expect(line).to.include(`chgrp ${group.name} `);
      expect(line).to.match(/RUN\+="\S*chmod g\+r %S%p\/energy_uj"/);
      expect(line).not.to.match(/a\+r|o\+r|0?444/);
    }
    // outside effects are announced, not run, in a fake root
    expect(r.stdout).to.match(/not run.*udevadm control --reload-rules/);
    expect(r.stdout).to.match(/not run.*udevadm trigger/);
    // MSR untouched without --msr
    for (const f of fake.msrFiles) expect(mode(f).toString(8)).to.equal('600');
    expect(existsSync(fake.path(MSR_RULE))).to.equal(false);
  });

  it('prints the side-channel warning', () => {
    const r = run(base());
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('PLATYPUS').and.include('CVE-2020-8694').and.include('CVE-2020-12912');
    expect(r.stdout).to.include(`"${group.name}"`);
    expect(r.stdout).to.match(/usermod -aG/);
  });

  it('--dry-run changes nothing, prints the plan, and needs no root', () => {
    const before = fake.snapshot();
    const r = run(['--root', fake.root, '--group', group.name, '--dry-run', '--msr'], { LET_RAPL_ACCESS_TEST_EUID: '1000' });
    expect(r.status, r.stderr).to.equal(0);
    expect(fake.snapshot()).to.deep.equal(before);
    expect(existsSync(fake.path('etc'))).to.equal(false);
    expect(r.stdout).to.include(`would write ${fake.path(RULE)}`);
    expect(r.stdout).to.include('KERNEL=="intel-rapl-mmio:*"');
    for (const f of ['intel-rapl:0', 'intel-rapl:0:1', 'intel-rapl:1:1', 'intel-rapl-mmio:0']) {
      expect(r.stdout).to.include(`chgrp -- ${group.name} ${fake.path(`sys/class/powercap/${f}/energy_uj`)}`);
    }
    expect(r.stdout).to.include('PLATYPUS');
    expect(r.stdout).to.include('nothing was changed');
  });

  it('--undo removes the rule and restores root-only modes', () => {
    expect(run(base()).status).to.equal(0);
    const r = run([...base(), '--undo']);
    expect(r.status, r.stderr).to.equal(0);
    expect(existsSync(fake.path(RULE))).to.equal(false);
    for (const f of fake.energyFiles) {
      expect(mode(f).toString(8), f).to.equal('400');
      if (isRoot) expect(statSync(f).gid, f).to.equal(0);
    }
    for (const f of fake.rangeFiles) expect(mode(f).toString(8)).to.equal('444');
  });

  it('--undo --dry-run changes nothing', () => {
    expect(run(base()).status).to.equal(0);
    const before = fake.snapshot();
    const r = run([...base(), '--undo', '--dry-run']);
    expect(r.status, r.stderr).to.equal(0);
    expect(fake.snapshot()).to.deep.equal(before);
    expect(r.stdout).to.include('would run: rm -f --');
  });

  it('--msr grants /dev/cpu/*/msr, loads msr at boot, prints (not runs) setcap; --undo restores', () => {
    const r = run([...base(), '--msr']);
    expect(r.status, r.stderr).to.equal(0);
    for (const f of fake.msrFiles) {
      expect(mode(f).toString(8)).to.equal('640');
      expect(statSync(f).gid).to.equal(group.gid);
    }
    expect(readFileSync(fake.path(MSR_RULE), 'utf8')).to.match(new RegExp(`SUBSYSTEM=="msr".*GROUP="${group.name}", MODE="0640"`));
    expect(readFileSync(fake.path(MODULES_LOAD), 'utf8')).to.equal('msr\n');
    expect(r.stdout).to.match(/not run.*modprobe msr/);
    expect(r.stdout).to.include('setcap cap_sys_rawio=ep').and.include('CAP_SYS_RAWIO');
    const u = run([...base(), '--undo']);
    expect(u.status, u.stderr).to.equal(0);
    for (const f of fake.msrFiles) expect(mode(f).toString(8)).to.equal('600');
    expect(existsSync(fake.path(MSR_RULE))).to.equal(false);
    expect(existsSync(fake.path(MODULES_LOAD))).to.equal(false);
  });

  it('refuses to run without root (simulated uid) and changes nothing', () => {
    const before = fake.snapshot();
    const r = run(['--root', fake.root, '--group', group.name], { LET_RAPL_ACCESS_TEST_EUID: '1000' });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include('must be run as root');
    expect(fake.snapshot()).to.deep.equal(before);
    const u = run(['--root', fake.root, '--undo'], { LET_RAPL_ACCESS_TEST_EUID: '1000' });
    expect(u.status).to.not.equal(0);
    expect(u.stderr).to.include('must be run as root');
  });

  it('refuses to run as a real unprivileged user (setpriv to nobody)', function () {
    const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
    if (!isRoot || setpriv.status !== 0) this.skip();
    const before = fake.snapshot();
    const r = run(['--root', fake.root, '--group', group.name], {}, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include('must be run as root');
    expect(fake.snapshot()).to.deep.equal(before);
  });

  it('rejects --skip-root-check without --root, bad group names and unknown arguments', () => {
    expect(run(['--skip-root-check', '--dry-run']).stderr).to.include('only allowed with --root');
    const bad = run(['--group', 'x;rm -rf /', '--dry-run']);
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.include('invalid group name');
    expect(run(['--frobnicate']).status).to.not.equal(0);
  });

  it('in a fake root, refuses a group that does not exist on this host (groupadd is not run there)', () => {
    const r = run(['--root', fake.root, '--group', 'let_no_such_group_x', ...(isRoot ? [] : ['--skip-root-check'])]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include('does not exist');
    const d = run(['--root', fake.root, '--group', 'let_no_such_group_x', '--dry-run']);
    expect(d.status, d.stderr).to.equal(0);
    expect(d.stdout).to.match(/not run.*groupadd --system let_no_such_group_x/);
  });
});
