import { readFileSync } from 'node:fs';
import { PACKAGE_JSON } from './package-root.ts';

/** seedline's own version, from package.json: written into every manifest and run report. */
export const VERSION: string = (
  JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }
).version;
