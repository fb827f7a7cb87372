#!/usr/bin/env node
// Install step of lamarr-energy-tracker. Does nothing when a bundled prebuild (prebuilds/)
// or an existing build loads (node-gyp-build checks). Otherwise tries to compile the addon
// from the shipped sources with node-gyp. If that fails too (no compiler, no Python), the
// install still succeeds: the package then falls back to labelled estimates at run time and
// says once what failed and how to fix it. LET_REQUIRE_NATIVE=1 makes a failed build fail the
// install instead.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
try {
  require('node-gyp-build')(root);
  process.exit(0); // a prebuild or an earlier build loads: nothing to do
} catch {
  // No loadable binary: build from source below.
}

const nodeGyp = (() => {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
})();
const command = nodeGyp ? [process.execPath, [nodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(command[0], command[1], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status === 0) process.exit(0);

const strict = ['1', 'true', 'yes'].includes(String(process.env.LET_REQUIRE_NATIVE || '').toLowerCase());
process.stderr.write(
  '\nlamarr-energy-tracker: no prebuilt sampler for this platform and building it from source failed.\n' +
    'Energy will be ESTIMATED (labelled as such) until the native sampler is built. To fix: install python3, make\n' +
    'and a C++ compiler, then run `npm rebuild lamarr-energy-tracker`.\n',
);
process.exit(strict ? 1 : 0);
