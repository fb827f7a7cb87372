/**
 * The tracker side of in-flight checkpoints (see `lib/store/inflight.ts`): an unref'd timer
 * that rewrites the run's checkpoint every `checkpointIntervalMs`.
 */
import type { EmissionsRecord } from '../store/schema.js';
import { currentProcessIdentity, removeCheckpoint, writeCheckpoint, type InflightCheckpoint } from '../store/inflight.js';

/** Rewrites one run's in-flight file on a timer until {@link CheckpointWriter.close}. */
export class CheckpointWriter {
  private timer: NodeJS.Timeout | null;
  private warned = false;
  private readonly identity: Pick<InflightCheckpoint, 'pid' | 'processStartTime' | 'bootId' | 'hostname'>;

  /**
   * @param current the record as it would be stored now (called on the JS thread by the timer)
   */
  constructor(
    private readonly current: () => EmissionsRecord,
    private readonly outputDir: string,
    private readonly intervalMs: number,
  ) {
    this.identity = currentProcessIdentity();
    this.timer = setInterval(() => this.write(), intervalMs);
    // A checkpoint never keeps the process alive.
    this.timer.unref();
  }

  /** Write a checkpoint now; a failure is reported once (warning `LET_CHECKPOINT_FAILED`) and the run goes on. */
  write(): void {
    try {
      writeCheckpoint(
        { format: 1, record: this.current(), ...this.identity, checkpointIntervalMs: this.intervalMs, writtenAtMs: Date.now() },
        this.outputDir,
      );
    } catch (error) {
      if (this.warned) return;
      this.warned = true;
      process.emitWarning(`lamarr-energy-tracker: cannot write the run's checkpoint: ${(error as Error).message}`, {
        code: 'LET_CHECKPOINT_FAILED',
      });
    }
  }

  /** Stop the timer. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Remove the run's in-flight file (after the run was stored); failures are ignored (recovery removes it). */
  remove(runId: string): void {
    try {
      removeCheckpoint(runId, this.outputDir);
    } catch {
      // a later recovery sees the run_id stored and removes the file
    }
  }
}
