/**
 * Statement summaries per (project, user, host), ready for every filter the statement takes
 * besides time: all runs, one project, one user, one host, or any two or all three of them.
 *
 * Each row is added to the summary of every filter it matches (8 summaries: each of project,
 * user and host either named or left open), in file order. A filtered statement therefore reads
 * one summary that saw exactly the matching rows in file order — bit for bit the statement
 * `statementFromRecords(loadResults(filters))` gives — instead of merging per-group summaries,
 * which could only give the exactly rounded sums (see summary.ts). Inside each summary the rows
 * are split by hardware configuration, so the aggregates are per (project, user, host, hardware
 * configuration).
 *
 * Time filters (`since`, `until`) cannot be answered from aggregates: a statement with them
 * reads the rows.
 */
import type { StatementRecord } from './statement.js';
import { StatementSummary, type StatementSummaryJSON } from './summary.js';

/** Version of {@link StatementAggregatesJSON}. */
export const STATEMENT_AGGREGATES_VERSION = 1;

/** A row as the aggregates need it: the statement's columns plus who ran it where. */
export type AggregateRecord = StatementRecord & { project_name: string; user: string; hostname: string };

/** One (project, user, host) group; values trimmed, as the store's filters compare them. */
export interface GroupKey {
  projectName: string;
  user: string;
  hostname: string;
}

/** Which rows a statement covers; an absent field matches every value (as in `ResultFilters`). */
export interface GroupFilter {
  projectName?: string | undefined;
  user?: string | undefined;
  hostname?: string | undefined;
}

/** The serialised form of {@link StatementAggregates}. */
export interface StatementAggregatesJSON {
  version: number;
  runs: number;
  /** One entry per filter that matches at least one row; `null` = that field left open. */
  cells: { projectName: string | null; user: string | null; hostname: string | null; summary: StatementSummaryJSON }[];
}

type Values = [string | null, string | null, string | null];

function cellKey(values: Values): string {
  return JSON.stringify(values);
}

/** The 8 filters a row with these (trimmed) values matches. */
function filtersOf(project: string, user: string, host: string): Values[] {
  const out: Values[] = [];
  for (let mask = 0; mask < 8; mask++) {
    out.push([mask & 1 ? project : null, mask & 2 ? user : null, mask & 4 ? host : null]);
  }
  return out;
}

/** Statement summaries for every project/user/host filter, kept up to date row by row. */
export class StatementAggregates {
  private readonly cells = new Map<string, { values: Values; summary: StatementSummary }>();
  private count = 0;
  private lastProject: string | undefined;
  private lastUser: string | undefined;
  private lastHost: string | undefined;
  private lastCells: StatementSummary[] = [];
  /** Raw (project, user, host) → the 8 summaries its rows go to (not saved; rebuilt as rows come). */
  private readonly cellsOfRaw = new Map<string, StatementSummary[]>();

  /** Number of rows added. */
  get runs(): number {
    return this.count;
  }

  private cell(values: Values): StatementSummary {
    const key = cellKey(values);
    let entry = this.cells.get(key);
    if (entry === undefined) {
      entry = { values, summary: new StatementSummary() };
      this.cells.set(key, entry);
    }
    return entry.summary;
  }

  /** Adds one row; rows are expected in file order. */
  add(record: AggregateRecord): this {
    if (record.project_name !== this.lastProject || record.user !== this.lastUser || record.hostname !== this.lastHost) {
      const raw = `${record.project_name}\u0000${record.user}\u0000${record.hostname}`;
      let cells = this.cellsOfRaw.get(raw);
      if (cells === undefined) {
        cells = filtersOf(record.project_name.trim(), record.user.trim(), record.hostname.trim()).map((v) => this.cell(v));
        this.cellsOfRaw.set(raw, cells);
      }
      this.lastCells = cells;
      this.lastProject = record.project_name;
      this.lastUser = record.user;
      this.lastHost = record.hostname;
    }
    for (const summary of this.lastCells) summary.add(record);
    this.count += 1;
    return this;
  }

  /**
   * The summary of the rows matching `filter` (values compared after trimming), or null when no
   * row matches. The summary is the aggregates' own: `clone()` it before changing it.
   */
  select(filter: GroupFilter = {}): StatementSummary | null {
    const value = (name: keyof GroupFilter): string | null => {
      const v: unknown = filter[name];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'string') throw new TypeError(`filter ${name} must be a string, got ${typeof v}`);
      return v.trim();
    };
    return this.cells.get(cellKey([value('projectName'), value('user'), value('hostname')]))?.summary ?? null;
  }

  /** The (project, user, host) groups and their summaries, in order of first appearance. */
  groups(): { key: GroupKey; summary: StatementSummary }[] {
    const out: { key: GroupKey; summary: StatementSummary }[] = [];
    for (const { values, summary } of this.cells.values()) {
      const [projectName, user, hostname] = values;
      if (projectName !== null && user !== null && hostname !== null) out.push({ key: { projectName, user, hostname }, summary });
    }
    return out;
  }

  /** Adds `other`'s rows as if they came after these (sums become exact where both hold rows; see summary.ts). */
  merge(other: StatementAggregates): this {
    for (const { values, summary } of other.cells.values()) this.cell([...values]).merge(summary);
    this.count += other.count;
    // New cells may exist now: forget the shortcuts.
    this.lastProject = this.lastUser = this.lastHost = undefined;
    this.lastCells = [];
    this.cellsOfRaw.clear();
    return this;
  }

  toJSON(): StatementAggregatesJSON {
    return {
      version: STATEMENT_AGGREGATES_VERSION,
      runs: this.count,
      cells: [...this.cells.values()].map(({ values: [projectName, user, hostname], summary }) => ({ projectName, user, hostname, summary: summary.toJSON() })),
    };
  }

  /**
   * Rebuilds aggregates from {@link toJSON}'s output, checking that every filter's cells add up
   * to the same number of runs.
   * @throws {TypeError} naming the field when `json` is not valid.
   */
  static fromJSON(json: unknown, what = 'statement aggregates'): StatementAggregates {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TypeError(`${what} must be an object`);
    const j = json as Record<string, unknown>;
    if (j.version !== STATEMENT_AGGREGATES_VERSION) {
      throw new TypeError(`${what}: version ${JSON.stringify(j.version)} is not supported (expected ${STATEMENT_AGGREGATES_VERSION})`);
    }
    if (typeof j.runs !== 'number' || !Number.isSafeInteger(j.runs) || j.runs < 0) throw new TypeError(`${what}.runs must be a whole number ≥ 0`);
    if (!Array.isArray(j.cells)) throw new TypeError(`${what}.cells must be an array`);
    const aggregates = new StatementAggregates();
    aggregates.count = j.runs;
    const perMask = new Array<number>(8).fill(0);
    j.cells.forEach((c: unknown, i) => {
      const where = `${what}.cells[${i}]`;
      if (c === null || typeof c !== 'object') throw new TypeError(`${where} must be an object`);
      const cell = c as Record<string, unknown>;
      const values = (['projectName', 'user', 'hostname'] as const).map((name) => {
        const v = cell[name];
        if (v !== null && (typeof v !== 'string' || v !== v.trim())) throw new TypeError(`${where}.${name} must be null or a trimmed string`);
        return v;
      }) as Values;
      const key = cellKey(values);
      if (aggregates.cells.has(key)) throw new TypeError(`${where} repeats the filter ${key}`);
      const summary = StatementSummary.fromJSON(cell.summary, `${where}.summary`);
      if (summary.runs === 0) throw new TypeError(`${where}.summary holds no runs`);
      aggregates.cells.set(key, { values, summary });
      perMask[(values[0] !== null ? 1 : 0) | (values[1] !== null ? 2 : 0) | (values[2] !== null ? 4 : 0)] += summary.runs;
    });
    perMask.forEach((runs, mask) => {
      if (runs !== j.runs) throw new TypeError(`${what}: the cells for filter kind ${mask} hold ${runs} runs, but runs is ${String(j.runs)}`);
    });
    return aggregates;
  }
}
