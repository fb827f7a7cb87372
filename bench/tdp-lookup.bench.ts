/**
 * The first CPU TDP lookup of a process, cold: each sample is a fresh process that imports
 * lib/estimate/cpu-tdp.ts (not timed) and times its first `lookupCpuTdp(name, 2)`: reading the
 * packaged table or index, and matching, before the JIT has compiled any of it.
 *
 *   node --import tsx bench/tdp-lookup.bench.ts [--runs 9] [--before <checkout>]
 *
 * Names: this VM's "AMD EPYC" (in no row: every step runs and step 4 finds it ambiguous), an
 * AMD name found by the token-set step, and Intel names found by normalisation and stripping.
 * With `--before <checkout>` (a checkout with node_modules), its lib/ runs in the same rounds,
 * and the table gives the ratio of the medians (this checkout / before).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countArg, middleSample } from './stats.js';

const RUNS = countArg('--runs', 9);
const beforeAt = process.argv.indexOf('--before');
const BEFORE = beforeAt >= 0 ? process.argv[beforeAt + 1] : undefined;
const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NAMES = ['AMD EPYC', 'AMD EPYC 7763 64-Core Processor', 'Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz', 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz'];

function firstLookupMs(checkout: string, name: string): { ms: number; result: string } {
  const module = JSON.stringify(resolve(checkout, 'lib/estimate/cpu-tdp.ts'));
  const script = `const { lookupCpuTdp } = await import(${module});
const t0 = performance.now();
const r = lookupCpuTdp(${JSON.stringify(name)}, 2);
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, result: (r.matchedName ?? 'none') + ' (' + (r.matchKind ?? 'unknown') + ')' }));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: here, encoding: 'utf8', timeout: 60000 });
  if (child.status !== 0) throw new Error(`lookup of ${name} in ${checkout} failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number; result: string };
}

const checkouts = BEFORE === undefined ? [here] : [here, resolve(BEFORE)];
const samples = checkouts.map(() => NAMES.map(() => [] as number[]));
const results = checkouts.map(() => NAMES.map(() => ''));
for (let round = 0; round < RUNS; round++) {
  checkouts.forEach((checkout, c) =>
    NAMES.forEach((name, n) => {
      const { ms, result } = firstLookupMs(checkout, name);
      samples[c]![n]!.push(ms);
      results[c]![n] = result;
    }),
  );
}
console.log(`# first lookupCpuTdp of a process (node ${process.version}, ${RUNS} rounds, medians)\n`);
console.log(`| CPU model | result | this checkout (ms) |${BEFORE === undefined ? '' : ' before (ms) | ratio |'}`);
console.log(`|---|---|---:|${BEFORE === undefined ? '' : '---:|---:|'}`);
NAMES.forEach((name, n) => {
  const now = middleSample(samples[0]![n]!);
  const before = BEFORE === undefined ? '' : ` ${middleSample(samples[1]![n]!).toFixed(2)} | **${(now / middleSample(samples[1]![n]!)).toFixed(2)}×** |`;
  if (BEFORE !== undefined && results[1]![n] !== results[0]![n]) throw new Error(`${name}: ${results[0]![n]} here, ${results[1]![n]} before`);
  console.log(`| ${name} | ${results[0]![n]} | ${now.toFixed(2)} |${before}`);
});
