import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './main.ts';

describe('seedline --help', () => {
  it('lists every command on one line of at most 80 columns, so the list scans', async () => {
    const help = (await buildProgram()).helpInformation({ error: false });
    const lines = help.split('\n');
    const start = lines.indexOf('Commands:');
    expect(start).toBeGreaterThan(0);
    const listed = lines.slice(start + 1, lines.indexOf('', start));
    // A wrapped summary would show up as a line that starts with spaces only, then text.
    for (const line of listed) {
      expect(line, line).toMatch(/^  [a-z][a-z-]* /);
      expect(line.length, line).toBeLessThanOrEqual(80);
    }
    expect(listed.map((l) => l.trim().split(' ')[0])).toEqual(
      expect.arrayContaining(['demo', 'extract', 'transform', 'seed', 'tap', 'report', 'verify', 'fixture']),
    );
  });
});

describe('seedline --help | head', () => {
  it('exits 0 without a stack trace when the reader has closed the pipe', async () => {
    const cli = new URL('../bin/seedline.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [cli, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the help is written, as with `| head -0`
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  }, 30_000);
});
