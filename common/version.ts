import { readFileSync } from 'node:fs';

/** seedline's own version, from package.json: written into every manifest and run report. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
