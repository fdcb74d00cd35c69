import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding seedline's package.json: the checkout, or the installed package. The
 * TypeScript sources sit one folder below it and the compiled build (dist/<build>/) two, so
 * assets such as schemas/ are found by looking up from here, not by a fixed relative path.
 */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const name = packageName(join(dir, 'package.json'));
    if (name === 'seedline') return dir;
    if (dirname(dir) === dir) throw new Error(`seedline's package.json not found above ${start}`);
  }
}

function packageName(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** seedline's own package.json. */
export const PACKAGE_JSON = join(PACKAGE_ROOT, 'package.json');
