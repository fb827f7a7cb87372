/**
 * Simulated smart plugs: HTTP servers on 127.0.0.1 that answer as Tasmota, Shelly Gen2 and
 * Shelly Gen1 firmware do, driven at a power you set, so that you (and the tests) know the
 * true wall energy. Try ground truth without a plug:
 *
 * ```ts
 * const plug = await SimulatedPlug.start({ firmware: 'tasmota', watts: 120 });
 * const tracker = new EnergyTracker({ groundTruth: { tasmota: plug.url } });
 * ```
 *
 * Each plug runs on its own worker thread, so it answers even while this thread is blocked
 * (a synchronous `stop()` waits for the plug). The owner (the caller) closes it with `close()`.
 */
import type { Worker } from 'node:worker_threads';
import type { PlugKind } from './plugs.js';
import { SIMULATED_PLUG_SOURCE } from './simulated-plug-source.js';

/** Options of {@link SimulatedPlug.start}. */
export interface SimulatedPlugOptions {
  firmware: PlugKind;
  /** Power drawn from the start, W. Default 0. */
  watts?: number;
  /** Require this password (Tasmota: `user=`/`password=` or Basic; Gen2: Digest; Gen1: Basic). Default: none. */
  password?: string;
  /** User for the password. Default `admin`. */
  user?: string;
  /** The plug's running total at boot, kWh. Default 12.345. */
  initialTotalKwh?: number;
  /** Tasmota: `EnergyRes` at boot (the firmware's default is 3). */
  energyRes?: number;
  /** Tasmota: how often the total is saved to flash, s (a reboot loses what was not saved). Default 3600. */
  savePeriodS?: number;
}

/** How the plug answers: after a delay (a slow plug), or never (a dead one). */
export interface PlugBehaviour {
  delayMs?: number;
  dead?: boolean;
}

/** A simulated plug on 127.0.0.1. */
export class SimulatedPlug {
  private nextId = 1;
  private readonly waiting = new Map<number, (value: unknown) => void>();

  private constructor(
    private readonly worker: Worker,
    /** The firmware simulated. */
    readonly firmware: PlugKind,
    /** Base URL, e.g. `http://127.0.0.1:40123`. */
    readonly url: string,
  ) {
    worker.on('message', (message: { id: number; value: unknown }) => {
      const done = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      done?.(message.value);
    });
  }

  /** Start a plug; resolves when it listens. */
  static async start(options: SimulatedPlugOptions): Promise<SimulatedPlug> {
    if (!['tasmota', 'shelly-gen2', 'shelly-gen1'].includes(options.firmware)) {
      throw new RangeError(`SimulatedPlug: firmware must be tasmota, shelly-gen2 or shelly-gen1, got ${JSON.stringify(options.firmware)}`);
    }
    const watts = options.watts ?? 0;
    if (!Number.isFinite(watts) || watts < 0) throw new RangeError(`SimulatedPlug: watts must be ≥ 0, got ${watts}`);
    const { Worker } = process.getBuiltinModule('node:worker_threads'); // loaded here, not on import
    const worker = new Worker(SIMULATED_PLUG_SOURCE, {
      eval: true,
      name: `simulated ${options.firmware} plug`,
      workerData: {
        firmware: options.firmware,
        watts,
        user: options.user ?? 'admin',
        password: options.password ?? null,
        initialTotalKwh: options.initialTotalKwh ?? 12.345,
        energyRes: options.energyRes ?? 3,
        savePeriodS: options.savePeriodS ?? 3600,
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (message: { value: number }) => resolve(message.value));
    });
    return new SimulatedPlug(worker, options.firmware, `http://127.0.0.1:${port}`);
  }

  private call<T>(message: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, resolve as (value: unknown) => void);
      this.worker.postMessage({ ...message, id });
    });
  }

  /** Draw `watts` from now on; resolves with the moment of the change (epoch ms). */
  setPower(watts: number): Promise<number> {
    if (!Number.isFinite(watts) || watts < 0) throw new RangeError(`setPower: watts must be ≥ 0, got ${watts}`);
    return this.call<number>({ op: 'power', watts });
  }

  /** The exact energy drawn between two moments (epoch ms), kWh. */
  trueEnergyKwh(fromMs: number, toMs: number): Promise<number> {
    return this.call<number>({ op: 'truth', fromMs, toMs });
  }

  /** Reboot: Tasmota loses the energy since its last save, Shelly Gen1 zeroes its total, Gen2 keeps it. */
  reboot(): Promise<void> {
    return this.call<void>({ op: 'reboot' });
  }

  /** Someone resets the counter (Tasmota `EnergyTotal 0`, as the Python server does at each start). */
  resetCounter(): Promise<void> {
    return this.call<void>({ op: 'reset' });
  }

  /** Answer slowly, or not at all (connections are accepted and held). */
  setBehaviour(behaviour: PlugBehaviour): Promise<void> {
    return this.call<void>({ op: 'behaviour', behaviour });
  }

  /** Paths and queries requested so far, in order. */
  requests(): Promise<string[]> {
    return this.call<string[]>({ op: 'log' });
  }

  /** The plug's total now (kWh) and its EnergyRes. */
  state(): Promise<{ totalKwh: number; energyRes: number }> {
    return this.call({ op: 'state' });
  }

  /** Stop the server and the thread. */
  async close(): Promise<void> {
    await this.call<void>({ op: 'close' });
    await this.worker.terminate();
  }
}
