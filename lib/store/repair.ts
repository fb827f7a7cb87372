/**
 * `repairStore`: merge the backups CodeCarbon moved aside back into one `emissions.csv` with
 * CodeCarbon's 38 columns (our old columns to the sidecar), atomically and under the lock, and
 * archive the backups (moved, never deleted).
 */
import { closeSync, renameSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StoreOptions } from './append.js';
import { quoteField } from './csv.js';
import { decodeField } from './decoder.js';
import { atomicReplace, makeDirectory, moveTailAside, openForWrite } from './files.js';
import { withLock } from './lock.js';
import { emissionsFile, sidecarFileOf } from './paths.js';
import { listBackups, loadSidecar, readCsvFile } from './reader.js';
import type { ReadFile } from './reader.js';
import { formatHeader } from './records.js';
import { CODECARBON_COLUMNS, NUMERIC_COLUMNS, TRACKER_COLUMNS } from './schema.js';
import type { TrackerColumn } from './schema.js';
import { appendSidecar, openSidecar, rollBackSidecar, sidecarLineFromFields } from './sidecar.js';
import type { OpenSidecar } from './sidecar.js';
import { checkDirectory } from './warnings.js';

/** What {@link repairStore} did. */
export interface RepairResult {
  /** The store's `emissions.csv`. */
  file: string;
  /** Rows in `emissions.csv` afterwards. */
  rows: number;
  /** Rows that came from backups (rows whose run_id was already in a newer file are not counted). */
  fromBackups: number;
  /** The backups merged, as they were named before archiving. */
  backups: string[];
  /** Where the backups were moved (null when there were none). */
  archiveDir: string | null;
  /** Whether `emissions.csv` was rewritten. */
  rewritten: boolean;
}

const CC_NUMERIC = CODECARBON_COLUMNS.map((c) => NUMERIC_COLUMNS.has(c));

/** A data row of a read file in CodeCarbon's 38 columns (latin1 text; values re-quoted as our writer does). */
function rowOf(read: ReadFile, fields: readonly string[], eol: string): string {
  const index = read.decoder.plan!.index;
  return CODECARBON_COLUMNS.map((_, k) => {
    const at = index[k] as number;
    return at < 0 ? '' : quoteField(fields[at] as string, !CC_NUMERIC[k]);
  }).join(',') + eol;
}

/** The sidecar line for our old columns in a row, and whether it holds any value. */
function ourFields(read: ReadFile, fields: readonly string[], runId: string): { line: string; any: boolean } {
  const header = read.decoder.plan!.header;
  const ours = new Map<TrackerColumn, string>();
  for (const col of TRACKER_COLUMNS) {
    const at = header.indexOf(col);
    if (at >= 0) ours.set(col, decodeField(fields[at] as string));
  }
  return { line: sidecarLineFromFields(runId, ours), any: [...ours.values()].some((v) => v !== '') };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '.$1Z');
}

/**
 * Merge CodeCarbon's backups (`emissions.csv.bak`, `emissions.csv_N.bak`) in `outputDir`
 * (default {@link defaultOutputDir}) into `emissions.csv`:
 * - under the lock; every file is read and checked before anything changes (a malformed one
 *   throws a {@link StoreError} and nothing is changed);
 * - rows in time order (oldest backup first, the main file last); a run_id found in a newer file
 *   wins over older copies; rows sharing a run_id within one file are all kept;
 * - one file with CodeCarbon's 38 columns, written atomically (owner and mode kept), values
 *   kept (text re-quoted, with the formula guard); our columns of old rows go to the sidecar;
 * - then the backups are moved into `<outputDir>/archive/<timestamp>/`, never deleted.
 * Without backups, a file of an old or narrowed layout is brought to the 38 columns the same
 * way; a file already in shape is left as it is.
 */
export function repairStore(outputDir?: string, options: StoreOptions = {}): RepairResult {
  const file = emissionsFile(outputDir);
  const dir = dirname(file);
  checkDirectory(dir, options);
  return withLock(
    file,
    (lock) => {
      const sidecar = loadSidecar(file, options);
      const backups = listBackups(file);
      const reads: ReadFile[] = [];
      for (const b of backups) {
        const read = readCsvFile(b.file, sidecar, () => lock.refresh(), true);
        if (read && read.decoder.plan) reads.push(read);
      }
      const opened = openForWrite(file, false);
      let like: Stats | null = opened?.stats ?? null;
      try {
        const main = opened ? readCsvFile(file, sidecar, () => lock.refresh(), true) : null;
        if (main && main.decoder.plan) reads.push(main);
        const plan = main?.decoder.plan;
        const inShape =
          plan !== undefined && plan !== null && plan.header.length === CODECARBON_COLUMNS.length && CODECARBON_COLUMNS.every((c) => plan.header.includes(c));
        const result: RepairResult = { file, rows: main?.rows.length ?? 0, fromBackups: 0, backups: backups.map((b) => b.file), archiveDir: null, rewritten: false };
        if (backups.length === 0 && (main === null || inShape)) return result;
        // Newest file first decides which copy of a run is kept.
        const seen = new Set<string>();
        const keep = new Map<ReadFile, boolean[]>();
        for (const read of [...reads].reverse()) {
          const mine = read.rows.map((r) => r.run_id === '' || !seen.has(r.run_id));
          for (const r of read.rows) if (r.run_id !== '') seen.add(r.run_id);
          keep.set(read, mine);
        }
        const eol = '\n';
        const lines: string[] = [];
        // Our old columns: one sidecar entry per row (in order) of each run that has none yet.
        const moved = new Map<string, { lines: string[]; any: boolean }>();
        let rows = 0;
        for (const read of reads) {
          const flags = keep.get(read) as boolean[];
          read.raw.slice(1).forEach((raw, i) => {
            if (!flags[i]) return;
            lines.push(rowOf(read, raw.fields, eol));
            rows++;
            if (read !== main) result.fromBackups++;
            const runId = (read.rows[i] as { run_id: string }).run_id;
            if (runId !== '' && !sidecar.has(runId)) {
              const { line, any } = ourFields(read, raw.fields, runId);
              const run = moved.get(runId) ?? { lines: [], any: false };
              run.lines.push(line);
              run.any ||= any;
              moved.set(runId, run);
            }
          });
        }
        lock.refresh();
        if (main?.torn && opened) moveTailAside(file, opened.fd, main.torn.start, main.buf.length);
        if (like === null && backups.length > 0) like = statSync((backups[backups.length - 1] as { file: string }).file);
        let side: OpenSidecar | null = null;
        try {
          const movedLines = [...moved.values()].flatMap((run) => (run.any ? run.lines : [])).join('');
          if (movedLines !== '') {
            side = openSidecar(sidecarFileOf(file));
            appendSidecar(side, movedLines);
          }
          const body = Buffer.from(lines.join(''), 'latin1');
          atomicReplace(file, [Buffer.from(formatHeader(CODECARBON_COLUMNS), 'latin1'), body], like, lock);
        } catch (err) {
          if (side) rollBackSidecar(side);
          throw err;
        } finally {
          if (side) closeSync(side.fd);
        }
        result.rows = rows;
        result.rewritten = true;
        if (backups.length > 0) {
          const archive = join(dir, 'archive', stamp());
          makeDirectory(archive); // as root in a user's store: the folder goes to that user
          for (const b of backups) renameSync(b.file, join(archive, basename(b.file)));
          result.archiveDir = archive;
        }
        return result;
      } finally {
        if (opened) closeSync(opened.fd);
      }
    },
    options,
  );
}
