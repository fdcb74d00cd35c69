import { describe, expect, it } from 'vitest';
import { buildProgram } from './main.ts';

describe('seedline --help', () => {
  const help = buildProgram().helpInformation({ error: false });

  it('lists every command on one line of at most 80 columns, so the list scans', () => {
    const lines = help.split('\n');
    const start = lines.indexOf('Commands:');
    expect(start).toBeGreaterThan(0);
    const listed = lines.slice(start + 1, lines.indexOf('', start));
    // A wrapped summary would show up as a line that starts with spaces only, then text.
    for (const line of listed) {
      expect(line, line).toMatch(/^  [a-z]+ /);
      expect(line.length, line).toBeLessThanOrEqual(80);
    }
    expect(listed.map((l) => l.trim().split(' ')[0])).toEqual(
      expect.arrayContaining(['demo', 'extract', 'transform', 'seed', 'tap', 'report', 'verify', 'fixture']),
    );
  });
});
