/**
 * Test support for the seeder: small events data sets written with the real record-file
 * writer, and a real consumer on the local RabbitMQ. Not a mock of anything.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { vi } from 'vitest';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { ENVELOPE_PROTO, ENVELOPE_TYPE, envelopeType } from '../common/protos.ts';
import { VERSION } from '../common/version.ts';
import { DatasetWriter } from '../recordfile/index.ts';
import { DEFAULT_URL } from './broker/broker.ts';

export interface TestEvent {
  id: string;
  type: string;
  occurred_at: number;
  key: string;
  payload: Uint8Array;
  source: { table: string; primary_key: string };
  payload_type: string;
}

/**
 * `n` events cycling through `types` and `keys`; the payload is a `seedline.events.Source`
 * message (any small protobuf will do) whose primary_key is the event's sequence number.
 */
export async function makeEvents(n: number, types = ['chat.message-sent', 'members.member-registered'], keys = 5): Promise<TestEvent[]> {
  const Source = (await envelopeType()).lookupType('seedline.events.Source');
  const base = 1_600_000_000_123_456; // micros: 2020-09-13T12:26:40.123456Z
  return Array.from({ length: n }, (_, i) => ({
    id: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`,
    type: types[i % types.length]!,
    occurred_at: base + i * 1_000_001,
    key: `member-${i % keys}`,
    payload: Source.encode({ table: 'Seq', primary_key: String(i) }).finish(),
    source: { table: 'Messages', primary_key: String(1000 + i) },
    payload_type: 'seedline.events.Source',
  }));
}

/** Writes an events data set (one `events` stream) into a fresh temp dir; returns the dir. */
export async function writeEventsDataset(events: readonly TestEvent[], options: { maxPartBytes?: number } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'seedline-seed-'));
  const Event = await envelopeType();
  const writer = await DatasetWriter.create(join(dir, 'events'), {
    tool: 'seedline',
    version: VERSION,
    stage: 'test',
    startedAt: new Date().toISOString(),
  });
  const stream = writer.streamWriter('events', { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO, maxPartBytes: options.maxPartBytes });
  for (const e of events) await stream.write(Event.encode(e).finish());
  await stream.close();
  await writer.finish();
  return join(dir, 'events');
}

export async function removeDataset(eventsDir: string): Promise<void> {
  await rm(join(eventsDir, '..'), { recursive: true, force: true });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A consumer on its own connection, bound to an exchange through an exclusive queue. */
export class TestConsumer {
  readonly received: ConsumeMessage[] = [];
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly queue: string,
  ) {}

  static async bind(
    exchange: string,
    options: { pattern?: string; queueArguments?: Record<string, unknown>; consume?: boolean; url?: string } = {},
  ): Promise<TestConsumer> {
    const connection = await amqp.connect(options.url ?? DEFAULT_URL);
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, arguments: options.queueArguments });
    await channel.bindQueue(queue, exchange, options.pattern ?? '#');
    const consumer = new TestConsumer(connection, channel, queue);
    if (options.consume !== false) await consumer.startConsuming();
    return consumer;
  }

  /** Starts taking messages (for a consumer bound with `consume: false`). */
  async startConsuming(): Promise<void> {
    await this.channel.consume(this.queue, (msg) => msg && this.received.push(msg), { noAck: true });
  }

  /** Waits until `n` messages arrived, then a little longer so duplicates would show up. */
  async waitFor(n: number, timeoutMs = 15_000): Promise<ConsumeMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    return this.received;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/** Deletes an exchange on a connection of its own (tests call it in `finally`). */
export async function deleteExchange(exchange: string): Promise<void> {
  const connection = await amqp.connect(DEFAULT_URL);
  try {
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Declares an exchange of another type, to provoke a type mismatch. */
export async function declareOtherExchange(exchange: string, type: 'fanout' | 'direct'): Promise<void> {
  const connection = await amqp.connect(DEFAULT_URL);
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, type, { durable: false });
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Takes every message from `queue` until `expected` have arrived and no more come for a
 * moment (so duplicates show up too), or the timeout passes. Returns their message ids.
 */
export async function drainQueue(url: string, queue: string, expected: number, timeoutMs = 30_000): Promise<string[]> {
  const connection = await amqp.connect(url);
  const ids: string[] = [];
  try {
    const channel = await connection.createChannel();
    await channel.consume(queue, (msg) => msg && ids.push(msg.properties.messageId as string), { noAck: true });
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    // Distinct ids: with duplicates, the raw count reaches `expected` before the last events do.
    while (Date.now() < deadline && (new Set(ids).size < expected || ids.length !== seen)) {
      seen = ids.length;
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return ids;
}

/** How often each id occurs beyond the first. */
export function duplicatesOf(ids: readonly string[]): number {
  return ids.length - new Set(ids).size;
}

/** Runs the real CLI entry point in-process (`seedline <args>`); returns its exit code and what it printed. */
export async function runSeedline(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../cli/main.ts');
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await main(['node', 'seedline', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}
