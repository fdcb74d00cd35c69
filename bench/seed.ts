/**
 * Seed: seedline's `seed()` at unlimited rate against a bare amqplib confirm-window publish
 * loop (same message sizes and properties, same window, same exchange and queues), in the
 * same run against the local RabbitMQ, once with 1 bound queue and once with 12. The ratio
 * is what seedline's reading, checkpointing, sequence tracking and measurement cost when
 * the broker is the limit. The queues are purged after every run, outside the timing.
 *
 * Sizes: 200,000 events with 1 queue; 30,000 with 12. With 12 durable queues this VM's broker
 * took ~300–950 persistent events/s on 2026-11-23 (each is written to 12 queue indexes), so
 * 200,000 × 8 runs took over an hour and was stopped; 30,000 × 8 runs finished in ~4 minutes on
 * 2026-12-01 (~1,000–1,600 events/s, 19–29 s per timed run: long past connection set-up).
 *
 * Peak RSS is measured twice: in this process (tsx, the benchmark's own tables and the
 * baseline's heap included), and for the real CLI, `node bin/seedline.js seed`, run once per
 * topology in a child process of its own (its `process.resourceUsage().maxRSS`). The 200 MB
 * limit of the issue applies to the CLI.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import type { Options } from 'amqplib';
import { ENVELOPE_PROTO, ENVELOPE_TYPE, SCHEMAS_DIR, envelopeType, loadProtos } from '../common/protos.ts';
import { VERSION } from '../common/version.ts';
import { DatasetWriter } from '../recordfile/index.ts';
import { DEFAULT_URL } from '../seeder/broker/broker.ts';
import { DEFAULT_MAX_IN_FLIGHT, seed } from '../seeder/seed.ts';
import { chatMessages, type ChatMessageRow } from './chat-messages.ts';
import { RssSampler, formatMB, formatRate, medianOf, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';

export const URL = process.env.SEEDLINE_BENCH_AMQP ?? DEFAULT_URL;
const WINDOW = DEFAULT_MAX_IN_FLIGHT;
const RATIO_TARGET = 0.9;
const RSS_LIMIT = 200 * 1024 * 1024;
const CHAT_PROTO = join(SCHEMAS_DIR, 'events', 'chat.proto');
/** Events per topology at full size (see the top of this file for why 12 queues get fewer). */
const ALL_SIZES = [
  { queues: 1, full: 200_000 },
  { queues: 12, full: 30_000 },
] as const;
/** `SEEDLINE_BENCH_SEED_QUEUES=1` (or 12) runs only that topology, e.g. for a quick before/after of the 1-queue ratio. */
const ONLY_QUEUES = process.env.SEEDLINE_BENCH_SEED_QUEUES;
const SIZES = ONLY_QUEUES ? ALL_SIZES.filter((s) => String(s.queues) === ONLY_QUEUES) : ALL_SIZES;

export const seedBench: Benchmark = {
  name: 'seed',
  description: 'seed() at unlimited rate vs a bare amqplib confirm-window loop, 1 and 12 bound queues',
  async run(ctx: BenchContext): Promise<BenchResult> {
    if (SIZES.length === 0) throw new Error(`SEEDLINE_BENCH_SEED_QUEUES=${ONLY_QUEUES}: the topologies are ${ALL_SIZES.map((s) => s.queues).join(' and ')} queues`);
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-seed-'));
    const lines: string[] = [];
    const problems: string[] = [];
    try {
      for (const { queues, full } of SIZES) {
        const count = ctx.quick ? full / 10 : full;
        const events = join(dir, `events-${count}`);
        ctx.log(`writing ${count.toLocaleString('en-US')} chat events to ${events} ...`);
        await inChild(events, count);
        const shapes = await messageShapes(count);
        lines.push(`  data set   ${count.toLocaleString('en-US')} chat.message-sent events for ${queues} queue${queues > 1 ? 's' : ''}, payload ${shapes.meanBytes.toFixed(0)} bytes on average; window ${WINDOW}`);
        const topology = await Topology.declare(queues);
        try {
          ctx.log(`${queues} queue(s):`);
          const variants = [
            { name: 'seedline', run: () => seed({ events, url: URL, exchange: topology.exchange, maxInFlight: WINDOW, progress: 'off' }).then((r) => r.confirmed) },
            { name: 'baseline', run: () => bareLoop(topology.exchange, shapes, count) },
          ];
          const stats = await rounds(variants, ctx, count, () => topology.purge());
          const [ours, bare] = stats;
          const paired = medianOf(ours!.rates.map((r, i) => r / bare!.rates[i]!));
          const cpu = medianOf(bare!.cpu) / medianOf(ours!.cpu);
          for (const s of stats) {
            lines.push(`  ${String(queues).padStart(2)} queue${queues > 1 ? 's' : ' '} ${s.name.padEnd(9)} best ${formatRate(Math.max(...s.rates))} ev/s  median ${formatRate(medianOf(s.rates))} ev/s  CPU ${((medianOf(s.cpu) / count) * 1e6).toFixed(1)} µs/ev  peak RSS ${formatMB(s.peakRss)}`);
          }
          lines.push(`  ${String(queues).padStart(2)} queue${queues > 1 ? 's' : ' '} ratio     seedline/baseline per round (median) ${paired.toFixed(3)}   by CPU time ${cpu.toFixed(3)}`);
          if (!ctx.quick && paired < RATIO_TARGET) problems.push(`${queues} queue(s): seedline publishes at ${(paired * 100).toFixed(0)}% of the bare loop, under ${RATIO_TARGET * 100}%`);
          ctx.log(`  the CLI on its own (child process) ...`);
          const cli = await cliPeakRss(events, topology.exchange, count);
          await topology.purge();
          lines.push(`  ${String(queues).padStart(2)} queue${queues > 1 ? 's' : ' '} CLI       node bin/seedline.js seed: peak RSS ${formatMB(cli.maxRss)} (${formatRate(cli.rate).trim()} ev/s); the bench process above: ${formatMB(ours!.peakRss)}`);
          if (cli.maxRss > RSS_LIMIT) problems.push(`${queues} queue(s): the seed CLI's peak RSS ${formatMB(cli.maxRss)} is over ${formatMB(RSS_LIMIT)}`);
        } finally {
          await topology.remove();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return { lines, problems };
  },
};

interface Stats {
  readonly name: string;
  readonly rates: number[];
  readonly cpu: number[];
  peakRss: number;
}

/** Like measure.ts's `alternate`, but with `between()` (purging the queues) outside the timing. */
export async function rounds(variants: readonly { name: string; run: () => Promise<number> }[], ctx: BenchContext, expect: number, between: () => Promise<void>): Promise<Stats[]> {
  const stats: Stats[] = variants.map((v) => ({ name: v.name, rates: [], cpu: [], peakRss: 0 }));
  for (const v of variants) {
    await v.run();
    await between();
  }
  for (let round = 0; round < ctx.rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const sampler = new RssSampler();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const units = await variants[i]!.run().finally(() => sampler.stop());
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      await between();
      if (units !== expect) throw new Error(`${variants[i]!.name} confirmed ${units} events, expected ${expect}`);
      stats[i]!.rates.push(units / seconds);
      stats[i]!.cpu.push((cpu.user + cpu.system) / 1e6);
      stats[i]!.peakRss = Math.max(stats[i]!.peakRss, sampler.peak);
      ctx.log(`  round ${round + 1}/${ctx.rounds}  ${variants[i]!.name.padEnd(9)} ${formatRate(units / seconds)}/s  (${seconds.toFixed(2)} s)`);
    }
  }
  return stats;
}

/** A private exchange with `n` durable queues bound to everything. */
export class Topology {
  private constructor(
    readonly exchange: string,
    readonly queues: string[],
  ) {}

  static async declare(n: number): Promise<Topology> {
    const exchange = `seedline-bench-${randomBytes(4).toString('hex')}`;
    const topology = new Topology(exchange, Array.from({ length: n }, (_, i) => `${exchange}-q${i}`));
    await topology.withChannel(async (ch) => {
      await ch.assertExchange(exchange, 'topic', { durable: true });
      for (const q of topology.queues) {
        await ch.assertQueue(q, { durable: true });
        await ch.bindQueue(q, exchange, '#');
      }
    });
    return topology;
  }

  purge(): Promise<void> {
    return this.withChannel(async (ch) => {
      for (const q of this.queues) await ch.purgeQueue(q);
    });
  }

  remove(): Promise<void> {
    return this.withChannel(async (ch) => {
      for (const q of this.queues) await ch.deleteQueue(q);
      await ch.deleteExchange(this.exchange);
    });
  }

  private async withChannel(body: (ch: amqp.Channel) => Promise<void>): Promise<void> {
    const connection = await amqp.connect(URL);
    try {
      await body(await connection.createChannel());
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}

/** Runs the real CLI once on `events` (no checkpoint kept) and returns its own peak RSS. */
async function cliPeakRss(events: string, exchange: string, count: number): Promise<{ maxRss: number; rate: number }> {
  const args = ['seed', '--events', events, '--amqp-url', URL, '--exchange', exchange, '--no-checkpoint', '--progress', 'off'];
  const cli = await runCli(args, join(events, '..', `usage-${exchange}.json`));
  return { maxRss: cli.maxRss, rate: count / cli.seconds };
}

/** Per event: payload size and sender, to publish messages of the very same sizes without reading the data set. */
async function messageShapes(count: number): Promise<{ sizes: Int32Array; senders: Int32Array; meanBytes: number; pool: Buffer }> {
  const MessageSent = (await loadProtos([CHAT_PROTO])).lookupType('seedline.events.chat.MessageSent');
  const sizes = new Int32Array(count);
  const senders = new Int32Array(count);
  let i = 0;
  let total = 0;
  for (const row of chatMessages(count)) {
    const size = MessageSent.encode(messageSent(row)).finish().length;
    sizes[i] = size;
    senders[i++] = row.SenderId;
    total += size;
  }
  return { sizes, senders, meanBytes: total / count, pool: randomBytes(8192) };
}

/**
 * The bare loop: one confirm channel, a window of WINDOW unconfirmed messages, 'drain' when
 * the socket buffer is full, the same properties and headers seedline sends. Nothing else.
 */
async function bareLoop(exchange: string, shapes: Awaited<ReturnType<typeof messageShapes>>, count: number): Promise<number> {
  const connection = await amqp.connect(URL);
  try {
    const channel = await connection.createConfirmChannel();
    let inFlight = 0;
    let confirmed = 0;
    let wake: (() => void) | null = null;
    const onConfirm = (err: unknown) => {
      inFlight--;
      if (err == null) confirmed++;
      const w = wake;
      wake = null;
      w?.();
    };
    const base = 1_230_768_000_000_000;
    for (let i = 0; i < count; i++) {
      while (inFlight >= WINDOW) await new Promise<void>((r) => (wake = r));
      const micros = String(base + i * 1_000_000);
      const options: Options.Publish = {
        persistent: true,
        mandatory: true,
        messageId: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`,
        type: 'chat.message-sent',
        timestamp: Math.floor(Number(micros) / 1e6),
        contentType: 'application/x-protobuf',
        appId: 'seedline',
        headers: {
          key: String(shapes.senders[i]),
          'source-table': 'Messages',
          'source-key': String(i + 1),
          'occurred-at': micros,
          'payload-type': 'seedline.events.chat.MessageSent',
          'run-id': 'seed-20261123T000000Z-abcdef',
        },
      };
      inFlight++;
      const ok = channel.publish(exchange, 'chat.message-sent', shapes.pool.subarray(0, shapes.sizes[i]!), options, onConfirm);
      if (!ok) await new Promise<void>((r) => channel.once('drain', r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    return confirmed;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Writes the events data set: chat.message-sent events of the generated chat messages. */
async function writeEvents(dir: string, count: number): Promise<void> {
  const Event = await envelopeType();
  const MessageSent = (await loadProtos([CHAT_PROTO])).lookupType('seedline.events.chat.MessageSent');
  const writer = await DatasetWriter.create(dir, { tool: 'seedline', version: VERSION, stage: 'test', startedAt: new Date().toISOString() });
  const stream = writer.streamWriter('events', { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO });
  for (const row of chatMessages(count)) {
    const payload = MessageSent.encode(messageSent(row)).finish();
    const event = {
      id: `00000000-0000-5000-8000-${String(row.MessageId - 1).padStart(12, '0')}`,
      type: 'chat.message-sent',
      occurred_at: row.SentAt,
      key: String(row.SenderId),
      payload,
      source: { table: 'Messages', primary_key: String(row.MessageId) },
      payload_type: 'seedline.events.chat.MessageSent',
    };
    await stream.write(Event.encode(event).finish());
  }
  await stream.close();
  await writer.finish();
}

function messageSent(row: ChatMessageRow): Record<string, unknown> {
  return {
    message_id: row.MessageId,
    sender_id: row.SenderId,
    recipient_id: row.RecipientId,
    body: row.Body ?? '',
    sent_at: row.SentAt,
    deleted_by_sender: row.IsDeletedBySender,
    deleted_by_recipient: row.IsDeletedByRecipient,
  };
}

/** Writing runs in a child process, so its memory and JIT state stay out of the measurement. */
export function inChild(dir: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [dir, String(count)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writing the events failed (exit code ${code})`))));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, count] = process.argv.slice(2);
  await writeEvents(dir!, Number(count));
}
