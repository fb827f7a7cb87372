/**
 * A thin tinybench adapter: joules per operation for each task of a `Bench`.
 *
 * tinybench (an optional peer dependency; this module needs neither it nor its types) times
 * each call on its own, which is right for latency but far below what an energy counter
 * resolves. The adapter
 * therefore runs each task's function again under {@link measureEnergy} (batches, idle
 * subtraction, 95% interval, quality label) and puts the figures next to tinybench's.
 *
 * ```ts
 * import { Bench } from 'tinybench';
 * import { withEnergy } from 'lamarr-energy-tracker';
 * const bench = withEnergy(new Bench({ time: 500 }), { devices: ['cpu'] });
 * bench.add('JSON.parse', () => JSON.parse(text));
 * await bench.run();          // tinybench's run, then the energy of each task
 * console.table(bench.table()); // tinybench's columns + "Energy/op" and "Energy quality"
 * ```
 */
import { rejectUnknownOptions } from '../options-check.js';
import { MEASURE_ENERGY_OPTIONS, measureEnergy, type ConfidenceInterval, type EnergyMeasurement, type MeasureEnergyOptions, type MeasurementQuality } from './measure.js';

/**
 * The part of a tinybench `Task` the adapter uses (structural, so that this module needs
 * neither tinybench nor its types: a tinybench ^5 `Task` fits).
 */
export interface BenchTask {
  /** Task name. */
  readonly name: string;
  /** tinybench's result after `run()`; only `latency.mean` (ms) is read, when present. */
  readonly result?: unknown;
}

/** Bench-level hooks, run around each task's measurement. */
export interface BenchHooks {
  setup?(task?: BenchTask, mode?: 'run' | 'warmup'): Promise<void> | void;
  teardown?(task?: BenchTask, mode?: 'run' | 'warmup'): Promise<void> | void;
}

/**
 * The part of a tinybench `Bench` the adapter uses (structural: tinybench ^5 and ^6 `Bench`es fit).
 */
export interface BenchLike extends BenchHooks {
  /** Tasks in order. */
  readonly tasks: readonly BenchTask[];
  /** tinybench 5's options, holding the bench-level hooks (tinybench 6 has them on the bench). */
  readonly opts?: BenchHooks;
  /** tinybench's add (wrapped by {@link withEnergy} to keep each task's function: tinybench 6 makes it private). */
  add?(...args: never[]): unknown;
  /** tinybench's run. */
  run(): Promise<unknown>;
  /** tinybench's table (one row per task, null for a task without result). */
  table(): Array<Record<string, number | string | undefined> | null>;
}

type Task = BenchTask;
type Bench = BenchLike;

/** Options of the adapter: those of measureEnergy, applied to every task. */
export type BenchEnergyOptions = MeasureEnergyOptions;

/** The energy of one tinybench task. */
export interface TaskEnergy {
  /** Task name. */
  name: string;
  /** How far the figure can be trusted (see MeasurementQuality). */
  quality: MeasurementQuality;
  /** Why, in words. */
  message: string;
  /** Active energy per operation (above idle), J; null unless `quality` is `measured`. */
  joulesPerOp: number | null;
  /** 95% interval of `joulesPerOp`, J. */
  ci95J: ConfidenceInterval | null;
  /** Energy per operation idle included, J; null when the counters did not resolve it. */
  totalJoulesPerOp: number | null;
  /** For `below-resolution`: the active energy per operation is at most this, J. */
  upperBoundJ: number | null;
  /** tinybench's mean latency, ms, when the task has been run by tinybench; else null. */
  latencyMeanMs: number | null;
  /** The full measurement (per domain and device). */
  measurement: EnergyMeasurement;
}

type TaskFn = (this: Task) => unknown;
type Hook = (this: Task, mode?: 'run' | 'warmup') => unknown;
interface TaskInternals {
  fn?: unknown;
  fnOpts?: { beforeAll?: Hook; afterAll?: Hook; beforeEach?: Hook; afterEach?: Hook };
}

const results = new WeakMap<Task, TaskEnergy>();
/** Functions and hooks of tasks added through a {@link withEnergy} bench (tinybench 6 keeps them private). */
const added = new WeakMap<Task, TaskInternals>();

/** The energy figures stored for `task` by {@link measureBenchEnergy}, or undefined. */
export function energyOf(task: Task): TaskEnergy | undefined {
  return results.get(task);
}

function taskFunction(task: Task): { fn: TaskFn; hooks: NonNullable<TaskInternals['fnOpts']> } {
  const own = task as unknown as TaskInternals;
  const internals = typeof own.fn === 'function' ? own : (added.get(task) ?? own);
  if (typeof internals.fn !== 'function') {
    throw new TypeError(
      `measureBenchEnergy: cannot reach the function of task "${task.name}": tinybench 6 keeps task functions private. ` +
        'Wrap the bench before adding tasks: withEnergy(new Bench()), then bench.add(…) (tinybench 5 works either way).',
    );
  }
  return { fn: internals.fn as TaskFn, hooks: internals.fnOpts ?? {} };
}

/**
 * Measure the energy per operation of every task of `bench` (or of the tasks named in
 * `only`), one after another. Each task's `beforeAll`/`afterAll` hooks and the bench's
 * `setup`/`teardown` run around its measurement; `beforeEach`/`afterEach` run with every
 * call and their energy is included (they cannot be separated at counter resolution).
 * The figures are also kept for {@link energyOf} and {@link energyTable}.
 */
export async function measureBenchEnergy(
  bench: Bench,
  options: BenchEnergyOptions = {},
  only?: readonly string[],
): Promise<TaskEnergy[]> {
  rejectUnknownOptions('measureBenchEnergy', options, MEASURE_ENERGY_OPTIONS);
  const out: TaskEnergy[] = [];
  for (const task of bench.tasks) {
    if (only !== undefined && !only.includes(task.name)) continue;
    const { fn, hooks } = taskFunction(task);
    const call =
      hooks.beforeEach === undefined && hooks.afterEach === undefined
        ? (): unknown => fn.call(task)
        : async (): Promise<unknown> => {
            await hooks.beforeEach?.call(task, 'run');
            try {
              return await fn.call(task);
            } finally {
              await hooks.afterEach?.call(task, 'run');
            }
          };
    const benchHooks: BenchHooks = bench.opts ?? bench;
    await benchHooks.setup?.(task, 'run');
    await hooks.beforeAll?.call(task, 'run');
    let m: EnergyMeasurement;
    try {
      m = await measureEnergy(call, options);
    } finally {
      await hooks.afterAll?.call(task, 'run');
      await benchHooks.teardown?.(task, 'run');
    }
    const latency = (task.result as { latency?: { mean?: unknown } } | undefined)?.latency?.mean;
    const entry: TaskEnergy = {
      name: task.name,
      quality: m.quality,
      message: m.message,
      joulesPerOp: m.quality === 'measured' ? m.activeJ : null,
      ci95J: m.quality === 'measured' ? m.activeCi95J : null,
      totalJoulesPerOp: m.totalJ,
      upperBoundJ: m.upperBoundJ,
      latencyMeanMs: typeof latency === 'number' && Number.isFinite(latency) ? latency : null,
      measurement: m,
    };
    results.set(task, entry);
    out.push(entry);
  }
  return out;
}

/** Energy per operation for a table cell: `12.3 µJ ± 0.4` / `< 2.1 µJ` / `n/a (estimate-only)`. */
export function formatEnergyPerOp(e: TaskEnergy): string {
  const unit = (j: number): string => {
    const a = Math.abs(j);
    if (a >= 1) return `${j.toPrecision(4)} J`;
    if (a >= 1e-3) return `${(j * 1e3).toPrecision(4)} mJ`;
    if (a >= 1e-6) return `${(j * 1e6).toPrecision(4)} µJ`;
    return `${(j * 1e9).toPrecision(4)} nJ`;
  };
  if (e.quality === 'measured' && e.joulesPerOp !== null) {
    const half = e.ci95J ? (e.ci95J.high - e.ci95J.low) / 2 : null;
    return half !== null ? `${unit(e.joulesPerOp)} ± ${unit(half)}` : unit(e.joulesPerOp);
  }
  if (e.quality === 'below-resolution' && e.upperBoundJ !== null) return `< ${unit(e.upperBoundJ)}`;
  return `n/a (${e.quality})`;
}

/**
 * tinybench's `bench.table()` rows with two more columns, `Energy/op` and `Energy quality`,
 * for the tasks measured by {@link measureBenchEnergy}.
 */
export function energyTable(bench: Bench): Array<Record<string, string | number | undefined> | null> {
  return withEnergyColumns(bench, bench.table());
}

function withEnergyColumns(
  bench: Bench,
  rows: Array<Record<string, string | number | undefined> | null>,
): Array<Record<string, string | number | undefined> | null> {
  return rows.map((row, i) => {
    const task = bench.tasks[i];
    const e = task ? results.get(task) : undefined;
    if (row === null && e === undefined) return null;
    const base: Record<string, string | number | undefined> = row ?? { 'Task name': task?.name };
    if (e === undefined) return base;
    return { ...base, 'Energy/op': formatEnergyPerOp(e), 'Energy quality': e.quality };
  });
}

/** A Bench whose `run()` also measures energy and whose `table()` shows it. */
export type EnergyBench<B extends Bench> = B & {
  /** Energy per task from the last `run()`, in task order. */
  readonly energy: readonly TaskEnergy[];
};

/**
 * Make `bench.run()` measure each task's energy after tinybench's own run, and `bench.table()`
 * show it (see {@link energyTable}). Returns the same object, typed with `energy`.
 */
export function withEnergy<B extends Bench>(bench: B, options: BenchEnergyOptions = {}): EnergyBench<B> {
  rejectUnknownOptions('withEnergy', options, MEASURE_ENERGY_OPTIONS);
  const originalRun = bench.run.bind(bench);
  type TableFn = (convert?: (task: Task) => Record<string, number | string | undefined>) => ReturnType<Bench['table']>;
  const originalTable = (bench.table as TableFn).bind(bench);
  let last: TaskEnergy[] = [];
  Object.defineProperty(bench, 'energy', { get: () => last, enumerable: false, configurable: true });
  if (typeof bench.add === 'function') {
    const originalAdd = bench.add.bind(bench) as unknown as (name: string, fn: unknown, fnOpts?: object) => unknown;
    Object.defineProperty(bench, 'add', {
      configurable: true,
      writable: true,
      value: (name: string, fn: (...args: never[]) => unknown, fnOpts?: object): unknown => {
        const returned = originalAdd(name, fn, fnOpts);
        const task = bench.tasks.find((t) => t.name === name);
        if (task !== undefined) added.set(task, { fn, fnOpts: (fnOpts ?? {}) as TaskInternals['fnOpts'] });
        return returned;
      },
    });
  }
  Object.defineProperty(bench, 'run', {
    configurable: true,
    writable: true,
    value: async (): Promise<unknown> => {
      const tasks = await originalRun();
      last = await measureBenchEnergy(bench, options);
      return tasks;
    },
  });
  Object.defineProperty(bench, 'table', {
    configurable: true,
    writable: true,
    value: (convert?: (task: Task) => Record<string, number | string | undefined>) => {
      if (convert !== undefined) return originalTable(convert);
      return withEnergyColumns(bench, originalTable());
    },
  });
  return bench as EnergyBench<B>;
}
