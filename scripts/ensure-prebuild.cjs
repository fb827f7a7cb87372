#!/usr/bin/env node
// Makes sure prebuilds/<platform>-<arch>/ holds a prebuild of the current native sources
// (run by `npm test` before mocha, because the package test installs the npm tarball with
// install scripts disabled and must find the prebuild in it). Rebuilds with prebuildify when
// the prebuild is missing or older than any file under native/ or binding.gyp.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

function newestSource() {
  let newest = fs.statSync(path.join(root, 'binding.gyp')).mtimeMs;
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  walk(path.join(root, 'native'));
  return newest;
}

const prebuilds = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.node')) : [];
const oldest = prebuilds.length ? Math.min(...prebuilds.map((name) => fs.statSync(path.join(dir, name)).mtimeMs)) : 0;
const helperMissing = process.platform === 'linux' && !fs.existsSync(path.join(dir, 'let_exec'));
if (prebuilds.length > 0 && oldest >= newestSource() && !helperMissing) {
  console.error(`prebuild up to date: ${path.relative(root, path.join(dir, prebuilds[0]))}`);
  process.exit(0);
}
console.error('building the prebuild (npm run prebuilds) …');
const result = spawnSync('npm', ['run', 'prebuilds'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
