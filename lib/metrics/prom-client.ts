/**
 * prom-client, loaded on first use instead of at import: it is about 90 CommonJS modules (with
 * @opentelemetry/api) and took ~40 ms to load, which every `import 'lamarr-energy-tracker'`
 * paid whether or not it used metrics. prom-client is CommonJS, so `require` gives the very
 * module object an `import … from 'prom-client'` of the user's gets (one default registry, and
 * `instanceof` works across both).
 */
import { createRequire } from 'node:module';

type PromClient = typeof import('prom-client');

let loaded: PromClient | null = null;

/** prom-client's exports, required on the first call (from the package's own dependency). */
export function promClient(): PromClient {
  loaded ??= createRequire(import.meta.url)('prom-client') as PromClient;
  return loaded;
}
