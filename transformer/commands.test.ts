import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.ts';
import { EXIT } from '../common/exit-codes.ts';
import { inspectCommand } from './inspect-cli.ts';
import { inspect } from './inspect.ts';
import { modulesCommand } from './modules-cli.ts';
import { someMembers } from './modules/test-rows.ts';
import { messageRow, tempDir, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
  await cleanup();
});

/** Runs a command in-process; returns what it printed and the exit code it set. */
async function run(command: Command, args: string[]): Promise<{ stdout: string; code: number | undefined }> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  try {
    await new Command('seedline').exitOverride().addCommand(command.exitOverride()).parseAsync(['node', 'seedline', command.name(), ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return { stdout, code: process.exitCode as number | undefined };
}

/** A dump of members 1..5 and 30 messages between members 1 and 2 (every third one from 2), and its events. */
async function events(): Promise<string> {
  const messages = Array.from({ length: 30 }, (_, i) =>
    messageRow({ MessageId: BigInt(i + 1), SenderId: i % 3 === 0 ? 2 : 1, RecipientId: i % 3 === 0 ? 1 : 2, SentAt: messageRow().SentAt + BigInt(i) }),
  );
  await writeDump(join(dir, 'dump'), { Members: someMembers(), Messages: messages });
  await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['members', 'chat'], progress: 'off' });
  return join(dir, 'events');
}

describe('seedline modules', () => {
  it('lists every module with the tables it reads and the events it emits', async () => {
    const { stdout, code } = await run(modulesCommand(), []);
    expect(code).toBe(EXIT.OK);
    expect(stdout).toContain('reads PhotoLikes (looks up Members, Photos) → likes.photo-liked');
    expect(stdout).toContain('reads Messages (looks up Members) → chat.message-sent, chat.message-read');
  });

  it('--graph prints Graphviz dot of table → module → event type, lookups dashed', async () => {
    const { stdout } = await run(modulesCommand(), ['--graph']);
    expect(stdout).toMatch(/^digraph seedline \{/);
    expect(stdout).toContain('"table:Messages" -> "module:chat";');
    expect(stdout).toContain('"table:Photos" -> "module:likes" [style=dashed, label="lookup"];');
    expect(stdout).toContain('"module:blocks" -> "event:blocks.member-blocked";');
    expect(stdout.trim().endsWith('}')).toBe(true);
  });
});

describe('seedline inspect', () => {
  it('prints events as JSON lines with decoded payloads; --head, --where and --count', async () => {
    const out = await events();
    const lines: string[] = [];
    const head = await inspect({ path: out, head: 2, write: (l) => void lines.push(l) });
    expect(head).toEqual({ matched: 2, read: 2 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'members.member-registered', key: '1', payload: { gender: 'GENDER_WOMAN' } });

    const fromTwo: Record<string, any>[] = [];
    await inspect({ path: out, where: ['type=chat.message-sent', 'payload.sender_id=2'], write: (l) => void fromTwo.push(JSON.parse(l)) });
    expect(fromTwo).toHaveLength(10);
    expect(fromTwo.every((e) => e.payload.sender_id === 2 && e.key === '2')).toBe(true);
    expect(fromTwo[0]!.payload.message_id).toBe('1'); // int64 as a decimal string

    const { stdout, code } = await run(inspectCommand(), [out, '--count', '--where', 'type=chat.message-sent']);
    expect(code).toBe(EXIT.OK);
    expect(stdout).toBe('30\n');
  });

  it('reads one part file of a dump with the schemas of its data set', async () => {
    await events();
    const rows: Record<string, any>[] = [];
    await inspect({ path: join(dir, 'dump', 'Members', 'part-00000.pb.gz'), write: (l) => void rows.push(JSON.parse(l)) });
    expect(rows.map((r) => r.MemberId)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[3]).toMatchObject({ IsDeleted: true, CountryCode: 'FI' });
  });

  it('names the file and record of an event whose payload does not decode', async () => {
    const out = await events();
    const part = join(out, 'events.members', 'part-00000.pb.gz');
    // The first member's user name inside the first event's payload gets a byte that is not UTF-8.
    const bytes = gunzipSync(await readFile(part));
    const at = bytes.indexOf('member1');
    expect(at).toBeGreaterThan(0);
    bytes[at] = 0xff;
    await writeFile(part, gzipSync(bytes));
    await expect(inspect({ path: out, write: () => {} })).rejects.toMatchObject({
      code: 'CORRUPT_RECORD_FILE',
      message: expect.stringMatching(/events\.members\/part-00000\.pb\.gz: record 0 does not decode/),
    });
  });

  it('refuses a bad filter or a path outside a data set', async () => {
    const out = await events();
    await expect(inspect({ path: out, where: ['type'], write: () => {} })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(inspect({ path: join(dir, 'nope'), write: () => {} })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(inspect({ path: join(out, 'manifest.json'), write: () => {} })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('--max-rejects', () => {
  it('stops the transform at the reject after N, with TOO_MANY_REJECTS and exit code 1', async () => {
    const bad = Array.from({ length: 50 }, (_, i) => messageRow({ MessageId: BigInt(i + 1), Body: null }));
    await writeDump(join(dir, 'dump'), { Members: someMembers(), Messages: bad });
    const err = await transform({ dump: join(dir, 'dump'), out: join(dir, 'e1'), modules: ['chat'], maxRejects: 5, progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOO_MANY_REJECTS', context: { module: 'chat', option: '--max-rejects' } });

    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const args = ['node', 'seedline', 'transform', '--dump', join(dir, 'dump'), '--module', 'chat', '--progress', 'off'];
    expect(await main([...args, '--out', join(dir, 'e2'), '--max-rejects', '49'])).toBe(EXIT.ERROR);
    expect(await main([...args, '--out', join(dir, 'e3'), '--max-rejects', '50'])).toBe(EXIT.DONE_WITH_REJECTS);
  });
});
