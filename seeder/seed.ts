import { randomBytes } from 'node:crypto';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { Progress, formatCount } from '../common/progress.ts';
import { acquireLock, checkEventsComplete, combinedEntry, eventStreams, readManifest, type EventStream, type StreamEntry } from '../recordfile/index.ts';
import { DEFAULT_EXCHANGE, DEFAULT_URL, redactUrl } from './broker/broker.ts';
import { CheckpointWriter, checkResumable, checkpointKey, defaultCheckpointPath, readCheckpoint, type CheckpointKey } from './checkpoint.ts';
import { decodeEnvelope } from './broker/envelope.ts';
import { readEventsFrom } from './input/event-reader.ts';
import { BrokerLink, DEFAULT_RECONNECT, sleep, type ReconnectPolicy } from './broker/link.ts';
import { renderMetrics } from './report/metrics.ts';
import { DEFAULT_METRICS_HOST, serveMetrics, type MetricsEndpoint } from './report/metrics-server.ts';
import { ReusableMessage, jsonBody, protobufBody, type ContentType } from './broker/message.ts';
import { Pace } from './pacing/pace.ts';
import type { Pacer } from './pacing/pacer.ts';
import { ConfirmPublisher, DEFAULT_NACK_RETRY, type RetryPolicy } from './broker/publisher.ts';
import { RunState } from './run-state.ts';
import { SeedFailure, type SeedResult } from './summary.ts';
import type { QueueWatch } from './backlog/watch.ts';

export const DEFAULT_MAX_IN_FLIGHT = 1000;

export interface SeedOptions {
  /** The events data set (the directory `transform` wrote). */
  readonly events: string;
  readonly url?: string;
  readonly exchange?: string;
  /** Events per second; undefined = as fast as confirms allow. */
  readonly rate?: number;
  /** Unconfirmed messages allowed at once (with a checkpoint: also not yet checkpointed). */
  readonly maxInFlight?: number;
  /** Written into every message's `run-id` header; default: a timestamp plus random hex. */
  readonly runId?: string;
  readonly contentType?: ContentType;
  /** Fail (PUBLISH_FAILED) when any event was unroutable. */
  readonly failOnUnroutable?: boolean;
  /** The checkpoint file; default `<events>/.seed-checkpoint-<exchange>.json`; false: keep none. */
  readonly checkpoint?: string | false;
  /** Continue the run recorded in the checkpoint, from its first unconfirmed event. */
  readonly resume?: boolean;
  /** How nacked events are retried. */
  readonly nackRetry?: RetryPolicy;
  /** At most one unconfirmed event per key from the first nack on ('adaptive', default), or from the start ('strict'). */
  readonly keyOrder?: 'adaptive' | 'strict';
  /** How a lost connection is re-established. */
  readonly reconnect?: ReconnectPolicy;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** Pacing (--speed, --stages, live control), selection and measurement (seeder/pacing/pace.ts); default: `rate` only. */
  readonly pace?: Pace;
  /** Serve Prometheus metrics at http://host:port/metrics while the run lasts (port 0: any free one). */
  readonly metrics?: { readonly port: number; readonly host?: string; readonly onListening?: (url: string) => void };
  /** The backlog watch (seeder/backlog/watch.ts): its worst queue joins the progress line, its gauges the metrics. */
  readonly watch?: QueueWatch;
}

/**
 * Publishes every event of a data set to a durable topic exchange, in stream order, with
 * publisher confirms and a bounded window of unconfirmed messages. A lost connection is
 * re-established and publishing continues from the lowest unconfirmed event; nacks are
 * retried; a checkpoint file records how far the confirms got, for `resume`.
 *
 * Resolves with the counts when every event is confirmed; otherwise throws a `SeedFailure`
 * carrying the counts so far: INTERRUPTED (the signal fired; outstanding confirms were
 * awaited first), PUBLISH_FAILED (nacks beyond the retries), BROKER_CONNECT (could not
 * reconnect), BROKER_REFUSED (an operation refused), CHECKPOINT_INVALID.
 */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const url = options.url ?? DEFAULT_URL;
  const exchange = options.exchange ?? DEFAULT_EXCHANGE;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const contentType = options.contentType ?? 'protobuf';
  checkOptions(options.rate, maxInFlight, exchange);

  const { streams, stream } = await eventsStreams(options.events);
  const partition = options.pace?.selector.selection.partition;
  const checkpointFile = options.checkpoint === false ? null : (options.checkpoint ?? defaultCheckpointPath(options.events, exchange, partition));
  const { runId, start } = await startingPoint(options, stream, exchange, url, checkpointFile);
  const body = contentType === 'json' ? await jsonBody() : protobufBody;
  const signal = options.signal;
  if (signal?.aborted) throw new SeedlineError('INTERRUPTED', 'interrupted before anything was published');
  // One run per checkpoint at a time: two would overwrite each other's progress.
  const lock = checkpointFile ? await acquireLock(`${checkpointFile}.lock`, 'seed', checkpointFile) : null;

  const progress = new Progress({ label: 'seed', mode: options.progress ?? 'auto' });
  const publisher = new ConfirmPublisher(exchange, maxInFlight, () => new ReusableMessage(runId, contentType), options.nackRetry ?? DEFAULT_NACK_RETRY, start, options.keyOrder);
  const pace = (options.pace ?? new Pace({ rate: options.rate })).observe(publisher);
  const info = { events: options.events, url: redactUrl(url), exchange, runId, contentType, total: stream.records, startPosition: start, checkpoint: checkpointFile };
  const run = new RunState(info, publisher, (line) => progress.log(line));
  // With a list of nodes, partition i starts on node i: N seeders spread over the cluster.
  const link = new BrokerLink(url, `seedline seed ${runId}`, exchange, publisher, run, options.reconnect ?? DEFAULT_RECONNECT, signal, partition?.index ?? 0);
  run.link = link;
  publisher.onKeyOrder = () => progress.log('seed: the broker nacked an event; from now on at most one unconfirmed event per key, so nacks cannot reorder a key (--key-order)');
  let checkpoint: CheckpointWriter | null = null;
  let metrics: MetricsEndpoint | null = null;
  // Ctrl-C: stop sending (a send waiting for room gives up), then still await the confirms.
  const stop = () => publisher.interrupt();
  signal?.addEventListener('abort', stop, { once: true });
  if (lock?.note) progress.log(lock.note);
  try {
    if (options.metrics) {
      metrics = await serveMetrics(options.metrics.port, options.metrics.host ?? DEFAULT_METRICS_HOST, () => renderMetrics({ publisher, pace, run, watch: options.watch }));
      (options.metrics.onListening ?? ((url) => progress.log(`metrics at ${url}`)))(metrics.url);
    }
    await link.open();
    if (checkpointFile) {
      const key: CheckpointKey = checkpointKey(options.events, stream, exchange, redactUrl(url), runId);
      checkpoint = new CheckpointWriter(checkpointFile, key, publisher, Math.max(1, Math.ceil(maxInFlight / 4)));
      await checkpoint.flush();
    }
    progress.set(() => [run.progressLine(), pace.line(), options.watch?.line()].filter(Boolean).join(' · '));
    pace.begin();
    run.pace = pace;
    run.start = performance.now();

    let interrupted = false;
    for await (const batch of pace.limit(readEventsFrom(options.events, streams, start, decodeEnvelope))) {
      if (signal?.aborted) break;
      // Where this batch's handling ends: its end, or the first event past --limit, which was
      // not sent and must not be skipped by the checkpoint (a --resume sends it).
      let handledTo = batch.first + batch.events.length;
      for (let i = 0; i < batch.events.length; i++) {
        const position = batch.first + i;
        const event = batch.events[i]!;
        if (pace.selector.full) {
          handledTo = position;
          break;
        }
        if (!pace.selector.accepts(event)) continue;
        if (pace.delay(event, performance.now()) > 0 && !(await pace.waitUntilDue(event, signal))) break;
        if (signal?.aborted) break;
        // The intended send time was taken in delay(), before any wait for room in the window.
        const room = publisher.ready(event.key);
        if (room && !(await room)) {
          interrupted = true;
          break;
        }
        const message = publisher.nextMessage().fill(event, body);
        publisher.publishNext(position, pace.sent(message), event.key);
      }
      if (interrupted || signal?.aborted) break;
      publisher.skipTo(handledTo);
    }
    await publisher.settle();
    await checkpoint?.finish();
    const result = run.result(signal?.aborted ?? false);
    throwIfIncomplete(result, publisher.failure, options.failOnUnroutable ?? false);
    return result;
  } catch (err) {
    if (err instanceof SeedFailure || publisher.published === 0) throw err;
    // Something failed mid-run: let the confirms still on their way arrive, then say how far it got.
    await publisher.settle().catch(() => undefined);
    await checkpoint?.finish().catch(() => undefined);
    const result = run.result(signal?.aborted ?? false);
    const code = err instanceof SeedlineError ? err.code : 'PUBLISH_FAILED';
    throw new SeedFailure(code, `${messageOf(err)} (after ${formatCount(result.published)} published, ${formatCount(result.confirmed)} confirmed)`, result, err instanceof SeedlineError ? err.context : {}, { cause: err });
  } finally {
    signal?.removeEventListener('abort', stop);
    publisher.dispose();
    pace.finish();
    progress.done();
    await Promise.all([link.close(), metrics?.close(), lock?.release()]);
  }
}

/** The data set's streams, and all of them as one entry (its total and fingerprint: checkpoint.ts). */
async function eventsStreams(events: string): Promise<{ streams: EventStream[]; stream: StreamEntry }> {
  const streams = eventStreams(await readManifest(events), events);
  checkEventsComplete(streams, events);
  return { streams, stream: combinedEntry(streams) };
}

/** The run id and first event: a fresh run, or where the checkpoint says (`resume`). */
async function startingPoint(options: SeedOptions, stream: StreamEntry, exchange: string, url: string, file: string | null): Promise<{ runId: string; start: number }> {
  if (!options.resume) return { runId: options.runId ?? newRunId(), start: 0 };
  if (!file) throw new SeedlineError('USAGE', '--resume needs a checkpoint file; it cannot be combined with --no-checkpoint', { option: '--resume' });
  const checkpoint = await readCheckpoint(file);
  if (!checkpoint) {
    throw new SeedlineError('CHECKPOINT_INVALID', `there is no checkpoint at ${file} to resume`, {
      file,
      option: '--resume',
      hint: 'seed without --resume to start from the beginning, or point --checkpoint at the file the earlier run wrote',
    });
  }
  checkResumable(checkpoint, checkpointKey(options.events, stream, exchange, redactUrl(url), checkpoint.runId), file);
  if (options.runId !== undefined && options.runId !== checkpoint.runId) {
    throw new SeedlineError('USAGE', `--run-id ${options.runId} differs from the checkpoint's run ${checkpoint.runId}`, {
      option: '--run-id',
      hint: 'leave out --run-id when resuming: the resumed run keeps its id',
    });
  }
  return { runId: checkpoint.runId, start: checkpoint.position };
}

/** Waits until event `index` is due; false when the signal fired first. */
async function waitUntilDue(pacer: Pacer, index: number, signal: AbortSignal | undefined): Promise<boolean> {
  let delay: number;
  while ((delay = pacer.delay(index, performance.now())) > 0) {
    await sleep(Math.min(delay, 250), signal);
    if (signal?.aborted) return false;
  }
  return true;
}

function throwIfIncomplete(result: SeedResult, failure: SeedlineError | null, failOnUnroutable: boolean): void {
  const counts = `${formatCount(result.published)} of ${formatCount(result.total - result.startPosition)} published, ${formatCount(result.confirmed)} confirmed`;
  if (result.interrupted) {
    throw new SeedFailure('INTERRUPTED', `interrupted: ${counts}; confirmed through event ${formatCount(result.position)}`, result, {
      hint: 'run seed --resume to continue from the checkpoint; consumers de-duplicate by message id',
    });
  }
  if (failure) throw new SeedFailure(failure.code, `${failure.message} (${counts})`, result, failure.context, { cause: failure });
  if (result.unconfirmed > 0) {
    throw new SeedFailure('PUBLISH_FAILED', `${formatCount(result.unconfirmed)} events were left unconfirmed (${counts})`, result, {
      hint: 'run seed --resume to publish them again',
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
