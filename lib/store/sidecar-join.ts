/**
 * Joining the sidecar's entries to a CSV file's rows, as the records are decoded in file order.
 * A run's entries go to its rows in this file in order; rows beyond its entries take its last
 * entry; rows of runs without an entry get none (see `sidecar.ts`).
 *
 * - {@link IndexJoin}: from the whole index by run_id (backups, repairs, the aggregates' new lines,
 *   deletes beside backups).
 * - {@link MergeJoin}: the main file against the sidecar read forward at the same time. Our
 *   appender writes a run's sidecar line just before its row, so a store we wrote lists its
 *   entries in the order of its rows: each row whose run_id is the next entry's takes it, and
 *   memory does not grow with the store. A row that does not match the next entry gets no entry
 *   when its run has none anywhere in the sidecar (CodeCarbon's rows, rows of other tools: told
 *   by a sorted list of run_id hashes, read only when such a row first appears). Any other case
 *   (entries out of row order, an entry left by a failed append, a row beyond its run's
 *   entries, a hash shared by chance) falls back to {@link IndexJoin} from that row on, with
 *   the rows already joined counted, so every row gets exactly the entry the index gives it.
 */
import type { SidecarCursorOptions } from './sidecar-cursor.js';
import { SidecarCursor, hasHash, hashRunId, runIdHashes } from './sidecar-cursor.js';
import type { SidecarValues } from './sidecar-cursor.js';
import { TRACKER_COLUMNS } from './schema.js';
import type { SidecarEntry, SidecarIndex } from './sidecar.js';

/** Gives each row of one file, in file order, its run's sidecar entry. */
export interface SidecarJoin {
  /**
   * Our fields for the next row, whose run_id is `runId` (TRACKER_COLUMNS order, `undefined`
   * where the entry lacks the key; read them before the next call), or undefined: no entry.
   */
  entryFor(runId: string): SidecarValues | undefined;
}

/** The join from a whole index by run_id. Construct one per file read. */
export class IndexJoin implements SidecarJoin {
  private readonly values: SidecarValues = new Array<string | number | null | undefined>(TRACKER_COLUMNS.length);

  /**
   * @param index entries by run_id, each run's in sidecar order.
   * @param occurrences rows already joined, by run_id (for a join taken over mid-file).
   * @param countEveryRun count the rows of every run with entries, for {@link oneEntryPerRow}.
   */
  constructor(
    private readonly index: SidecarIndex,
    private readonly occurrences = new Map<string, number>(),
    private readonly countEveryRun = false,
  ) {}

  /**
   * Whether every run with entries had exactly as many rows as entries (counted with
   * `countEveryRun` only; false otherwise).
   */
  oneEntryPerRow(): boolean {
    if (!this.countEveryRun) return false;
    for (const [runId, entries] of this.index) if ((this.occurrences.get(runId) ?? 0) !== entries.length) return false;
    return true;
  }

  entryFor(runId: string): SidecarValues | undefined {
    const entries = this.index.get(runId);
    if (entries === undefined) return undefined;
    let k = 0;
    // Rows are counted only for runs with several entries (one entry goes to all its rows), so
    // a long file of runs stored once keeps no count per run (unless asked to count every run).
    if (entries.length > 1 || this.countEveryRun) {
      k = this.occurrences.get(runId) ?? 0;
      this.occurrences.set(runId, k + 1);
    }
    const entry = entries[Math.min(k, entries.length - 1)] as Record<string, string | number | null | undefined>;
    for (let j = 0; j < TRACKER_COLUMNS.length; j++) this.values[j] = entry[TRACKER_COLUMNS[j] as string];
    return this.values;
  }
}

/** The merge join of the main file with the sidecar (see the module doc). */
export class MergeJoin implements SidecarJoin {
  private readonly cursor: SidecarCursor;
  private consumed = 0;
  private pending = false;
  private hashes: Float64Array | null = null;
  private fallback: IndexJoin | null = null;

  private left = 0;

  /**
   * @param opts the sidecar, open (closed by the caller), its size, and where unusable lines are reported.
   * @param countEveryRun count rows per run after a fallback too, for {@link oneEntryPerRow}.
   */
  constructor(
    private readonly opts: SidecarCursorOptions,
    private readonly countEveryRun = false,
  ) {
    this.cursor = new SidecarCursor(opts);
  }

  /** Whether the join fell back to the index (for tests and benches). */
  get fellBack(): boolean {
    return this.fallback !== null;
  }

  entryFor(runId: string): SidecarValues | undefined {
    if (this.fallback !== null) return this.fallback.entryFor(runId);
    const cursor = this.cursor;
    if (this.pending) {
      cursor.advance();
      this.pending = false;
    }
    if (runId === '') return undefined; // an entry always has a run_id
    if (!cursor.done && cursor.runId === runId) {
      this.pending = true;
      this.consumed++;
      return cursor.values;
    }
    this.hashes ??= runIdHashes({ ...this.opts, onProblem: () => undefined });
    if (!hasHash(this.hashes, hashRunId(runId))) return undefined;
    this.fallback = this.takeOver();
    return this.fallback.entryFor(runId);
  }

  /** The whole index, with the rows joined so far counted per run (they took the first entries in order). */
  private takeOver(): IndexJoin {
    const index = new Map<string, SidecarEntry[]>();
    const occurrences = new Map<string, number>();
    const all = new SidecarCursor({ ...this.opts, onProblem: () => undefined });
    for (let n = 0; !all.done; n++, all.advance()) {
      const entry: Record<string, string | number | null> = { run_id: all.runId };
      all.values.forEach((v, j) => {
        if (v !== undefined) entry[TRACKER_COLUMNS[j] as string] = v;
      });
      const list = index.get(all.runId);
      if (list) list.push(entry as SidecarEntry);
      else index.set(all.runId, [entry as SidecarEntry]);
      if (n < this.consumed) occurrences.set(all.runId, (occurrences.get(all.runId) ?? 0) + 1);
    }
    this.hashes = null;
    return new IndexJoin(index, occurrences, this.countEveryRun);
  }

  /** Read the rest of the sidecar, so every unusable line is reported (call after the last row). */
  finish(): void {
    if (this.pending) {
      this.cursor.advance();
      this.pending = false;
    }
    for (; !this.cursor.done; this.cursor.advance()) this.left++;
  }

  /**
   * After {@link finish}: whether every run with entries had exactly as many rows as entries
   * (no entry left over, none short), as an appender that writes one entry per row leaves it.
   * Without a fallback, every entry was taken by one row in order; after one, the index join
   * counted (with `countEveryRun`; false without).
   */
  oneEntryPerRow(): boolean {
    return this.fallback !== null ? this.fallback.oneEntryPerRow() : this.left === 0;
  }

  /** After {@link finish}: the sidecar's offset after its last whole line (what was read). */
  get end(): number {
    return this.cursor.complete;
  }
}
