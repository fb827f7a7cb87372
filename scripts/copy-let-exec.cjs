#!/usr/bin/env node
// After `prebuildify` (npm run prebuilds): copy the `let_exec` helper that node-gyp built beside
// the addon (build/Release/let_exec, Linux only) into prebuilds/<platform>-<arch>/, so that a
// package installed without compiling still starts `run`'s commands with PR_SET_PDEATHSIG.
// node-gyp-build only loads *.node files from there; lib/cli/commands/run-child.ts finds let_exec.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

if (process.platform !== 'linux') process.exit(0);
const root = path.join(__dirname, '..');
const built = path.join(root, 'build', 'Release', 'let_exec');
if (!fs.existsSync(built)) {
  process.stderr.write(`copy-let-exec: ${built} is missing (node-gyp should have built it from binding.gyp)\n`);
  process.exit(1);
}
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
fs.copyFileSync(built, path.join(dir, 'let_exec'));
fs.chmodSync(path.join(dir, 'let_exec'), 0o755);
console.log(`copied let_exec to ${path.relative(root, dir)}`);
