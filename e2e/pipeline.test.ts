/**
 * The walking skeleton end to end, through the real CLI against the local PostgreSQL and
 * RabbitMQ: fixture → extract → transform → seed → a consumer bound to the exchange.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type protobuf from 'protobufjs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS_DIR, envelopeType, int64ToBigInt, loadProtos, type EventEnvelope } from '../common/protos.ts';
import { createTempDb, type TempDb } from '../extractor/test-db.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { decodeEvents } from '../recordfile/index.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/seedline.js', import.meta.url).pathname;
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

async function seedline(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args, '--progress', 'off'], { maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

interface Received {
  readonly content: Buffer;
  readonly properties: amqp.MessageProperties;
  readonly routingKey: string;
}

describe('extract → transform → seed, through the CLI', () => {
  let db: TempDb;
  let dir: string;
  let connection: amqp.ChannelModel;
  const exchange = `seedline.e2e.${process.pid}.${Date.now()}`;
  const received: Received[] = [];
  let expected: EventEnvelope[] = [];
  let root: protobuf.Root;
  let transformCode = -1;
  let seedOutput = '';

  beforeAll(async () => {
    db = await createTempDb();
    dir = await mkdtemp(join(tmpdir(), 'seedline-e2e-'));
    root = await loadProtos([join(SCHEMAS_DIR, 'events/members.proto'), join(SCHEMAS_DIR, 'events/chat.proto')]);

    const fixture = await seedline('fixture', 'create', '--preset', 'tiny', '--source', db.url);
    expect(fixture.code, fixture.stderr).toBe(0);

    const extracted = await seedline(
      'extract', 'dbo.Members', 'dbo.Messages',
      '--source', db.url, '--source-timezone', FIXTURE_TIMEZONE, '--out', join(dir, 'dump'),
    );
    expect(extracted.code, extracted.stderr).toBe(0);

    const transformed = await seedline('transform', '--dump', join(dir, 'dump'), '--out', join(dir, 'events'));
    transformCode = transformed.code;

    const Event = await envelopeType();
    for await (const batch of decodeEvents(join(dir, 'events'), (b) => Event.decode(b) as unknown as EventEnvelope)) {
      expected.push(...batch);
    }

    // The consumer is bound before seeding, so every event must reach it.
    connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    await channel.consume(queue, (msg) => {
      if (msg) received.push({ content: msg.content, properties: msg.properties, routingKey: msg.fields.routingKey });
    }, { noAck: true });

    const seeded = await seedline('seed', '--events', join(dir, 'events'), '--amqp-url', AMQP_URL, '--exchange', exchange, '--run-id', 'e2e-run');
    expect(seeded.code, seeded.stderr).toBe(0);
    seedOutput = seeded.stdout + seeded.stderr;

    const deadline = Date.now() + 20_000;
    while (received.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200)); // a late duplicate would show up here
  });

  afterAll(async () => {
    if (connection) {
      const channel = await connection.createChannel();
      await channel.deleteExchange(exchange).catch(() => {});
      await connection.close().catch(() => {});
    }
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('transforms the dirty fixture, reporting its bad rows with exit code 3', () => {
    expect(expected.length).toBeGreaterThan(100);
    expect(transformCode).toBe(3);
  });

  it('delivers every event exactly once', () => {
    const ids = received.map((m) => m.properties.messageId as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(expected.length);
    expect(new Set(ids)).toEqual(new Set(expected.map((e) => e.id)));
    expect(seedOutput).toContain(`${expected.length.toLocaleString('en-US')}`);
  });

  it('keeps the order of the events file within every key', () => {
    const perKey = (events: { key: string; id: string }[]) => {
      const map = new Map<string, string[]>();
      for (const e of events) map.set(e.key, [...(map.get(e.key) ?? []), e.id]);
      return map;
    };
    const got = perKey(received.map((m) => ({ key: String(m.properties.headers?.key), id: m.properties.messageId as string })));
    expect(got).toEqual(perKey(expected));
    // And the file itself is ordered by occurred_at.
    for (let i = 1; i < expected.length; i++) {
      expect(int64ToBigInt(expected[i]!.occurred_at) >= int64ToBigInt(expected[i - 1]!.occurred_at)).toBe(true);
    }
  });

  it('sets the AMQP properties and headers of docs/design.md', () => {
    const byId = new Map(expected.map((e) => [e.id, e]));
    for (const m of received) {
      const event = byId.get(m.properties.messageId as string)!;
      expect(m.routingKey).toBe(event.type);
      expect(m.properties.type).toBe(event.type);
      expect(m.properties.contentType).toBe('application/x-protobuf');
      expect(m.properties.deliveryMode).toBe(2);
      expect(m.properties.timestamp).toBe(Number(int64ToBigInt(event.occurred_at) / 1_000_000n));
      expect(m.properties.headers).toMatchObject({
        key: event.key,
        'source-table': event.source?.table,
        'source-key': event.source?.primary_key,
        'payload-type': event.payload_type,
        'run-id': 'e2e-run',
      });
      expect(Buffer.from(m.content).equals(Buffer.from(event.payload))).toBe(true);
    }
  });

  it('carries payloads that say what the legacy rows said', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const micros = (col: string) => `(extract(epoch from (${col} AT TIME ZONE '${FIXTURE_TIMEZONE}')) * 1000000)::bigint::text`;
      const messages = new Map(
        (await client.query(`SELECT "MessageId"::text AS id, "SenderId" AS sender, "RecipientId" AS recipient, "Body" AS body, ${micros('"SentAt"')} AS sent FROM dbo."Messages"`))
          .rows.map((r) => [r.id as string, r]),
      );
      const members = new Map(
        (await client.query(`SELECT "MemberId" AS id, "UserName" AS name, "Email" AS email, "ExternalId"::text AS ext, ${micros('"RegisteredAt"')} AS registered FROM dbo."Members"`))
          .rows.map((r) => [r.id as number, r]),
      );
      let sent = 0;
      let registered = 0;
      for (const m of received) {
        const type = root.lookupType(String(m.properties.headers?.['payload-type']));
        const payload = type.toObject(type.decode(m.content), { longs: String, defaults: true }) as Record<string, unknown>;
        if (m.properties.type === 'chat.message-sent') {
          const row = messages.get(String(payload.message_id))!;
          expect(row, `message ${payload.message_id}`).toBeDefined();
          expect(payload.sender_id).toBe(row.sender);
          expect(payload.recipient_id).toBe(row.recipient);
          expect(payload.body).toBe(row.body);
          expect(payload.sent_at).toBe(row.sent);
          expect(m.properties.headers?.key).toBe(String(row.sender));
          sent++;
        } else if (m.properties.type === 'members.member-registered') {
          const row = members.get(payload.member_id as number)!;
          expect(row, `member ${payload.member_id}`).toBeDefined();
          expect(payload.user_name ?? null).toBe(row.name);
          expect(payload.email ?? null).toBe(row.email);
          expect(payload.external_id).toBe(row.ext);
          expect(payload.registered_at).toBe(row.registered);
          registered++;
        }
      }
      expect(sent).toBeGreaterThan(0);
      expect(registered).toBeGreaterThan(0);
      // Every legacy row became an event or a reported reject: nothing silently dropped.
      // A reject line with dropped=false removed a detail only (e.g. a read time), not the row.
      const droppedMessages = await droppedKeys(join(dir, 'events', 'rejects', 'chat.jsonl'), 'Messages');
      const droppedMembers = await droppedKeys(join(dir, 'events', 'rejects', 'members.jsonl'), 'Members');
      expect(sent + droppedMessages.size).toBe(messages.size);
      expect(registered + droppedMembers.size).toBe(members.size);
    } finally {
      await client.end();
    }
  });
});

/** Keys of the rows of `table` that a module dropped whole, from its rejects file. */
async function droppedKeys(file: string, table: string): Promise<Set<string>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { table: string; key: unknown; dropped: boolean });
  return new Set(lines.filter((l) => l.dropped && l.table === table).map((l) => JSON.stringify(l.key)));
}
