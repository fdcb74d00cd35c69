import { randomBytes } from 'node:crypto';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { Progress, formatCount, formatDuration } from '../common/progress.ts';
import { envelopeType, type EventEnvelope } from '../common/protos.ts';
import { decodeStream, readManifest, streamOf } from '../recordfile/index.ts';
import { DEFAULT_EXCHANGE, DEFAULT_URL, connectBroker, declareExchange, redactUrl } from './broker.ts';
import { jsonBody, protobufBody, toMessage, type ContentType } from './message.ts';
import { Pacer } from './pacer.ts';
import { ConfirmPublisher } from './publisher.ts';
import { SeedFailure, type SeedResult } from './summary.ts';

export const EVENTS_STREAM = 'events';
export const DEFAULT_MAX_IN_FLIGHT = 1000;

export interface SeedOptions {
  /** The events data set (the directory `transform` wrote). */
  readonly events: string;
  readonly url?: string;
  readonly exchange?: string;
  /** Events per second; undefined = as fast as confirms allow. */
  readonly rate?: number;
  /** Unconfirmed messages allowed at once. */
  readonly maxInFlight?: number;
  /** Written into every message's `run-id` header; default: a timestamp plus random hex. */
  readonly runId?: string;
  readonly contentType?: ContentType;
  /** Fail (PUBLISH_FAILED) when any event was unroutable. */
  readonly failOnUnroutable?: boolean;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
}

/**
 * Publishes every event of a data set to a durable topic exchange, in stream order, with
 * publisher confirms and a bounded window of unconfirmed messages. Resolves with the counts
 * when every event is confirmed; otherwise throws a `SeedFailure` carrying the counts so
 * far: INTERRUPTED (the signal fired; outstanding confirms were awaited first),
 * PUBLISH_FAILED (nacks), BROKER_CONNECT / BROKER_REFUSED (connection lost, operation refused).
 */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const url = options.url ?? DEFAULT_URL;
  const exchange = options.exchange ?? DEFAULT_EXCHANGE;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const contentType = options.contentType ?? 'protobuf';
  const runId = options.runId ?? newRunId();
  checkOptions(options.rate, maxInFlight, exchange);

  const manifest = await readManifest(options.events);
  const stream = streamOf(manifest, EVENTS_STREAM, options.events);
  if (!stream.complete) {
    throw new SeedlineError('MANIFEST_INVALID', `${options.events}: the events stream is incomplete (the transform did not finish)`, {
      file: options.events,
      hint: 'run seedline transform again until it completes',
    });
  }
  const Event = await envelopeType();
  const body = contentType === 'json' ? await jsonBody() : protobufBody;
  const signal = options.signal;
  if (signal?.aborted) throw new SeedlineError('INTERRUPTED', 'interrupted before anything was published');

  const connection = await connectBroker(url, `seedline seed ${runId}`);
  const run = new Run(connection, { events: options.events, url: redactUrl(url), exchange, runId, contentType, total: stream.records });
  const progress = new Progress({ label: 'seed', mode: options.progress ?? 'auto' });
  try {
    const channel = await run.openChannel(maxInFlight);
    await declareExchange(channel, exchange);
    const publisher = run.publisher!;
    progress.set(() => run.progressLine());
    if (options.rate !== undefined) run.pacer = new Pacer({ rate: options.rate, start: performance.now() });
    connection.on('blocked', (reason: string) => progress.log(`seed: RabbitMQ blocked publishing (${reason}); pausing`));
    connection.on('unblocked', () => progress.log('seed: RabbitMQ unblocked publishing; resuming'));
    run.start = performance.now();

    let index = 0;
    outer: for await (const batch of decodeStream(options.events, EVENTS_STREAM, (b) => Event.decode(b) as unknown as EventEnvelope)) {
      for (const event of batch) {
        if (signal?.aborted) break outer;
        if (run.pacer) {
          let delay: number;
          while ((delay = run.pacer.delay(index, performance.now())) > 0) {
            await sleep(Math.min(delay, 250), signal);
            if (signal?.aborted) break outer;
          }
        }
        const wait = publisher.send(toMessage(event, runId, contentType, body));
        if (wait) await wait;
        index++;
      }
    }
    await publisher.settle();
    const result = run.result(signal?.aborted ?? false);
    throwIfIncomplete(result, publisher.failure, options.failOnUnroutable ?? false);
    return result;
  } catch (err) {
    if (err instanceof SeedFailure || !run.publisher || run.publisher.published === 0) throw err;
    // Something failed mid-run: let the confirms still on their way arrive, then say how far it got.
    await run.publisher.settle().catch(() => undefined);
    const result = run.result(signal?.aborted ?? false);
    const code = err instanceof SeedlineError ? err.code : 'PUBLISH_FAILED';
    throw new SeedFailure(code, `${messageOf(err)} (after ${formatCount(result.published)} published, ${formatCount(result.confirmed)} confirmed)`, result, err instanceof SeedlineError ? err.context : {}, { cause: err });
  } finally {
    progress.done();
    await run.close();
  }
}

/** The live state of one run: connection, channel, counters, pacing. */
class Run {
  publisher: ConfirmPublisher | null = null;
  pacer: Pacer | null = null;
  start = performance.now();
  private channel: ConfirmChannel | null = null;
  private closing = false;
  private blockedSince: number | null = null;
  private blockedMs = 0;

  constructor(
    private readonly connection: ChannelModel,
    private readonly info: Pick<SeedResult, 'events' | 'url' | 'exchange' | 'runId' | 'contentType' | 'total'>,
  ) {
    connection.on('error', (err: Error) => this.fail(new SeedlineError('BROKER_CONNECT', `the connection to RabbitMQ at ${info.url} failed: ${messageOf(err)}`, { hint: 'check that RabbitMQ is running and run seed again' })));
    connection.on('close', () => {
      if (!this.closing) this.fail(new SeedlineError('BROKER_CONNECT', `the connection to RabbitMQ at ${info.url} was closed`, { hint: 'check that RabbitMQ is running and run seed again' }));
    });
    // The broker's memory/disk alarm: stop the schedule so there is no catch-up burst after it.
    connection.on('blocked', () => {
      this.blockedSince ??= performance.now();
      this.pacer?.pause(performance.now());
    });
    connection.on('unblocked', () => {
      if (this.blockedSince !== null) this.blockedMs += performance.now() - this.blockedSince;
      this.blockedSince = null;
      this.pacer?.resume(performance.now());
    });
  }

  async openChannel(maxInFlight: number): Promise<ConfirmChannel> {
    const channel = await this.connection.createConfirmChannel();
    this.channel = channel;
    this.publisher = new ConfirmPublisher(channel, this.info.exchange, maxInFlight);
    // A channel error (e.g. the exchange was deleted under us) closes the channel; declare
    // failures are reported by declareExchange itself, so only record the first reason.
    channel.on('error', (err: Error) => this.fail(new SeedlineError('BROKER_REFUSED', `RabbitMQ closed the publishing channel: ${messageOf(err)}`, { option: '--exchange' })));
    channel.on('close', () => {
      if (!this.closing) this.fail(new SeedlineError('BROKER_CONNECT', 'the publishing channel was closed by RabbitMQ'));
    });
    return channel;
  }

  progressLine(): string {
    const p = this.publisher;
    if (!p) return '';
    const seconds = (performance.now() - this.start) / 1000;
    const rate = seconds > 0 ? p.confirmed / seconds : 0;
    const remaining = this.info.total - p.confirmed;
    const eta = rate > 0 ? formatDuration(remaining / rate) : '?';
    const pct = this.info.total > 0 ? ` (${((100 * p.published) / this.info.total).toFixed(1)}%)` : '';
    const target = this.pacer ? ` of ${formatCount(this.pacer.rate)}/s` : '';
    return `published ${formatCount(p.published)}/${formatCount(this.info.total)}${pct} · confirmed ${formatCount(p.confirmed)} · in flight ${formatCount(p.inFlight)} · ${formatCount(rate)}/s${target} · ETA ${eta}`;
  }

  result(interrupted: boolean): SeedResult {
    const p = this.publisher!;
    const elapsedMs = performance.now() - this.start;
    const blockedMs = this.blockedMs + (this.blockedSince === null ? 0 : performance.now() - this.blockedSince);
    return {
      ...this.info,
      published: p.published,
      confirmed: p.confirmed,
      nacked: p.nacked,
      unconfirmed: p.lost,
      returned: Object.fromEntries(p.returned),
      returnedTotal: p.returnedTotal,
      elapsedMs,
      achievedRate: elapsedMs > 0 ? (p.confirmed * 1000) / elapsedMs : 0,
      targetRate: this.pacer?.rate,
      blockedMs,
      stalls: this.pacer?.stalls ?? 0,
      interrupted,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.channel?.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }

  private fail(error: SeedlineError): void {
    this.publisher?.fail(error);
  }
}

function throwIfIncomplete(result: SeedResult, failure: SeedlineError | null, failOnUnroutable: boolean): void {
  const counts = `${formatCount(result.published)} of ${formatCount(result.total)} published, ${formatCount(result.confirmed)} confirmed`;
  if (failure) throw new SeedFailure(failure.code, `${failure.message} (${counts})`, result, failure.context, { cause: failure });
  if (result.nacked > 0 || result.unconfirmed > 0) {
    throw new SeedFailure('PUBLISH_FAILED', `RabbitMQ rejected ${formatCount(result.nacked)} events (nack) and left ${formatCount(result.unconfirmed)} unconfirmed (${counts})`, result, {
      hint: 'a nack means the broker could not take the message: check queue length limits (x-overflow reject-publish) and the broker log, then seed again; consumers de-duplicate by message id',
    });
  }
  if (result.interrupted) {
    throw new SeedFailure('INTERRUPTED', `interrupted: ${counts}; every published event was confirmed`, result, {
      hint: 'run seed again to publish everything; consumers de-duplicate by message id',
    });
  }
  if (failOnUnroutable && result.returnedTotal > 0) {
    throw new SeedFailure('PUBLISH_FAILED', `${formatCount(result.returnedTotal)} events were unroutable (no queue bound for their type) and were dropped by the broker`, result, {
      option: '--fail-on-unroutable',
      hint: 'bind a queue for every event type to the exchange before seeding',
    });
  }
}

function checkOptions(rate: number | undefined, maxInFlight: number, exchange: string): void {
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) {
    throw new SeedlineError('USAGE', `--rate must be a positive number of events per second, got ${rate}`, { option: '--rate' });
  }
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new SeedlineError('USAGE', `--max-in-flight must be a whole number ≥ 1, got ${maxInFlight}`, { option: '--max-in-flight' });
  }
  if (exchange === '' || exchange.startsWith('amq.')) {
    throw new SeedlineError('USAGE', `--exchange must name an exchange of its own (not '' or amq.*), got '${exchange}'`, { option: '--exchange' });
  }
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `seed-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Resolves after `ms`, or at once when the signal fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
