/**
 * The one loader of the native addon (`let_sampler.node`), through node-gyp-build: it tries
 * `build/Release`, `build/Debug`, then `prebuilds/<platform>-<arch>/`. The package root is
 * searched upward from this module's own location, so it works from `lib/native/` (tsx) and
 * from the bundles in `dist/` alike. The result is cached.
 *
 * The binding it returns constructs samplers with complete options: `new binding.Sampler(o)`
 * applies the environment defaults and the interval limits of `sampler-options.ts` (the addon
 * itself has no defaults).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding, NativeSampler, NativeSamplerOptions } from './types.js';
import { addonSamplerOptions, resolveSamplerOptions } from './sampler-options.js';

const require = createRequire(import.meta.url);

/** The addon could not be loaded; `message` says what was tried and how to fix it. */
export class NativeLoadError extends Error {
  override readonly name = 'NativeLoadError';
  constructor(
    message: string,
    readonly packageRoot: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Directory holding package.json and binding.gyp, searched upward from this file (lib/native/ or a bundle in dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The addon with a Sampler constructor that completes its options (see the module comment). */
function withResolvedOptions(raw: NativeBinding): NativeBinding {
  const AddonSampler = raw.Sampler as unknown as new (options: object) => NativeSampler;
  class Sampler extends AddonSampler {
    constructor(options?: NativeSamplerOptions) {
      super(addonSamplerOptions(resolveSamplerOptions(options ?? {})));
    }
  }
  return Object.freeze({ ...raw, Sampler });
}

type LoadResult = { binding: NativeBinding; error: null } | { binding: null; error: NativeLoadError };

let cached: LoadResult | null = null;

function load(): LoadResult {
  const root = packageRoot();
  try {
    const gypBuild = require('node-gyp-build') as (dir: string) => unknown;
    const raw = gypBuild(root) as NativeBinding;
    if (raw === null || typeof raw !== 'object' || typeof raw.Sampler !== 'function') {
      throw new Error('the loaded module does not export a Sampler class');
    }
    return { binding: withResolvedOptions(raw), error: null };
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const tried = [
      join(root, 'build', 'Release', 'let_sampler.node'),
      join(root, 'build', 'Debug', 'let_sampler.node'),
      join(root, 'prebuilds', `${process.platform}-${process.arch}`, '*.node'),
    ];
    const message = [
      `lamarr-energy-tracker: the native sampler (let_sampler.node) could not be loaded: ${detail}`,
      `Tried (node-gyp-build, package root ${root}):`,
      ...tried.map((t) => `  - ${t}`),
      'To fix:',
      '  - rebuild it: npm rebuild lamarr-energy-tracker',
      '  - if your package manager blocked its install script: npm install-scripts approve lamarr-energy-tracker',
      '    (npm 11.19+; with pnpm: pnpm approve-builds), then npm rebuild lamarr-energy-tracker',
      '  - or build from source (needs python3, make and a C++17 compiler): cd ' + root + ' && npx node-gyp rebuild',
    ].join('\n');
    return { binding: null, error: new NativeLoadError(message, root, { cause: err }) };
  }
}

/** Load the addon (cached) or say why not, without throwing. */
export function tryLoadNativeBinding(): LoadResult {
  cached ??= load();
  return cached;
}

/** Load the addon (cached); throws `NativeLoadError` with what was tried and the fix. */
export function loadNativeBinding(): NativeBinding {
  const r = tryLoadNativeBinding();
  if (r.error !== null) throw r.error;
  return r.binding;
}
