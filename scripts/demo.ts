/**
 * `npm run demo`: track a real CPU-bound workload (SHA-256 hashing and a prime sieve for a few
 * seconds), print its energy and the paper statement, and store the run in ~/.let/ (or
 * `--output-dir`). `--seconds N` sets the workload's length.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EnergyTracker } from '../lib/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'output-dir': { type: 'string' },
    'project-name': { type: 'string', default: 'lamarr-energy-tracker-demo' },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`--seconds must be a positive number, got ${values.seconds}`);

/** A CPU-bound workload: hash chains and a sieve, until `seconds` have passed. */
function workload(durationS: number): { hashes: number; primes: number } {
  const end = performance.now() + durationS * 1000;
  let digest = Buffer.from('lamarr');
  let hashes = 0;
  let primes = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 2000; i++) {
      digest = createHash('sha256').update(digest).digest();
      hashes++;
    }
    const limit = 200_000;
    const composite = new Uint8Array(limit + 1);
    primes = 0;
    for (let n = 2; n <= limit; n++) {
      if (composite[n]) continue;
      primes++;
      for (let multiple = n * n; multiple <= limit; multiple += n) composite[multiple] = 1;
    }
  }
  return { hashes, primes };
}

const tracker = new EnergyTracker({
  projectName: values['project-name'],
  ...(values['output-dir'] ? { outputDir: values['output-dir'] } : {}),
});
console.log(`Tracking ${seconds} s of SHA-256 hashing and prime sieving (project "${tracker.options.projectName}", store ${tracker.options.outputDir}) …`);
const result = await tracker.track(() => workload(seconds));
console.log(`Workload done: ${result.hashes} hashes.`);
