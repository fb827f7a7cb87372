import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Name of the results file inside an output directory. */
export const EMISSIONS_FILE_NAME = 'emissions.csv';

/** Expand a leading `~` or `~/` to the home directory. */
function expandHome(dir: string): string {
  if (dir === '~') return homedir();
  if (dir.startsWith('~/')) return join(homedir(), dir.slice(2));
  return dir;
}

/**
 * The default output directory: the environment variable `LET_OUTPUT_DIR` when set and not
 * blank, else `~/.let` (as the Python package).
 */
export function defaultOutputDir(): string {
  const fromEnv = process.env.LET_OUTPUT_DIR;
  return resolve(expandHome(fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : join(homedir(), '.let')));
}

/**
 * Absolute path of `emissions.csv` in `outputDir` (default {@link defaultOutputDir}).
 * A leading `~` is expanded.
 * @throws TypeError when `outputDir` is given but is not a non-empty string.
 */
export function emissionsFile(outputDir?: string): string {
  if (outputDir === undefined) return join(defaultOutputDir(), EMISSIONS_FILE_NAME);
  if (typeof outputDir !== 'string' || outputDir.trim() === '') {
    throw new TypeError(`outputDir must be a non-empty string, got ${JSON.stringify(outputDir)}`);
  }
  return join(resolve(expandHome(outputDir)), EMISSIONS_FILE_NAME);
}

/**
 * Name of the sidecar file beside `emissions.csv` that holds our own fields (TRACKER_COLUMNS),
 * one JSON object per line keyed by `run_id`. It does not match CodeCarbon's backup names.
 */
export const SIDECAR_FILE_NAME = 'emissions.let.jsonl';

/** The sidecar file beside an `emissions.csv` path. */
export function sidecarFileOf(csvFile: string): string {
  return join(dirname(csvFile), SIDECAR_FILE_NAME);
}

/** CodeCarbon's backup names for `emissions.csv`: `emissions.csv.bak`, `emissions.csv_<N>.bak`. */
export const BACKUP_NAME_RE = /^emissions\.csv(?:_(\d+))?\.bak$/;
