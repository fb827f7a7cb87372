#!/usr/bin/env node
// Builds dist/ (`npm run build:ts`): tsc checks the types and writes the declarations
// (dist/**/*.d.ts, what `types` and the `exports` map point at); esbuild bundles the two entry
// points, dist/index.js (the library) and dist/cli/bin.js (the executable), into few ES modules.
//
// Why a bundle: Node resolves, reads, compiles and links every ES module on its own, and the
// ~120 small modules tsc emitted cost about 100 ms on every `import 'lamarr-energy-tracker'` and
// most of a CLI command's start-up (bench/coldstart.bench.ts; figures in bench/RESULTS.md).
// Code shared by the entry points, and each CLI command (which the CLI imports only when that
// command runs), go into chunks under dist/chunks/, so every module exists once in a process.
// Dependencies stay external (installed beside the package, loaded from node_modules).
//
// esbuild is a devDependency only: users install the built package and never run it.
'use strict';
const { spawnSync } = require('node:child_process');
const { readFileSync, rmSync } = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

// A clean dist/: files of an earlier build (the per-module .js of tsc) must not linger.
rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Maps to lib/*.ts, as tsc's were (`node --enable-source-maps`); the sources are not inlined.
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
};

// The bundled copy of commander keeps its MIT licence: esbuild keeps `/*! … */` comments
// (legalComments 'eof'), so the licence is given to its entry module as one.
const commanderLicence = {
  name: 'commander-licence',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]index\.js$/ }, (args) => {
      const licence = readFileSync(path.join(path.dirname(args.path), 'LICENSE'), 'utf8').replaceAll('*/', '* /');
      return { contents: `/*! commander (bundled), ${licence.trim()}\n */\n${readFileSync(args.path, 'utf8')}`, loader: 'js' };
    });
  },
};

Promise.all([
  // The library: one file. Its dependencies stay external (prom-client is required on first use).
  esbuild.build({ ...common, entryPoints: { index: 'lib/index.ts' }, outdir: 'dist', packages: 'external' }),
  // The executable: bin.js loads a command's chunk (dist/cli/chunks/) only when that command runs.
  // commander is bundled in (its licence is kept in the bundle); other dependencies stay external.
  esbuild.build({
    ...common,
    entryPoints: { bin: 'lib/cli/bin.ts' },
    outdir: 'dist/cli',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    external: Object.keys(require('../package.json').dependencies).filter((name) => name !== 'commander'),
    // commander is CommonJS: its require() of Node's modules needs a require in the ES module.
    banner: { js: "import { createRequire as __letCreateRequire } from 'node:module';\nconst require = __letCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    plugins: [commanderLicence],
  }),
]).catch(() => process.exit(1));
