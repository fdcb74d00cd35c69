import { readFile, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest, decodeEvents, eventStreams } from '../recordfile/index.ts';
import { micros } from './legacy-time.ts';
import { memberRow, messageRow, readEvents, tempDir, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T0 = micros('2010-01-01T00:00:00Z');
/** The modules whose tables these tests' dumps hold. */
const modules = ['members', 'chat'];
const SECOND = 1_000_000n;

/**
 * Members and messages with many equal timestamps (the legacy datetime has ~3 ms resolution),
 * in a scrambled order, plus a member registering in the same microsecond as their first message.
 */
function scrambledTables(members: number, messages: number, seed = 1) {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const memberRows = Array.from({ length: members }, (_, i) =>
    memberRow({ MemberId: i + 1, RegisteredAt: T0 + BigInt(next() % 50) * SECOND, Presentation: 'x'.repeat(next() % 200) }),
  );
  const messageRows = Array.from({ length: messages }, (_, i) =>
    messageRow({
      MessageId: BigInt(i + 1),
      SenderId: 1 + (next() % members),
      RecipientId: 1 + (next() % members),
      Body: `message ${i} ${'ö'.repeat(next() % 100)}`,
      // From the last registration's second on: every sender exists (no registered-later
      // rejects), and some register in the very microsecond of a message (a tie).
      SentAt: T0 + BigInt(49 + (next() % 60)) * SECOND,
    }),
  );
  const shuffle = <T>(rows: T[]) => {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = next() % (i + 1);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    return rows;
  };
  return { Members: shuffle(memberRows), Messages: shuffle(messageRows) };
}

/** Every part of every event stream, by file name. */
async function partBytes(events: string): Promise<Record<string, Buffer>> {
  const streams = eventStreams(await readManifest(events), events);
  const parts = streams.flatMap((s) => s.entry.parts);
  return Object.fromEntries(await Promise.all(parts.map(async (p) => [p.file, await readFile(join(events, p.file))] as const)));
}

describe('transform', () => {
  it('orders events globally by occurred_at with deterministic tie-breaks, across spilled runs', async () => {
    await writeDump(join(dir, 'dump'), scrambledTables(300, 3000), { maxPartBytes: 20_000 });
    const small = await transform({
      dump: join(dir, 'dump'),
      out: join(dir, 'spilled'),
      modules,
      memoryBytes: 200_000,
      maxPartBytes: 50_000,
      progress: 'off',
    });
    expect(small.sortRuns).toBeGreaterThan(4);
    expect(small.events).toBe(3300);
    expect(small.parts).toBeGreaterThan(3);

    const events = await readEvents(join(dir, 'spilled'));
    const moduleOf = (type: string) => (type.startsWith('members.') ? 0 : 1);
    for (let i = 1; i < events.length; i++) {
      const a = events[i - 1]!;
      const b = events[i]!;
      expect(a.occurredAt <= b.occurredAt).toBe(true);
      if (a.occurredAt === b.occurredAt) {
        // Ties: members before chat, then by primary key numerically.
        expect(moduleOf(a.type) <= moduleOf(b.type)).toBe(true);
        if (a.type === b.type) expect(BigInt(a.source.primary_key) < BigInt(b.source.primary_key)).toBe(true);
      }
    }
    // Each part's keyRange is its first and last occurred_at.
    const manifest = await readManifest(join(dir, 'spilled'));
    for (const module of modules) {
      const ofModule = events.filter((e) => e.type.startsWith(`${module}.`));
      let offset = 0;
      for (const part of manifest.streams[`events.${module}`]!.parts) {
        expect(part.keyRange).toEqual({ first: Number(ofModule[offset]!.occurredAt), last: Number(ofModule[offset + part.records - 1]!.occurredAt) });
        offset += part.records;
      }
      expect(offset).toBe(ofModule.length);
    }

    // The same dump sorted entirely in memory gives byte-identical parts.
    const big = await transform({ dump: join(dir, 'dump'), out: join(dir, 'in-memory'), modules, maxPartBytes: 50_000, progress: 'off' });
    expect(big.sortRuns).toBe(0);
    expect(await partBytes(join(dir, 'in-memory'))).toEqual(await partBytes(join(dir, 'spilled')));
  });

  it('gives byte-identical parts on a re-run, and whatever order the dump holds the rows in', async () => {
    await writeDump(join(dir, 'dump-a'), scrambledTables(50, 400, 1));
    await writeDump(join(dir, 'dump-b'), scrambledTables(50, 400, 1), { maxPartBytes: 3_000 });
    const reordered = scrambledTables(50, 400, 1);
    reordered.Messages.reverse();
    reordered.Members.reverse();
    await writeDump(join(dir, 'dump-c'), reordered);
    const first = await transform({ dump: join(dir, 'dump-a'), out: join(dir, 'a1'), modules, progress: 'off' });
    await transform({ dump: join(dir, 'dump-a'), out: join(dir, 'a2'), modules, progress: 'off' });
    await transform({ dump: join(dir, 'dump-c'), out: join(dir, 'c'), modules, progress: 'off', memoryBytes: 20_000 });
    const a1 = await partBytes(join(dir, 'a1'));
    expect(Object.keys(a1)).toEqual(['events.members/part-00000.pb.gz', 'events.chat/part-00000.pb.gz']);
    expect(first.events).toBe(450);
    expect(await partBytes(join(dir, 'a2'))).toEqual(a1);
    expect(await partBytes(join(dir, 'c'))).toEqual(a1);
    const m1 = await readManifest(join(dir, 'a1'));
    const m2 = await readManifest(join(dir, 'a2'));
    expect(m2.streams).toEqual(m1.streams);
  });

  it('writes the same events at any gzip level; the default (1) trades ~10% size for speed', async () => {
    await writeDump(join(dir, 'dump'), scrambledTables(50, 400, 2));
    await transform({ dump: join(dir, 'dump'), out: join(dir, 'fast'), modules, progress: 'off' });
    await transform({ dump: join(dir, 'dump'), out: join(dir, 'small'), modules, progress: 'off', gzipLevel: 9 });
    expect(await readEvents(join(dir, 'small'))).toEqual(await readEvents(join(dir, 'fast')));
    const size = async (out: string) => (await readManifest(out)).streams['events.chat']!.parts[0]!.compressedBytes;
    expect(await size(join(dir, 'small'))).toBeLessThan(await size(join(dir, 'fast')));
  });

  it('writes a self-describing data set: one events stream per module, envelope and payload protos in schemas/', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: [memberRow({ MemberId: 1, RegisteredAt: T0 }), memberRow({ MemberId: 2, RegisteredAt: T0 + SECOND })],
      Messages: [messageRow({ SentAt: T0 + SECOND, SenderId: 1, RecipientId: 2 })],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules, progress: 'off' });
    const manifest = await readManifest(join(dir, 'events'));
    expect(manifest.complete).toBe(true);
    expect(Object.keys(manifest.streams)).toEqual(['events.members', 'events.chat']);
    expect(manifest.producer.source).toMatchObject({ modules: ['members', 'chat'] });
    expect(manifest.streams['events.members']).toMatchObject({ messageType: 'seedline.events.Event', protoFile: 'schemas/envelope.proto', records: 2 });
    expect(manifest.streams['events.members']!.info).toMatchObject({
      module: 'members',
      moduleIndex: 0,
      payloadProto: 'schemas/members.proto',
      eventsByType: { 'members.member-registered': 2 },
      rowsByTable: { Members: 2 },
    });
    expect(manifest.streams['events.chat']!.info).toMatchObject({ module: 'chat', moduleIndex: 2, payloadProto: 'schemas/chat.proto', eventsByType: { 'chat.message-sent': 1 } });
    expect((await readdir(join(dir, 'events', 'schemas'))).sort()).toEqual(['chat.proto', 'envelope.proto', 'members.proto']);
    expect(result.eventsByType).toEqual({ 'chat.message-sent': 1, 'members.member-registered': 2 });

    // Decodable with nothing but the data set's own schemas.
    const schemas = join(dir, 'events', 'schemas');
    const root = await new protobuf.Root().load(['envelope.proto', 'members.proto', 'chat.proto'].map((f) => join(schemas, f)), { keepCase: true });
    const Event = root.lookupType('seedline.events.Event');
    const decoded: Record<string, unknown>[] = [];
    for await (const batch of decodeEvents(join(dir, 'events'), (b) => Event.decode(b))) {
      for (const e of batch) {
        const ev = e as unknown as { payload_type: string; payload: Uint8Array; type: string };
        decoded.push({ type: ev.type, payload: root.lookupType(ev.payload_type).toObject(root.lookupType(ev.payload_type).decode(ev.payload)) });
      }
    }
    // Same microsecond: the registration comes before the message (members precede chat).
    expect(decoded.map((d) => d.type)).toEqual(['members.member-registered', 'members.member-registered', 'chat.message-sent']);
    expect(decoded[2]!.payload).toMatchObject({ body: 'Hello', sender_id: 1 });
  });

  it('runs only the modules asked for, and at most --limit rows per table', async () => {
    await writeDump(join(dir, 'dump'), scrambledTables(20, 100));
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['chat'], limit: 30, progress: 'off' });
    expect(result.rowsByTable).toEqual({ Messages: 30 });
    expect(result.eventsByType).toEqual({ 'chat.message-sent': 30 });
  });

  it('fails with CORRUPT_RECORD_FILE naming the damaged dump part, leaving the output incomplete', async () => {
    await writeDump(join(dir, 'dump'), scrambledTables(20, 2000), { maxPartBytes: 20_000 });
    const part = join(dir, 'dump', 'Messages', 'part-00001.pb.gz');
    await truncate(part, Math.floor((await stat(part)).size / 2));
    const err = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules, progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CORRUPT_RECORD_FILE', context: { file: part } });
    expect((await readManifest(join(dir, 'events'))).complete).toBe(false);
  });

  it('fails with CORRUPT_RECORD_FILE when a record does not decode', async () => {
    await writeDump(join(dir, 'dump'), { Members: [memberRow()] });
    // Rewrite the part with a record that is not a Members message (a bare field-0 tag).
    const { DatasetWriter } = await import('../recordfile/index.ts');
    const w = await DatasetWriter.create(join(dir, 'bad'), { tool: 'seedline', version: 't', stage: 'test', startedAt: '' });
    const s = w.streamWriter('Members', { messageType: 'seedline.legacy.Members', protoPath: join(dir, 'dump', 'schemas', 'Members.proto') });
    await s.write(new Uint8Array([0x00, 0x01]));
    await s.close();
    await w.finish();
    const err = await transform({ dump: join(dir, 'bad'), out: join(dir, 'events'), modules: ['members'], progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CORRUPT_RECORD_FILE', context: { file: join(dir, 'bad', 'Members', 'part-00000.pb.gz'), record: 0 } });
  });

  it('refuses bad input before touching the output', async () => {
    await writeDump(join(dir, 'dump'), { Members: [memberRow()] });
    const out = join(dir, 'events');
    await expect(transform({ dump: join(dir, 'dump'), out, modules: ['nope'], progress: 'off' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(transform({ dump: join(dir, 'dump'), out, modules: ['chat'], progress: 'off' })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    await expect(transform({ dump: join(dir, 'missing'), out, progress: 'off' })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });

    await transform({ dump: join(dir, 'dump'), out, modules: ['members'], progress: 'off' });
    // Its own events data set: rebuilt the same, no --overwrite needed. Another dump's: only with --overwrite.
    await expect(transform({ dump: join(dir, 'dump'), out, modules: ['members'], progress: 'off' })).resolves.toMatchObject({ events: 1 });
    await writeDump(join(dir, 'other-dump'), { Members: [memberRow()] });
    await expect(transform({ dump: join(dir, 'other-dump'), out, modules: ['members'], progress: 'off' })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await expect(transform({ dump: join(dir, 'other-dump'), out, modules: ['members'], overwrite: true, progress: 'off' })).resolves.toMatchObject({ events: 1 });
  });

  it('stops with INTERRUPTED on abort and leaves no complete-looking output nor sort runs', async () => {
    await writeDump(join(dir, 'dump'), scrambledTables(20, 500));
    const controller = new AbortController();
    controller.abort();
    const out = join(dir, 'events');
    await expect(transform({ dump: join(dir, 'dump'), out, modules, signal: controller.signal, memoryBytes: 5_000, progress: 'off' })).rejects.toMatchObject({
      code: 'INTERRUPTED',
    });
    expect((await readManifest(out)).complete).toBe(false);
    expect(await readdir(out)).not.toContain('.sort-runs');
  });
});
