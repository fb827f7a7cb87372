/**
 * Runs every bench/*.bench.ts in turn, each in its own Node process (so one bench's threads,
 * timers and heap do not disturb the next), passing the remaining arguments through.
 *
 *   npm run bench                 # all
 *   npm run bench -- native       # only files whose name contains "native"
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const filters = argv.filter((a) => !a.startsWith('-'));
const passthrough = argv.filter((a) => a.startsWith('-'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const failed: string[] = [];
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, f), ...passthrough], { stdio: 'inherit' });
  const status = r.status ?? (r.signal !== null ? `signal ${r.signal}` : 'unknown');
  console.log(`=== ${f}: ${status === 0 ? 'ok' : `FAILED (${status})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (status !== 0) failed.push(f);
}
console.log(`\n${files.length - failed.length} of ${files.length} benches ran${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exitCode = failed.length > 0 ? 1 : 0;
