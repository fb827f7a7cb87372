/**
 * Argument helpers shared by the CLI commands.
 */
import { InvalidArgumentError } from 'commander';
import type { ResultFilters } from '../store/schema.js';
import type { StoresFilters } from '../store/stores.js';

/**
 * Accept the Python package's snake_case flags (`--output_dir`, `--project_name`, …): rewrite
 * every `--name_with_underscores[=value]` before the first `--` into kebab-case. Values are
 * never touched.
 */
export function normalizeFlags(argv: string[]): string[] {
  const separator = argv.indexOf('--');
  const end = separator === -1 ? argv.length : separator;
  return argv.map((argument, position) => {
    if (position >= end || !argument.startsWith('--')) return argument;
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument : argument.slice(0, equals);
    const rest = equals === -1 ? '' : argument.slice(equals);
    return name.replace(/_/g, '-') + rest;
  });
}

/** Parse a finite number for option `name`. */
export function parseNumber(name: string, options: { min?: number; max?: number } = {}) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) {
      throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    }
    if (options.min !== undefined && parsed < options.min) throw new InvalidArgumentError(`${name} must be ≥ ${options.min}`);
    if (options.max !== undefined && parsed > options.max) throw new InvalidArgumentError(`${name} must be ≤ ${options.max}`);
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
