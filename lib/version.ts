import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Root of the installed package (works from `lib/` under tsx and from `dist/` after tsc). */
export const PACKAGE_ROOT: string = join(dirname(fileURLToPath(import.meta.url)), '..');

interface PackageJson {
  name: string;
  version: string;
}

const packageJson = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;

/** The version of lamarr-energy-tracker, from package.json. */
export const TRACKER_VERSION: string = packageJson.version;

/** The npm package name. */
export const PACKAGE_NAME: string = packageJson.name;
