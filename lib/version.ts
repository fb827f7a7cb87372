import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * Root of the installed package: the nearest directory above this module that holds both
 * package.json and binding.gyp. Searched, not assumed, because this module runs from `lib/`
 * (tsx), and bundled into `dist/index.js`, `dist/cli/bin.js` or a chunk under `dist/chunks/`.
 */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; ) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`lamarr-energy-tracker: no package root (package.json beside binding.gyp) above ${start}`);
    dir = up;
  }
}

interface PackageJson {
  name: string;
  version: string;
}

const packageJson = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;

/** The version of lamarr-energy-tracker, from package.json. */
export const TRACKER_VERSION: string = packageJson.version;

/** The npm package name. */
export const PACKAGE_NAME: string = packageJson.name;
