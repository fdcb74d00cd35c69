import type { ConsumeMessage } from 'amqplib';
import { writeFile, rename } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { Progress, formatCount, formatDuration } from '../../common/progress.ts';
import { envelopeType, type EventEnvelope } from '../../common/protos.ts';
import { decodeEvents } from '../../recordfile/index.ts';
import { DEFAULT_EXCHANGE, DEFAULT_URL, connectFirst, operationError, parseUrls } from '../broker/broker.ts';
import { Histogram, formatMicros, type HistogramJson } from '../report/histogram.ts';
import { Selector, type Selection } from '../pacing/select.ts';

export interface TapOptions {
  /** The events data set whose every event is expected. */
  readonly events: string;
  readonly url?: string;
  readonly exchange?: string;
  /** Binding pattern; default `#` (everything). */
  readonly pattern?: string;
  /**
   * Read this existing queue (e.g. a module's) instead of binding a queue of tap's own: what is
   * waiting there is counted and left there (never acked: the broker requeues it when tap closes).
   */
  readonly queue?: string;
  /** Count only messages whose `run-id` header is this (others are ignored). */
  readonly runId?: string;
  /** The part of the data set that is expected (the seed's selection). */
  readonly selection?: Selection;
  /** Give up after this long without a new message (ms, default 30 s). */
  readonly idleMs?: number;
  /** After the last expected event, keep listening this long for duplicates (ms, default 500). */
  readonly graceMs?: number;
  /** Called once the queue is bound: start the seed after this. */
  readonly onReady?: () => void;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
}

export interface TapVerdict {
  readonly expected: number;
  /** Expected events that arrived (each counted once). */
  readonly arrived: number;
  readonly missing: number;
  /** Up to 10 ids of missing events. */
  readonly missingIds: readonly string[];
  /** Deliveries of an event that had arrived already. */
  readonly duplicates: number;
  /** Messages whose id is not in the expected set (another data set, outside the selection). */
  readonly unexpected: number;
  /** Events that arrived before an event that precedes them for the same key. */
  readonly outOfOrder: number;
  /** End-to-end latency from the intended send time (`sent-at` header), when seed added it. */
  readonly latency: HistogramJson | null;
  readonly elapsedMs: number;
  readonly ok: boolean;
  /** Per event type: expected, arrived (once each) and duplicate deliveries (the ledger reads these). */
  readonly byType: Readonly<Record<string, TypeTally>>;
}

export interface TypeTally {
  expected: number;
  arrived: number;
  duplicates: number;
}

/**
 * A verification consumer: its own connection and exclusive queue bound to the exchange.
 * Checks that every expected event id arrives, counts duplicates, checks per-key order
 * (against the order of the data set) and measures end-to-end latency. Keeps one map entry
 * per expected event (~100 bytes each): for very large data sets verify a `--sample`.
 */
export async function tap(options: TapOptions): Promise<TapVerdict> {
  const expected = await expectedEvents(options.events, options.selection ?? {});
  const seen = new Uint8Array(expected.ids.size);
  const lastIndexByKey = new Map<string, number>();
  const latency = new Histogram();
  let arrived = 0;
  let duplicates = 0;
  let unexpected = 0;
  let outOfOrder = 0;
  let lastMessageAt = performance.now();
  const started = performance.now();

  const onMessage = (msg: ConsumeMessage) => {
    const headers = msg.properties.headers ?? {};
    if (options.runId !== undefined && String(headers['run-id']) !== options.runId) return;
    lastMessageAt = performance.now();
    const index = expected.ids.get(String(msg.properties.messageId));
    if (index === undefined) return void unexpected++;
    const tally = expected.tallies[index]!;
    if (seen[index]) {
      tally.duplicates++;
      return void duplicates++;
    }
    seen[index] = 1;
    arrived++;
    tally.arrived++;
    const key = String(headers.key ?? expected.keys[index]);
    if ((lastIndexByKey.get(key) ?? -1) > index) outOfOrder++;
    else lastIndexByKey.set(key, index);
    const sentAt = Number(headers['sent-at']);
    if (Number.isFinite(sentAt) && sentAt > 0) latency.record((Date.now() - sentAt) * 1000);
  };

  const exchange = options.exchange ?? DEFAULT_EXCHANGE;
  const { connection } = await connectFirst(parseUrls(options.url ?? DEFAULT_URL), 'seedline tap');
  const progress = new Progress({ label: 'tap', mode: options.progress ?? 'auto' });
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.assertExchange(exchange, 'topic', { durable: true });
    } catch (err) {
      throw operationError(err, `declare the durable topic exchange '${exchange}'`, exchange);
    }
    if (options.queue !== undefined) {
      // Unacked deliveries go back to the queue when the connection closes: tap only looks.
      try {
        await channel.checkQueue(options.queue);
      } catch (err) {
        throw operationError(err, `read the queue '${options.queue}'`, exchange);
      }
      await channel.consume(options.queue, (msg) => msg && onMessage(msg), { noAck: false });
    } else {
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, exchange, options.pattern ?? '#');
      await channel.consume(queue, (msg) => msg && onMessage(msg), { noAck: true });
    }
    progress.set(() => `arrived ${formatCount(arrived)}/${formatCount(expected.ids.size)} · duplicates ${formatCount(duplicates)} · out of order ${formatCount(outOfOrder)}`);
    lastMessageAt = performance.now(); // idle time counts from being ready, not from loading the data set
    options.onReady?.();
    const idleMs = options.idleMs ?? 30_000;
    let completeSince: number | null = null;
    while (!options.signal?.aborted) {
      await new Promise((r) => setTimeout(r, 50));
      const now = performance.now();
      if (arrived === expected.ids.size) {
        completeSince ??= now;
        if (now - completeSince >= (options.graceMs ?? 500)) break;
      }
      if (now - lastMessageAt >= idleMs) break;
    }
  } finally {
    progress.done();
    await connection.close().catch(() => undefined);
  }
  const missingIds: string[] = [];
  if (arrived < expected.ids.size) {
    for (const [id, index] of expected.ids) {
      if (!seen[index]) missingIds.push(id);
      if (missingIds.length >= 10) break;
    }
  }
  const missing = expected.ids.size - arrived;
  return {
    expected: expected.ids.size,
    arrived,
    missing,
    missingIds,
    duplicates,
    unexpected,
    outOfOrder,
    latency: latency.count > 0 ? latency.toJSON() : null,
    elapsedMs: performance.now() - started,
    ok: missing === 0 && outOfOrder === 0,
    byType: Object.fromEntries([...expected.byType].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

async function expectedEvents(dir: string, selection: Selection): Promise<{ ids: Map<string, number>; keys: string[]; tallies: TypeTally[]; byType: Map<string, TypeTally> }> {
  const Event = await envelopeType();
  const selector = new Selector(selection);
  const ids = new Map<string, number>();
  const keys: string[] = [];
  const tallies: TypeTally[] = [];
  const byType = new Map<string, TypeTally>();
  for await (const batch of selector.filter(decodeEvents(dir, (b) => Event.decode(b) as unknown as EventEnvelope))) {
    for (const e of batch) {
      ids.set(e.id, keys.length);
      keys.push(e.key);
      let tally = byType.get(e.type);
      if (!tally) byType.set(e.type, (tally = { expected: 0, arrived: 0, duplicates: 0 }));
      tally.expected++;
      tallies.push(tally);
    }
  }
  return { ids, keys, tallies, byType };
}

export function formatVerdict(v: TapVerdict): string {
  const lines = [`tap ${v.ok ? 'OK' : 'FAILED'}: ${formatCount(v.arrived)} of ${formatCount(v.expected)} expected events arrived in ${formatDuration(v.elapsedMs / 1000)}`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(13)}${value}`);
  row('missing', v.missing === 0 ? '0' : `${formatCount(v.missing)} (e.g. ${v.missingIds.slice(0, 3).join(', ')})`);
  row('duplicates', formatCount(v.duplicates));
  row('unexpected', formatCount(v.unexpected));
  row('out of order', `${formatCount(v.outOfOrder)} (per key, against the data set's order)`);
  row('latency', v.latency ? `p50 ${formatMicros(v.latency.p50)} p99 ${formatMicros(v.latency.p99)} max ${formatMicros(v.latency.max)} (end to end, from the intended send time)` : 'not measured (seed with --sent-at-header)');
  return lines.join('\n');
}

/** The verdict as an error, for a non-zero exit. */
export function verdictError(v: TapVerdict): SeedlineError {
  return new SeedlineError('VERIFY_FAILED', `tap: ${formatCount(v.missing)} expected events missing, ${formatCount(v.outOfOrder)} out of order per key`, {
    hint: v.missing > 0 ? 'run seed again (or --resume); consumers de-duplicate by message id' : 'per-key order broke: check for several publishers of the same keys',
  });
}

export const TAP_VERDICT_FORMAT = 'seedline-tap-verdict/1';

/** `tap --json <file>`: the verdict with a format tag, written under a temporary name and renamed. */
export async function writeVerdictJson(file: string, verdict: TapVerdict): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, `${JSON.stringify({ format: TAP_VERDICT_FORMAT, ...verdict }, null, 1)}\n`);
    await rename(tmp, file);
  } catch (err) {
    throw new SeedlineError('USAGE', `cannot write the tap verdict ${file}: ${messageOf(err)}`, { file, option: '--json', hint: 'check that the directory exists and is writable' });
  }
}
