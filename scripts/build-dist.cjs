#!/usr/bin/env node
// Builds dist/ (`npm run build:ts`): tsc checks the types and writes the declarations
// (dist/**/*.d.ts, what `types` and the `exports` map point at); esbuild bundles the two entry
// points, dist/index.js (the library) and dist/cli/bin.js (the executable), into few ES modules.
//
// Why a bundle: Node resolves, reads, compiles and links every ES module on its own, and the
// ~120 small modules tsc emitted cost about 100 ms on every `import 'lamarr-energy-tracker'` and
// most of a CLI command's start-up (bench/coldstart.bench.ts; figures in bench/RESULTS.md).
// The library and the CLI are built separately, each with the code it uses: they never run in
// one process (the CLI does not import the library's entry, and `run` starts its command in a
// child process). The CLI's commands are chunks (dist/cli/chunks/) that it imports only when that
// command runs; within the CLI every module exists once. The library's dependencies stay
// external (installed beside the package, loaded from node_modules); commander is bundled.
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

// Node's modules (node:fs, …) are taken with process.getBuiltinModule (Node ≥ 20.16), not with
// `import`: an ES module import of a built-in builds an ES facade that reads every export, and
// node:fs's lazy ReadStream/WriteStream getters then load all of node:stream (~3 ms); each facade
// costs ~0.4 ms more. In the bundle a built-in is a small module that reads only the exports the
// code imports (the others are `@__PURE__` reads that esbuild drops; an `import * as` would
// read them all, so lib/ imports built-ins by name).
const builtins = new Set(require('node:module').builtinModules.filter((name) => !name.startsWith('_')));
const identifier = /^[A-Za-z_$][\w$]*$/;
const builtinsByGetter = {
  name: 'builtins-by-getter',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!builtins.has(name)) return undefined;
      // require() (bundled CommonJS: commander) gets the module object itself.
      return { path: name, namespace: args.kind === 'require-call' ? 'node-builtin-cjs' : 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin-cjs' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
      const id = JSON.stringify(`node:${args.path}`);
      const names = Object.getOwnPropertyNames(require(`node:${args.path}`)).filter((name) => identifier.test(name) && name !== 'default');
      const contents = [
        `const __builtin = process.getBuiltinModule(${id});`,
        'const __read = (name) => __builtin[name];',
        'export default __builtin;',
        ...names.map((name) => `export const ${name} = /* @__PURE__ */ __read(${JSON.stringify(name)});`),
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

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
  plugins: [builtinsByGetter],
};

// The bundled copy of commander keeps its MIT licence: esbuild keeps `/*! … */` comments
// (legalComments 'eof'), so the licence is given to its entry module as one. commander requires
// node:child_process (with net, dgram and streams, ~3 ms) at load, only to spawn executable
// subcommands, which this CLI does not have: it is required when it spawns instead.
const EAGER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const LAZY_CHILD_PROCESS = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
const bundledCommander = {
  name: 'bundled-commander',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]index\.js$/ }, (args) => {
      const licence = readFileSync(path.join(path.dirname(args.path), 'LICENSE'), 'utf8').replaceAll('*/', '* /');
      return { contents: `/*! commander (bundled), ${licence.trim()}\n */\n${readFileSync(args.path, 'utf8')}`, loader: 'js' };
    });
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const uses = source.match(/childProcess\.\w+/g) ?? [];
      if (!source.includes(EAGER_CHILD_PROCESS) || uses.some((use) => use !== 'childProcess.spawn')) {
        return { contents: source, loader: 'js', warnings: [{ text: 'commander changed: node:child_process stays loaded at start-up (see scripts/build-dist.cjs)' }] };
      }
      return { contents: source.replace(EAGER_CHILD_PROCESS, LAZY_CHILD_PROCESS), loader: 'js' };
    });
  },
};

Promise.all([
  // The library: one file. Its dependencies stay external (prom-client is required on first use).
  esbuild.build({ ...common, entryPoints: { index: 'lib/index.ts' }, outdir: 'dist', packages: 'external' }),
  // The executable: bin.js loads a command's chunk (dist/cli/chunks/) only when that command runs.
  // commander is bundled in (so it is a devDependency; its licence is kept in the bundle); the
  // dependencies stay external.
  esbuild.build({
    ...common,
    entryPoints: { bin: 'lib/cli/bin.ts' },
    outdir: 'dist/cli',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    external: Object.keys(require('../package.json').dependencies),
    legalComments: 'eof',
    plugins: [builtinsByGetter, bundledCommander],
  }),
]).catch(() => process.exit(1));
