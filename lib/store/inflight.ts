/**
 * In-flight checkpoints: how a run whose process died without stopping (SIGKILL, the OOM
 * killer, a power loss) still becomes a stored row, with `run_status` `killed`.
 *
 * - An active tracker writes `<outputDir>/inflight/<run_id>.json` every `checkpointIntervalMs`
 *   (temp file, fsync, rename: a reader sees the old or the new checkpoint, never a mix). It
 *   holds the record exactly as `stop()` would store it at that moment, plus who wrote it:
 *   pid, process start time (`/proc/<pid>/stat` field 22), boot id and host name.
 * - `stop()` stores the row and then removes the file.
 * - {@link recoverKilledRuns} (called by every tracker's `start()`, by `loadResults`,
 *   `streamResults` and the CLI) turns the file of a dead process into a row. A process is
 *   dead when, on the same host, its pid is gone, the pid now belongs to a process started at
 *   another time, or the machine was rebooted since (another boot id). A file written on
 *   another host (a store shared over NFS) cannot be judged by pid: it is recovered only once
 *   it has not been updated for {@link FOREIGN_STALE_MS} (24 h) and ten of its intervals.
 * - Exactly once, with any number of recoverers at once and a crash at any point: each file
 *   is recovered under the folder's recovery lock (`inflight/recovery.let-lock`, see
 *   {@link withLock}); under it, a run_id already in the store (a crash between the append
 *   and the unlink, or `stop()` killed between them) only has its file removed; otherwise the
 *   row is appended, then the file removed.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { makeDirectory, unlinkIfThere } from './files.js';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { EmissionsRecord } from './schema.js';
import { emissionsFile } from './paths.js';
import { withLock } from './lock.js';
import { appendRecord } from './append.js';
import { forEachResult } from './query.js';

/** Name of the folder of in-flight checkpoints inside the output directory. */
export const INFLIGHT_DIR_NAME = 'inflight';

/** Base name of the lock recoverers take in the in-flight folder (the lock adds its suffix). */
export const RECOVERY_LOCK_NAME = 'recovery';

/** A checkpoint written on another host is recovered once untouched for this long (and ten of its intervals). */
export const FOREIGN_STALE_MS = 24 * 3600 * 1000;

/** The content of one in-flight file. */
export interface InflightCheckpoint {
  /** Layout version of this file. */
  format: 1;
  /** The run as it would be stored now (energy up to this checkpoint). */
  record: EmissionsRecord;
  /** Process that runs the tracker. */
  pid: number;
  /** Its start time in clock ticks since boot (`/proc/<pid>/stat` field 22), or null where unknown. */
  processStartTime: string | null;
  /** `/proc/sys/kernel/random/boot_id` of the host, or null where unknown. */
  bootId: string | null;
  /** Host that runs the process. */
  hostname: string;
  /** How often the checkpoint is rewritten, ms. */
  checkpointIntervalMs: number;
  /** When this checkpoint was written (ms since the epoch). */
  writtenAtMs: number;
}

/** Absolute path of the in-flight folder of `outputDir` (default: the default store). */
export function inflightDirectory(outputDir?: string): string {
  return join(dirname(emissionsFile(outputDir)), INFLIGHT_DIR_NAME);
}

function checkpointPath(outputDir: string | undefined, runId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(runId)) throw new RangeError(`run_id must be letters, digits and dashes, got ${JSON.stringify(runId)}`);
  return join(inflightDirectory(outputDir), `${runId}.json`);
}

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Start time of process `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or
 * null where /proc cannot tell (not Linux, or the process is gone).
 */
export function processStartTime(pid: number): string | null {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // comm (field 2) may hold spaces and parentheses: fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null; // fields[0] is field 3 (state)
}

/** This boot's id (Linux), or null. */
export function bootId(): string | null {
  return readTrimmed('/proc/sys/kernel/random/boot_id');
}

/** Who this process is, for a checkpoint. */
export function currentProcessIdentity(): Pick<InflightCheckpoint, 'pid' | 'processStartTime' | 'bootId' | 'hostname'> {
  return { pid: process.pid, processStartTime: processStartTime(process.pid), bootId: bootId(), hostname: hostname() };
}

/** Write (replace) the checkpoint of `checkpoint.record.run_id` atomically: temp file, fsync, rename. */
export function writeCheckpoint(checkpoint: InflightCheckpoint, outputDir?: string): void {
  const path = checkpointPath(outputDir, checkpoint.record.run_id);
  makeDirectory(dirname(path)); // as root in a user's store: the folder goes to that user
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    const data = Buffer.from(`${JSON.stringify(checkpoint)}\n`, 'utf8');
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Remove the checkpoint of `runId` (no error when there is none). */
export function removeCheckpoint(runId: string, outputDir?: string): void {
  unlinkIfThere(checkpointPath(outputDir, runId));
}

function parseCheckpoint(text: string): InflightCheckpoint | null {
  try {
    const value = JSON.parse(text) as Partial<InflightCheckpoint>;
    if (value.format !== 1 || typeof value.pid !== 'number' || typeof value.hostname !== 'string') return null;
    if (typeof value.record !== 'object' || value.record === null || typeof value.record.run_id !== 'string') return null;
    return value as InflightCheckpoint;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `checkpoint` is gone, judged as the module comment says. */
export function writerIsDead(checkpoint: InflightCheckpoint, modifiedMs: number, nowMs = Date.now()): boolean {
  if (checkpoint.hostname !== hostname()) {
    const interval = Number.isFinite(checkpoint.checkpointIntervalMs) ? checkpoint.checkpointIntervalMs : 0;
    return nowMs - modifiedMs > Math.max(FOREIGN_STALE_MS, 10 * interval);
  }
  const boot = bootId();
  if (boot !== null && checkpoint.bootId !== null && boot !== checkpoint.bootId) return true;
  try {
    process.kill(checkpoint.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    // EPERM: a process of another user holds the pid; its start time decides.
  }
  const start = processStartTime(checkpoint.pid);
  if (start === null) {
    // No /proc for that pid: gone on Linux (a zombie still has /proc); elsewhere the pid test stands.
    return checkpoint.processStartTime !== null && existsSync('/proc/self/stat');
  }
  return checkpoint.processStartTime !== null && start !== checkpoint.processStartTime;
}

/** A temp file left by a writer killed mid-checkpoint: removed once its process is gone. */
function removeOrphanTemp(path: string, pid: number): void {
  try {
    process.kill(pid, 0);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') return;
  }
  try {
    unlinkSync(path);
  } catch {
    // removed by another recoverer
  }
}

let recovering = false;

/**
 * Store the in-flight runs of `outputDir` whose process died without stopping, as rows with
 * `run_status` `killed` (energy up to their last checkpoint), and remove their files. Safe to
 * call from several processes at once: each run is stored exactly once. Returns the rows this
 * call stored. Reentrant calls (from the `loadResults` it uses) do nothing.
 *
 * @throws what the store throws (a lock that cannot be had, a malformed store); callers that
 *   only read should catch it (see {@link recoverKilledRunsQuietly}).
 */
export function recoverKilledRuns(outputDir?: string): EmissionsRecord[] {
  if (recovering) return [];
  const directory = inflightDirectory(outputDir);
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
  const recovered: EmissionsRecord[] = [];
  recovering = true;
  try {
    for (const name of names) {
      const temp = /\.json\.tmp-(\d+)$/.exec(name);
      if (temp !== null) removeOrphanTemp(join(directory, name), Number(temp[1]));
      if (!name.endsWith('.json')) continue;
      const path = join(directory, name);
      let text: string;
      let modifiedMs: number;
      try {
        modifiedMs = statSync(path).mtimeMs;
        text = readFileSync(path, 'utf8');
      } catch {
        continue; // removed meanwhile by its run or by another recoverer
      }
      const checkpoint = parseCheckpoint(text);
      if (checkpoint === null || `${checkpoint.record.run_id}.json` !== name) continue;
      if (!writerIsDead(checkpoint, modifiedMs)) continue;
      // One lock for the folder (a per-run lock would leave a lock file per run behind).
      withLock(join(directory, RECOVERY_LOCK_NAME), () => {
        if (!existsSync(path)) return; // another recoverer stored it
        const runId = checkpoint.record.run_id;
        // The store read a part at a time: a large store is not held to look for one run.
        let stored = false;
        forEachResult({ outputDir: dirname(directory) }, (row) => {
          if (row.run_id === runId) stored = true;
        });
        if (!stored) {
          const record: EmissionsRecord = { ...checkpoint.record, run_status: 'killed' };
          appendRecord(record, dirname(directory));
          recovered.push(record);
        }
        unlinkSync(path);
      });
    }
  } finally {
    recovering = false;
  }
  return recovered;
}

let warned = false;

/**
 * {@link recoverKilledRuns} for readers: a failure (read-only store, busy lock) is reported once
 * per process as a warning (code `LET_RECOVERY_FAILED`) and never fails the read.
 */
export function recoverKilledRunsQuietly(outputDir?: string): void {
  try {
    recoverKilledRuns(outputDir);
  } catch (error) {
    if (warned) return;
    warned = true;
    process.emitWarning(
      `lamarr-energy-tracker: runs killed without stopping could not be stored from ${inflightDirectory(outputDir)}: ${(error as Error).message}`,
      { code: 'LET_RECOVERY_FAILED' },
    );
  }
}
