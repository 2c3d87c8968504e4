import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageInfo {
  root: string;
  version: string;
}

/**
 * The folder holding Overture's own package.json, found from this module's location (src/ or
 * dist/src/), not from the working directory: commands run from a subfolder use the same data.
 */
function findPackage(): PackageInfo {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'overture') return { root: dir, version: pkg.version ?? '0.0.0' };
    } catch {}
    const parent = path.dirname(dir);
    if (parent === dir) return { root: process.cwd(), version: '0.0.0' };
    dir = parent;
  }
}

const found = findPackage();

/** Where Overture is installed (the checkout, or /app in the image). */
export const PACKAGE_ROOT = found.root;
/** package.json's version. */
export const PACKAGE_VERSION = found.version;
/** The default OVERTURE_DATA_DIR: `.overture` in the package root, wherever the command runs. */
export const DEFAULT_DATA_DIR = path.join(PACKAGE_ROOT, '.overture');
