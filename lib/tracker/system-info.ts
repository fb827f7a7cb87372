/**
 * Facts about the machine and the user that go into every record, gathered as CodeCarbon does.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { arch, cpus, freemem, hostname, machine, platform, release, totalmem, type, userInfo } from 'node:os';

/** Machine facts for a record. */
export interface SystemInfo {
  hostname: string;
  user: string;
  /** CodeCarbon-style `platform.platform()`: `Linux-6.1.0-18-amd64-x86_64-with-glibc2.36`. */
  os: string;
  cpuModel: string;
  /** Logical CPUs. */
  cpuCount: number;
  /** Total RAM, GiB. */
  ramTotalGiB: number;
  arch: string;
}

let cachedUser: { uid: number; name: string } | null = null;

/**
 * The login name: `os.userInfo()`, else USER/LOGNAME/USERNAME, else `unknown`. The passwd
 * lookup is done once per user id (it is the costliest part of a record's facts).
 */
export function currentUser(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (cachedUser !== null && cachedUser.uid === uid && uid !== -1) return cachedUser.name;
  try {
    const name = userInfo().username;
    if (name) {
      cachedUser = { uid, name };
      return name;
    }
  } catch {
    // No passwd entry (containers with an arbitrary uid): fall back to the environment.
  }
  return process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME ?? 'unknown';
}

/**
 * The glibc this process runs on: the version in the banner of the libc.so.6 it has mapped
 * ("… stable release version 2.36."), which is what gnu_get_libc_version() returns; else (no
 * glibc mapped, an unreadable file) from a diagnostic report, which costs 5–30 ms. The banner is
 * in the library's read-only data, so the read-only segments mapped after the first are read
 * first (~0.3 MB, ~1 ms); the whole file (~2 MB) only when they do not hold it.
 */
export function glibcVersion(): string | null {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const path = /\s(\/\S*\/libc\.so\.6)\n/.exec(maps)?.[1];
    if (path !== undefined) {
      for (const segment of maps.matchAll(/^([0-9a-f]+)-([0-9a-f]+) r--p ([0-9a-f]+) .*\s(\/\S*\/libc\.so\.6)$/gm)) {
        const offset = parseInt(segment[3]!, 16);
        if (segment[4] !== path || offset === 0) continue;
        const version = bannerVersion(readRange(path, offset, parseInt(segment[2]!, 16) - parseInt(segment[1]!, 16)));
        if (version !== undefined) return version;
      }
      const version = bannerVersion(readFileSync(path));
      if (version !== undefined) return version;
    }
  } catch {
    // fall back to the report
  }
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** The version in glibc's banner within `bytes`, if it is there. */
function bannerVersion(bytes: Buffer): string | undefined {
  const at = bytes.indexOf('release version ');
  return at >= 0 ? /^release version (\d+(?:\.\d+)+)/.exec(bytes.toString('latin1', at, at + 40))?.[1] : undefined;
}

/** `length` bytes of the file at `path` from `offset` (fewer at its end). */
function readRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.allocUnsafe(length);
    return bytes.subarray(0, readSync(fd, bytes, 0, length, offset));
  } finally {
    closeSync(fd);
  }
}

let cachedOs: string | undefined;

/**
 * Describe the operating system as CodeCarbon does. Built once per process: the kernel, the
 * machine and the glibc mapped into this process cannot change while it runs (each part is a
 * system call or a file read).
 */
export function operatingSystem(): string {
  if (cachedOs !== undefined) return cachedOs;
  const base = `${type()}-${release()}-${machine()}`;
  if (platform() !== 'linux') return (cachedOs = base);
  const glibc = glibcVersion();
  return (cachedOs = glibc ? `${base}-with-glibc${glibc}` : base);
}

let cachedCpus: { model: string; count: number } | null = null;
let cachedTotalBytes = 0;

/**
 * The machine's RAM, bytes: `os.totalmem()`, read once per process (it reads /proc/meminfo, about
 * 9 µs, and does not change while the system runs).
 */
function totalMemoryBytes(): number {
  if (cachedTotalBytes === 0) cachedTotalBytes = totalmem();
  return cachedTotalBytes;
}

/**
 * Gather the machine facts (no hardware access). The CPU list, the total RAM and the OS string
 * are read once per process (they do not change); the host name is read each time, the user
 * once per uid.
 */
export function systemInfo(cpuModelFromSampler = ''): SystemInfo {
  if (cachedCpus === null) {
    const cpuList = cpus();
    cachedCpus = { model: cpuList[0]?.model?.trim() ?? '', count: cpuList.length };
  }
  return {
    hostname: hostname(),
    user: currentUser(),
    os: operatingSystem(),
    cpuModel: cpuModelFromSampler || cachedCpus.model,
    cpuCount: cachedCpus.count,
    ramTotalGiB: totalMemoryBytes() / 2 ** 30,
    arch: arch(),
  };
}

/**
 * RAM in use on the machine, GiB, and as a percentage: total less `availableBytes`, the
 * available memory read now (the sampler's read of /proc/meminfo, else `os.freemem()`).
 */
export function ramInUse(availableBytes: number | null = null): { usedGiB: number; percent: number } {
  const total = totalMemoryBytes();
  const used = total - (availableBytes ?? freemem());
  return { usedGiB: used / 2 ** 30, percent: (100 * used) / total };
}
