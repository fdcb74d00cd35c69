/** The pictures and examples in the docs are checked against the code, so they cannot rot. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = new URL('../bin/seedline.js', import.meta.url).pathname;

describe('docs', () => {
  it('docs/modules.dot is what `seedline modules --graph` prints today', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'modules', '--graph']);
    const committed = await readFile(new URL('./modules.dot', import.meta.url), 'utf8');
    // When this fails: seedline modules --graph > docs/modules.dot && dot -Tsvg docs/modules.dot -o docs/modules.svg
    expect(stdout).toBe(committed);
  });

  it('every command the README names exists and explains itself with an example', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const named = new Set([...readme.matchAll(/npx seedline ([a-z]+)/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(3);
    for (const command of named) {
      const { stdout } = await run(process.execPath, [CLI, command, '--help']);
      expect(stdout, `seedline ${command} --help`).toMatch(/Example/);
    }
  });
});
