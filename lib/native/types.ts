/**
 * The typed interface of the native addon (`build/Release/let_sampler.node` or a prebuild).
 *
 * This file is the contract between `native/` (C++) and the TypeScript layer: the addon's
 * exports must match it exactly. Energies are integer microjoules carried in JavaScript
 * numbers (exact up to 2^53 µJ ≈ 9 GJ ≈ 2,500 kWh per sampler lifetime); times are
 * nanoseconds of the monotonic clock (CLOCK_MONOTONIC), as numbers.
 */

/** What a domain measures. */
export type DomainKind = 'package' | 'core' | 'uncore' | 'dram' | 'psys' | 'graphics' | 'gpu';

/** How a domain's energy is obtained. */
export type SensorMethod =
  | 'powercap' // Linux powercap sysfs energy_uj (intel-rapl / intel-rapl-mmio)
  | 'msr' // /dev/cpu/N/msr RAPL energy status registers
  | 'nvml-energy' // nvmlDeviceGetTotalEnergyConsumption (mJ counter)
  | 'nvml-power'; // nvmlDeviceGetPowerUsage integrated on the sampling thread (trapezoid)

/** One measured energy domain, as discovered. Index in `domains` = index in every reading. */
export interface DomainInfo {
  /** Stable identifier, e.g. `powercap:intel-rapl:0:1`, `msr:cpu0:0x611`, `nvml:GPU-…uuid`. */
  id: string;
  /** `cpu` for RAPL domains (including dram/psys), `gpu` for NVML devices. */
  device: 'cpu' | 'gpu';
  kind: DomainKind;
  /** The zone/domain name as reported (`package-0`, `package-0-die-1`, `dram`, `core`, or the GPU name). */
  name: string;
  /** CPU package (socket) id for RAPL domains, NVML index for GPUs. */
  index: number;
  /** Die id for `package-N-die-D` zones; -1 otherwise. */
  die: number;
  /** Identifier of the containing domain for subzones (core/uncore/dram under a package), else null. A subzone is contained in its parent: never add it to the parent. */
  parentId: string | null;
  method: SensorMethod;
  /** Smallest energy step in µJ (61.035 for Intel RAPL, 15.26 AMD, 1000 for NVML mJ). */
  resolutionUj: number;
  /** Counter wrap range in µJ (powercap max_energy_range_uj, 2^32 × unit for MSR), 0 when it does not wrap. */
  wrapRangeUj: number;
  /** Where the counter is read (file path under the hardware root, or `nvml`). */
  source: string;
  /** GPU UUID (`GPU-…`) for NVML domains, else null. */
  uuid: string | null;
  /** Typical update period of the counter in ms (RAPL ~1, NVML energy ~10–100). */
  updatePeriodMs: number;
}

/** A sensor that exists but cannot be read, with a reason a person can act on. */
export interface UnavailableSensor {
  /** `powercap`, `msr`, `nvml`. */
  method: 'powercap' | 'msr' | 'nvml';
  /** The path or device concerned (e.g. `/sys/class/powercap/intel-rapl:0/energy_uj`). */
  target: string;
  /** What is wrong, in words. */
  reason: string;
  /** The command or step that fixes it, when one exists. */
  fix: string | null;
}

/** Options for opening a sampler. */
export interface NativeSamplerOptions {
  /** Root under which /sys, /proc and /dev are resolved. Default: `LET_HARDWARE_ROOT` or `/`. */
  hardwareRoot?: string;
  /** Path of the NVML library. Default: `LET_NVML_LIBRARY` or `libnvidia-ml.so.1`. `''` disables NVML. */
  nvmlLibrary?: string;
  /** GPUs to measure, by NVML index (`"0"`) or UUID / UUID prefix (`"GPU-1a2b"`). Default: all. */
  gpuIds?: string[];
  /** PID whose CPU time is used for process attribution. Default: the calling process. */
  attributionPid?: number;
  /**
   * Also count the CPU time of the attribution PID's live descendants (followed incrementally:
   * known members re-read, new pids looked at when a process was created).
   */
  includeDescendants?: boolean;
  /** The CPU load model integrated into `loadModelS` (`CPU_LOAD_MODEL` of lib/estimate). Absent: `loadModelS` stays 0. */
  loadModel?: LoadModel;
}

/** A CPU load model `P / TDP = idleShare + (1 − idleShare) × u^exponent`, u the machine's busy share. */
export interface LoadModel {
  idleShare: number;
  exponent: number;
}

/**
 * What one holder of the sampling thread needs read on each tick besides the energy counters:
 * `machine` (proc/stat: a load estimate, attribution) and `process` (the attribution process's
 * CPU time: attribution, process estimates). Fresh reads always read both.
 */
export interface CpuTimesUse {
  machine: boolean;
  process: boolean;
}

/** CPU time counters read together with the energy counters (Linux /proc; 0 when unknown). */
export interface CpuTimes {
  /** Whether /proc/stat could be read (false: the fields below are 0). */
  available: boolean;
  /** Sum of all fields of the `cpu` line of /proc/stat, in seconds (all CPUs). */
  machineTotalS: number;
  /** Busy time of all CPUs (total minus idle and iowait), in seconds. */
  machineBusyS: number;
  /** utime + stime of the attribution process (and descendants if enabled), in seconds. */
  processS: number;
  /**
   * ∫ (idleShare + (1 − idleShare)·u^exponent) dt in seconds over the sampler's `loadModel`
   * (CodeCarbon's 0.1 + 0.9·u³), u the machine's busy share between two reads of proc/stat.
   * Multiply by TDP (W) for joules. 0 without a load model.
   */
  loadModelS: number;
  /** Number of logical CPUs seen in /proc/stat. */
  logicalCpus: number;
  /**
   * Where the times come from when not from /proc/stat: `os-cpus` = `os.cpus()` (machine) and
   * `process.cpuUsage()` (this process only), used by the tracker where the sampler finds no
   * /proc/stat. Absent: /proc/stat (the native sampler).
   */
  origin?: 'os-cpus';
}

/** Cumulative totals since the sampler opened. */
export interface Reading {
  /** CLOCK_MONOTONIC time of the reading, ns. */
  timestampNs: number;
  /** Cumulative energy per domain (same order as `domains`), integer µJ. */
  energyUj: number[];
  /**
   * Cumulative energy per domain attributed to the attribution process: a CPU domain's energy
   * waits until the machine's CPU tick count moves (in a sample that read the process's CPU
   * time), then all of it is attributed at the process's share of the machine's CPU time since
   * the previous such sample (GPU domains: attributed whole, same as energyUj). Integer µJ.
   */
  attributedUj: number[];
  cpu: CpuTimes;
}

/**
 * One entry of the recent-samples ring: the totals as the sampling thread published them
 * (a full {@link Reading}: energy, attributed energy and CPU times).
 */
export type Sample = Reading;

/** Counters of trouble seen by the sampler since it opened. */
export interface SamplerStats {
  /** Samples taken (thread + fresh reads). */
  samples: number;
  /** Failed or unparsable reads (each skipped; the last good reading stays the domain's baseline). */
  readErrors: number;
  /** Deltas discarded as physically impossible (above the power bound). */
  anomalies: number;
  /** Counter resets seen (NVML energy counter decreased). */
  resets: number;
  /** Wraps handled. */
  wraps: number;
  /** Whether the sampling thread samples (at least one `acquire()` is outstanding). */
  threadRunning: boolean;
  /**
   * Whether the sampling thread exists but is parked: no holder, kept by `release(token, true)`
   * for the next `acquire()`; it waits with no deadline (no CPU, no wake-up) until then or `close()`.
   */
  threadParked: boolean;
  /** OS threads this sampler has started (a parked thread woken by `acquire()` is not a new one). */
  threadStarts: number;
  /** Effective sampling interval (ms), after clamping to a quarter of the shortest wrap time. */
  intervalMs: number;
  /** Per-domain counts, same order as `domains`. */
  perDomain: Array<{ readErrors: number; anomalies: number; resets: number; wraps: number }>;
}

/** Result of discovery. */
export interface ProbeResult {
  /** `linux` when the platform code is compiled in, `stub` elsewhere. */
  platform: 'linux' | 'stub';
  hardwareRoot: string;
  domains: DomainInfo[];
  unavailable: UnavailableSensor[];
  /** `GenuineIntel`, `AuthenticAMD`, `HygonGenuine`, or '' when unknown. */
  cpuVendor: string;
  /** `model name` from /proc/cpuinfo, '' when unknown. */
  cpuModel: string;
  /** Whether NVML was loaded and initialised. */
  nvmlLoaded: boolean;
  /** NVML driver version when loaded, else ''. */
  nvmlDriverVersion: string;
}

/**
 * A native sampler: discovery is done at construction; the thread runs while at least one
 * `acquire()` is outstanding. All methods run on the JavaScript thread and are synchronous.
 */
export interface NativeSampler {
  /** Sensors found and sensors that could not be read. */
  probe(): ProbeResult;
  /** Domains measured, in reading order. */
  readonly domains: DomainInfo[];
  /**
   * Register a user of the sampling thread with its wanted interval (within
   * `SAMPLING_INTERVAL_MS`) and the CPU times its ticks need (default: both); starts the thread
   * on the first acquire (or takes a parked one back). The thread runs at the shortest interval
   * asked by any holder, never longer than a quarter of the shortest wrap time, and reads the
   * CPU times any holder needs (at most every 10 ms). Returns a token for release.
   */
  acquire(intervalMs: number, cpuTimes?: CpuTimesUse): number;
  /**
   * Release a token from `acquire`. When none remain, the thread is stopped and joined; with
   * `park` true it is parked instead (waits with no deadline, costs no CPU), woken by the next
   * `acquire()` and joined by `close()` (or the env cleanup hook, or the finalizer).
   */
  release(token: number, park?: boolean): void;
  /** Take a fresh reading of every counter now (exact start/stop), then return the totals. */
  read(): Reading;
  /**
   * The same fresh reading, written as numbers into `buffer` (a Float64Array of at least
   * 1 + 2 × domains + 6; layout in lib/native/reading-buffer.ts), which costs less than building
   * the Reading through Node-API. Absent from older addons.
   */
  readInto?(buffer: Float64Array): void;
  /** Return the latest totals without touching hardware (cheap). */
  latest(): Reading;
  /**
   * The machine's available memory now, bytes: MemAvailable of the real /proc/meminfo (what
   * `os.freemem()` returns), read with a descriptor kept open from the first call until
   * `close()`; null where it cannot be read (the stub platform). Absent from older addons.
   */
  memAvailable?(): number | null;
  /**
   * Recent samples (oldest first), at most 4096 kept; with `sinceNs`, only those taken after
   * that monotonic time (ns), so that a caller can drain the ring without copying it all.
   */
  recentSamples(sinceNs?: number): Sample[];
  stats(): SamplerStats;
  /** Stop the thread, close files, shut NVML down. Idempotent; later calls to read throw. */
  close(): void;
}

/** The addon's exports. */
export interface NativeBinding {
  /** `linux` or `stub`. */
  readonly platform: 'linux' | 'stub';
  /** Version of the native code (matches package.json at build time). */
  readonly version: string;
  Sampler: new (options?: NativeSamplerOptions) => NativeSampler;
  /** Sampling threads of this addon instance that sample now (for leak tests; parked ones: `parkedThreads()`). */
  liveThreads(): number;
  /** Sampling threads of this addon instance that exist but are parked (for leak tests). */
  parkedThreads(): number;
  /** Open file descriptors this addon instance holds (for leak tests). */
  openFiles(): number;
  /** An empty native call (benchmark baseline). */
  noop(): void;
  /**
   * Chain a handler in front of the current (libuv's) one for each signal number, and end the
   * process with the signal's default action when JavaScript has not called
   * `signalHandled(signal)` within `graceMs` of its arrival (a blocked event loop). False when
   * nothing was armed (no handler installed, another thread holds the watchdog, or a platform
   * without POSIX signals).
   */
  armSignalWatchdog(signals: number[], graceMs: number): boolean;
  /** Whether this is Node's main thread (its loop is libuv's default one), where signals reach `process` listeners. */
  isMainThread?(): boolean;
  /** JavaScript has run its handler for `signal`: the watchdog stands down for this arrival. */
  signalHandled(signal: number): void;
  /** Stop watching one signal (its previous handler is put back). */
  disarmSignal(signal: number): void;
  /** Stop watching all signals and join the watchdog thread. */
  disarmSignalWatchdog(): void;
  /**
   * `null`: runs are active (what `armSignalWatchdog` starts with). An array: no run is active;
   * each of these watched signals then takes its default action at once, in the native handler
   * (the process dies of it as with no listener), and the others are passed on with no grace
   * period watched. Absent from addons built before the idle window: check that it is a function.
   */
  setSignalWatchdogIdle?(signals: number[] | null): void;
  /**
   * Whether the kernel lock below works on this platform (Linux: open-file-description locks;
   * false on the stub platforms, where lib/store uses its lock-file fallback). The lock
   * functions are absent from addons built before 0.2.0: check that they are functions.
   */
  readonly lockSupported?: boolean;
  /**
   * Try once, without waiting, to take the exclusive lock on the regular file `path` (created,
   * mode 0666 less the umask, if missing; a symbolic link, FIFO, directory or device is refused). When taken,
   * `holder` is written into the file and a handle is returned; the lock lasts until
   * `lockRelease(handle)`, the end of the calling thread's env (a terminated worker) or of the
   * process. Returns null when another holder has it. Throws an Error with `code` (`ENOTREG`:
   * not a regular file; otherwise the errno name, e.g. `EACCES`) and `path`.
   */
  lockTry?(path: string, holder: string): number | null;
  /** Release a lock taken by `lockTry` in this thread. */
  lockRelease?(handle: number): void;
  /** Whether `path` still names the file locked by `handle` (false: removed or replaced by hand). */
  lockStillHeld?(handle: number, path: string): boolean;
  /** The text the current holder wrote into the lock file (up to 4 KiB), or null. */
  lockHolder?(path: string): string | null;
  /** Locks this thread holds now (for leak tests). */
  heldLocks?(): number;
}
