/**
 * Regenerate `data/cpu-tdp-index.txt`, the CPU TDP table with its lookup index
 * (lib/estimate/cpu-tdp-index.ts describes the format), from CodeCarbon's `cpu_power.csv`
 * (columns `Name,TDP`).
 *
 * Usage: `node --import tsx scripts/build-tdp-table.ts [--csv PATH] [--out PATH] [--check]`
 *
 * Defaults: `--csv ../shared/data/codecarbon/cpu_power.csv` (relative to the repository root),
 * `--out data/cpu-tdp-index.txt`. `--check` writes nothing and exits 1 when the file on disk
 * differs from what would be generated (for CI). Run it again whenever the CSV or the name
 * transformations of lib/estimate/cpu-model-name.ts change: the index holds their results.
 *
 * The table keeps CodeCarbon's row order and every row, duplicates included, because the
 * matcher reproduces CodeCarbon's tie-breaking, which depends on order. The data is MIT-licensed
 * (copyright Mila, BCG Gamma, CometML, Haverford College): ship `data/LICENSE-codecarbon` with it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTdpIndex, type TdpIndexSource } from '../lib/estimate/cpu-tdp-index-build.js';
import type { TdpEntry } from '../lib/estimate/cpu-tdp.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Parse RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** The table of CodeCarbon's CSV text: every row in order, a null TDP where the value is unusable. */
export function tdpTableFromCsv(csvText: string): TdpIndexSource & { entries: TdpEntry[] } {
  const rows = parseCsv(csvText);
  const unparsable: string[] = [];
  const header = rows.shift();
  if (!header || header[0]?.trim() !== 'Name' || header[1]?.trim() !== 'TDP') {
    throw new Error(`unexpected header: ${JSON.stringify(header)} (want Name,TDP)`);
  }
  const entries: TdpEntry[] = [];
  rows.forEach((r, i) => {
    if (r.length !== 2) throw new Error(`row ${i + 2}: ${r.length} fields, want 2`);
    const name = r[0]!;
    if (name.trim() === '') throw new Error(`row ${i + 2}: empty name`);
    const raw = r[1]!.trim();
    // A few source rows carry garbled values such as "27.29.5" (a range that lost its dash).
    // CodeCarbon's float() would raise on them; we keep the row (it takes part in matching,
    // whose ties depend on row order) with a null TDP, which the lookup treats as unknown.
    const tdp = /^\d+(\.\d+)?$/.test(raw) && Number(raw) > 0 ? Number(raw) : null;
    if (tdp === null) unparsable.push(`${name},${raw}`);
    entries.push([name, tdp]);
  });
  return {
    source: 'CodeCarbon codecarbon/data/hardware/cpu_power.csv (https://github.com/mlco2/codecarbon), by scripts/build-tdp-table.ts',
    license: 'MIT, Copyright (c) Mila, BCG Gamma, CometML, Haverford College; see LICENSE-codecarbon',
    unparsableTdp: unparsable,
    entries,
  };
}

/** The text of `data/cpu-tdp-index.txt` from the CSV text. */
export function buildTdpTable(csvText: string): string {
  return buildTdpIndex(tdpTableFromCsv(csvText));
}

function main(argv: string[]): number {
  let csv = resolve(repoRoot, '../shared/data/codecarbon/cpu_power.csv');
  let out = resolve(repoRoot, 'data/cpu-tdp-index.txt');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--csv') csv = resolve(argv[++i] ?? '');
    else if (a === '--out') out = resolve(argv[++i] ?? '');
    else if (a === '--check') check = true;
    else {
      process.stderr.write(`unknown argument ${a}\nusage: build-tdp-table.ts [--csv PATH] [--out PATH] [--check]\n`);
      return 2;
    }
  }
  const text = buildTdpTable(readFileSync(csv, 'utf8'));
  if (check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      // missing counts as different
    }
    if (current !== text) {
      process.stderr.write(`${out} is out of date; run scripts/build-tdp-table.ts\n`);
      return 1;
    }
    process.stdout.write(`${out} is up to date\n`);
    return 0;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${out} (${tdpTableFromCsv(readFileSync(csv, 'utf8')).entries.length} rows)\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
