import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../common/exit-codes.ts';
import { parseSize, transformCommand } from './cli.ts';
import { memberRow, messageRow, tempDir, writeDump } from './test-support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
  await cleanup();
});

/** Runs `seedline transform <args>` in-process; returns stdout, stderr and the exit code it set. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string; code: number | undefined }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const program = new Command('seedline').exitOverride().addCommand(transformCommand().exitOverride());
  try {
    await program.parseAsync(['node', 'seedline', 'transform', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return { stdout, stderr, code: process.exitCode as number | undefined };
}

describe('seedline transform', () => {
  it('prints where the events went, counts per type and rejects, and exits 3 with rejects', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: [memberRow({ MemberId: 1 }), memberRow({ MemberId: 2 })],
      Messages: [messageRow(), messageRow({ MessageId: 2n, Body: null })],
    });
    const out = join(dir, 'events');
    const { stdout, code } = await run(['--dump', join(dir, 'dump'), '--out', out, '--module', 'members,chat', '--progress', 'off']);
    expect(code).toBe(EXIT.DONE_WITH_REJECTS);
    expect(stdout).toContain(`3 events → ${out}/ (2 parts)`); // events.members, events.chat
    expect(stdout).toMatch(/chat\.message-sent\s+1\n/);
    expect(stdout).toMatch(/members\.member-registered\s+2\n/);
    expect(stdout).toContain(`1 rejected → ${join(out, 'rejects')}/`);
    expect(stdout).toMatch(/chat\s+null-body\s+1/);

    // Chat again, into its own data set: no --overwrite, members kept, and the summary says so.
    const again = await run(['--dump', join(dir, 'dump'), '--out', out, '--module', 'chat', '--progress', 'off']);
    expect(again.code).toBe(EXIT.DONE_WITH_REJECTS);
    expect(again.stdout).toContain(`1 event → ${out}/ (1 part)`);
    expect(again.stdout).toContain('kept as they were: members');
  });

  it('exits 0 when nothing was rejected', async () => {
    await writeDump(join(dir, 'dump'), { Members: [memberRow({ MemberId: 1 }), memberRow({ MemberId: 2 })], Messages: [messageRow()] });
    const { stdout, code } = await run(['--dump', join(dir, 'dump'), '--out', join(dir, 'events'), '--module', 'chat', '--progress', 'off']);
    expect(code).toBe(EXIT.OK);
    expect(stdout).toContain('no rows rejected');
  });

  it('--format json prints events as JSON lines on stdout, in order, and the summary on stderr', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: [memberRow({ MemberId: 1 }), memberRow({ MemberId: 2 })],
      Messages: [messageRow({ MessageId: 5n }), messageRow({ MessageId: 6n }), messageRow({ MessageId: 7n })],
    });
    const { stdout, stderr, code } = await run(['--dump', join(dir, 'dump'), '--format', 'json', '--module', 'members,chat', '--limit', '2', '--progress', 'off']);
    expect(code).toBe(EXIT.OK);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.type, e.source.primary_key])).toEqual([
      ['members.member-registered', '1'],
      ['members.member-registered', '2'],
      ['chat.message-sent', '5'],
      ['chat.message-sent', '6'],
    ]);
    expect(events[2]).toMatchObject({ key: '1', occurred_at: String(messageRow().SentAt), payload: { message_id: '5', body: 'Hello' } });
    expect(events[0].payload).toMatchObject({ gender: 'GENDER_WOMAN', city: 'Åbo' });
    expect(stderr).toContain('4 events in');
  });

  it('ends its --help with examples and lists the modules', () => {
    const help = transformCommand().helpInformation() + '';
    let after = '';
    const command = transformCommand().configureOutput({ writeOut: (s) => (after += s) }).exitOverride();
    expect(() => command.parse(['node', 'transform', '--help'])).toThrow();
    expect(help).toContain('--module');
    expect(after).toMatch(/Examples:\n {2}\$ seedline transform/);
    expect(after).toContain('chat       Messages → chat.message-sent');
  });

  it('parses memory sizes', () => {
    expect(parseSize('512MB')).toBe(512 * 1024 * 1024);
    expect(parseSize('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('4096')).toBe(4096);
    expect(() => parseSize('12x')).toThrow(/512MB/);
    expect(() => parseSize('0')).toThrow();
  });
});
