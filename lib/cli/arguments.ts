/**
 * Argument helpers shared by the CLI commands.
 */
import { InvalidArgumentError } from 'commander';
import type { ResultFilters } from '../store/schema.js';
import type { StoresFilters } from '../store/stores.js';

/** Exit code of `run` for its own errors (bad options, a tracker that cannot start), as env(1) and timeout(1). */
export const RUN_OWN_ERROR_EXIT_CODE = 125;

/**
 * Accept the Python package's snake_case flags (`--output_dir`, `--project_name`, …): rewrite
 * every `--name_with_underscores[=value]` before the first `--` into kebab-case. Values are
 * never touched. For `run`, normalising stops at the command: the command and everything
 * after it are passed byte for byte (`run node x.js --snake_case=1`); `takesValue(flag)` says
 * which of run's options consume the next argument (so that it is not taken for the command).
 */
export function normalizeFlags(argv: string[], takesValue: (flag: string) => boolean = () => false): string[] {
  const out = [...argv];
  const isRun = argv[0] === 'run';
  for (let position = 0; position < argv.length; position++) {
    const argument = argv[position]!;
    if (argument === '--') break;
    if (isRun && position > 0 && !argument.startsWith('-')) break; // the command: the rest is the child's
    if (!argument.startsWith('--')) continue;
    const equals = argument.indexOf('=');
    const name = (equals === -1 ? argument : argument.slice(0, equals)).replace(/_/g, '-');
    out[position] = name + (equals === -1 ? '' : argument.slice(equals));
    if (isRun && equals === -1 && takesValue(name)) position++; // its value, whatever it looks like
  }
  return out;
}

/**
 * Parse a number for option `name`, strictly: decimal notation only (`1.5`, `-2`, `1e3`); hex,
 * octal or binary literals (`0x10`), `Infinity`, blanks and trailing text are refused, as are
 * values outside [min, max].
 */
export function parseNumber(name: string, options: { min?: number; max?: number; integer?: boolean } = {}) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) || !Number.isFinite(parsed)) {
      throw new InvalidArgumentError(`${name} must be a number in decimal notation, got "${value}"`);
    }
    if (options.integer === true && !Number.isInteger(parsed)) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    if (options.min !== undefined && parsed < options.min) throw new InvalidArgumentError(`${name} must be ≥ ${options.min}, got ${value}`);
    if (options.max !== undefined && parsed > options.max) throw new InvalidArgumentError(`${name} must be ≤ ${options.max}, got ${value}`);
    return parsed;
  };
}

/** Parse a date (ISO 8601, or `YYYY-MM-DD`) for option `name`. */
export function parseDate(name: string) {
  return (value: string): Date => {
    const parsed = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00` : value);
    if (Number.isNaN(parsed.getTime())) {
      throw new InvalidArgumentError(`${name} must be a date like 2026-01-31 or 2026-01-31T12:00:00, got "${value}"`);
    }
    return parsed;
  };
}

/** The result filters common to statement, results and delete, as commander parses them. */
export type FilterFlags = ResultFilters;

/** Copy only the filters that were given. */
export function filtersFrom(flags: FilterFlags): ResultFilters {
  const keys = ['outputDir', 'projectName', 'user', 'hostname', 'since', 'until'] as const;
  const filters: Record<string, unknown> = {};
  for (const key of keys) if (flags[key] !== undefined) filters[key] = flags[key];
  return filters as ResultFilters;
}

/** The result filters of commands that read several stores (`--output-dir` repeatable). */
export type StoresFilterFlags = Omit<ResultFilters, 'outputDir'> & { outputDir?: string[] };

/** Copy only the filters that were given; several `--output-dir` stay a list. */
export function storesFiltersFrom(flags: StoresFilterFlags): StoresFilters {
  const { outputDir, ...rest } = flags;
  const filters: StoresFilters = filtersFrom(rest);
  if (outputDir !== undefined && outputDir.length > 0) filters.outputDir = outputDir;
  return filters;
}
