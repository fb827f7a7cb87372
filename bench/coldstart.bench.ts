/**
 * Cold start, as whole processes, against `node -e ''` measured in the same run:
 *
 *   npm run build:ts && node --import tsx bench/coldstart.bench.ts [--runs 15] [--before /work/main]
 *
 * - import + `new EnergyTracker({ save: false, printSummary: false }).start().stop()`, from the
 *   compiled package (dist/), on a simulated root with RAPL counters (the CPU is measured: no TDP
 *   table) and on this machine's real root (no RAPL on this VM: the CPU is estimated from the TDP
 *   table and the load);
 * - the CLI's custom statement (`statement --methodology … --hardware … --consumed-energy …`).
 * With `--before <checkout>`, the same commands of another checkout (its dist/ and addon) run
 * in the same rounds, for a before/after comparison.
 *
 * Each round runs every contender once, in turn; medians over the rounds (ratios: medians of the
 * per-round ratios to `node -e ''`). Wall time of the whole process, from spawn to exit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intelServer } from '../test/fixtures/fake-hardware.js';
import { middleSample } from './stats.js';

const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(argValue('--runs') ?? 15) || 15;
const BEFORE = argValue('--before');
const here = resolve(fileURLToPath(new URL('..', import.meta.url)));


interface Contender {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

function trackerScript(checkout: string, root: string | null): string {
  const index = join(checkout, 'dist', 'index.js');
  const options = `{ save: false, printSummary: false${root !== null ? `, hardwareRoot: ${JSON.stringify(root)}, nvmlLibrary: ''` : ''} }`;
  return `import { EnergyTracker } from ${JSON.stringify(index)}; new EnergyTracker(${options}).start().stop();`;
}

function contenders(checkout: string, label: string, root: string): Contender[] {
  if (!existsSync(join(checkout, 'dist', 'index.js'))) throw new Error(`${checkout}/dist is missing: run npm run build:ts there first`);
  return [
    { name: `${label}import + start + stop, RAPL root (CPU measured)`, argv: ['--input-type=module', '-e', trackerScript(checkout, root)] },
    { name: `${label}import + start + stop, real root (CPU estimated: TDP table)`, argv: ['--input-type=module', '-e', trackerScript(checkout, null)] },
    {
      name: `${label}CLI custom statement`,
      argv: [join(checkout, 'dist', 'cli', 'bin.js'), 'statement', '--methodology', 'measured with RAPL', '--hardware', 'an AMD EPYC CPU', '--consumed-energy', '1.5'],
    },
  ];
}

function timeMs(c: Contender, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr.toString()}`);
  return ms;
}

const { hw } = intelServer(1, 2);
const outputDir = mkdtempSync(join(tmpdir(), 'let-coldstart-'));
const env: NodeJS.ProcessEnv = { ...process.env, LET_OUTPUT_DIR: outputDir };
delete env.NODE_OPTIONS;
try {
  const all: Contender[] = [{ name: "node -e ''", argv: ['-e', ''] }, ...contenders(here, '', hw.root)];
  if (BEFORE !== undefined) all.push(...contenders(resolve(BEFORE), 'before: ', hw.root));
  const times = all.map(() => [] as number[]);
  for (const c of all) timeMs(c, env); // warm the file cache
  for (let r = 0; r < RUNS; r++) for (let i = 0; i < all.length; i++) times[i]!.push(timeMs(all[i]!, env));
  console.log(`# cold start (node ${process.version}, ${RUNS} interleaved rounds, medians)\n`);
  console.log("| process | wall time (ms) | ratio to node -e '' |");
  console.log('|---|---:|---:|');
  for (let i = 0; i < all.length; i++) {
    const ratio = middleSample(times[i]!.map((t, r) => t / times[0]![r]!));
    console.log(`| ${all[i]!.name} | ${middleSample(times[i]!).toFixed(1)} | ${i === 0 ? '1.00×' : `**${ratio.toFixed(2)}×**`} |`);
  }
} finally {
  hw.cleanup();
  rmSync(outputDir, { recursive: true, force: true });
}
