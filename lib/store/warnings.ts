/** Problems the store recovered from, and how they are reported. */
import { writableByOthers } from './files.js';

/** Kinds of {@link StoreWarning}. */
export type StoreWarningCode =
  /** The file's last line was cut short (a writer died mid-append); it is ignored. */
  | 'LET_TORN_LINE'
  /** Rows were read from CodeCarbon's backups (`emissions.csv.bak`, `emissions.csv_N.bak`). */
  | 'LET_BACKUPS_READ'
  /** A backup could not be read (malformed, or not a regular file); it is skipped. */
  | 'LET_BACKUP_SKIPPED'
  /** A sidecar line could not be used (it holds only our labels of one run; it is skipped). */
  | 'LET_SIDECAR_BAD_LINE'
  /** The output directory can be written by its group or by others. */
  | 'LET_DIR_WRITABLE';

/** A problem the store recovered from, or something it did that the user should know. */
export interface StoreWarning {
  code: StoreWarningCode;
  /** The file (or directory) concerned. */
  file: string;
  /** 1-based line concerned, or null where the warning is not about one line. */
  line: number | null;
  /** Human-readable message naming the file (and line). */
  message: string;
}

/** How a store function reports its warnings. */
export interface WarningOptions {
  /**
   * Called for each warning instead of `process.emitWarning` (which is the default, with type
   * `LetStoreWarning` and the warning's code).
   */
  onWarning?: (warning: StoreWarning) => void;
}

const emittedNotices = new Set<string>();

/**
 * Report a warning through `options.onWarning`, else `process.emitWarning` (the backups
 * notice only once per process for the same files, as every query repeats it).
 */
export function report(warning: StoreWarning, options: WarningOptions): void {
  if (options.onWarning) {
    options.onWarning(warning);
    return;
  }
  if (warning.code === 'LET_BACKUPS_READ') {
    if (emittedNotices.has(warning.message)) return;
    emittedNotices.add(warning.message);
  }
  process.emitWarning(warning.message, { type: 'LetStoreWarning', code: warning.code });
}

const warnedDirs = new Set<string>();

/**
 * Warn (once per directory and process) when the store's directory can be written by its
 * group or others: they could replace `emissions.csv` or plant links in it.
 */
export function checkDirectory(dir: string, options: WarningOptions): void {
  if (warnedDirs.has(dir) || !writableByOthers(dir)) return;
  warnedDirs.add(dir);
  report(
    {
      code: 'LET_DIR_WRITABLE',
      file: dir,
      line: null,
      message: `${dir}: the results directory can be written by its group or by others, who could replace or remove stored runs (fix with: chmod go-w ${JSON.stringify(dir)})`,
    },
    options,
  );
}
