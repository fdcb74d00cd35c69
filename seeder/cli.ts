import { progressOption } from '../common/options.ts';
import { Command, Option } from 'commander';
import { SeedlineError } from '../common/errors.ts';
import { interruptSignal } from '../common/signals.ts';
import { DEFAULT_EXCHANGE } from './broker/broker.ts';
import { addBrokerUrlOption } from './broker/url-option.ts';
import { DEFAULT_RECONNECT } from './broker/link.ts';
import { DEFAULT_METRICS_HOST } from './report/metrics-server.ts';
import type { ContentType } from './broker/message.ts';
import { DEFAULT_MAX_IN_FLIGHT, seed } from './seed.ts';
import { addPaceOptions, preparePace, type PaceFlags } from './pacing/pace-cli.ts';
import { SeedFailure, formatSummary, type SeedResult } from './summary.ts';
import { addWatchOptions, formatBacklog, startWatch, type WatchFlags } from './backlog/watch-cli.ts';
import { seedWatched } from './backlog/watch-seed.ts';

interface SeedFlags {
  events: string;
  amqpUrl: string;
  exchange: string;
  rate?: string;
  maxInFlight: string;
  runId?: string;
  contentType: ContentType;
  failOnUnroutable?: boolean;
  checkpoint?: string | false;
  resume?: boolean;
  keyOrder: 'adaptive' | 'strict';
  reconnectWithin: string;
  metricsPort?: string;
  metricsHost: string;
  progress: 'auto' | 'lines' | 'off';
}

/**
 * The checkpoint records where the confirms got, not how the run was paced or what it selected:
 * a resume runs with the flags given now, and says so rather than seem to carry them over.
 */
export const RESUME_NOTE =
  "resuming with the rate and selection given now, not the first run's (the checkpoint records neither): repeat --rate/--speed/--stages and --from/--until/--types/--sample/--partition as before; --limit counts from the checkpoint on";

/** `seedline seed`: publish an events data set to RabbitMQ. */
export function seedCommand(): Command {
  // The basic flags first in --help (events, amqp-url, exchange, rate), then pacing, selection and the watch.
  const basic = new Command('seed')
    .description('replay an events data set into a RabbitMQ topic exchange, with publisher confirms, at a controlled rate')
    .option('--events <dir>', 'the events data set that transform wrote', 'events');
  addBrokerUrlOption(basic, 'RabbitMQ to publish to (the password is never printed)')
    .option('--exchange <name>', 'durable topic exchange to publish to (declared if missing)', DEFAULT_EXCHANGE)
    .option('--rate <events/s>', 'publish at this many events per second (default: as fast as the broker confirms)');
  return addWatchOptions(addPaceOptions(basic))
    .option('--max-in-flight <n>', 'most messages published but not yet confirmed at once', String(DEFAULT_MAX_IN_FLIGHT))
    .option('--run-id <id>', "written into every message's run-id header (default: time + random)")
    .addOption(new Option('--content-type <type>', 'message body: the protobuf payload as is, or its JSON mapping').choices(['protobuf', 'json']).default('protobuf'))
    .option('--fail-on-unroutable', 'exit with an error when any event had no queue bound for its type')
    .option('--checkpoint <file>', 'where to record how far the confirms got (default: <events>/.seed-checkpoint-<exchange>.json)')
    .option('--no-checkpoint', 'keep no checkpoint (then --resume is impossible)')
    .option('--resume', 'continue the run recorded in the checkpoint, from its first unconfirmed event, at the rate and selection given now')
    .addOption(
      new Option('--key-order <mode>', 'at most one unconfirmed event per key (so nacks cannot reorder a key) from the first nack on, or from the start (slower)')
        .choices(['adaptive', 'strict'])
        .default('adaptive'),
    )
    .option('--reconnect-within <seconds>', 'after a lost connection, keep trying to reconnect this long before giving up', String(DEFAULT_RECONNECT.withinMs / 1000))
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://<metrics-host>:<port>/metrics while the run lasts')
    .option('--metrics-host <host>', 'address the metrics endpoint listens on', DEFAULT_METRICS_HOST)
    .addOption(progressOption())
    .addHelpText(
      'after',
      `
Every event is published persistent and mandatory, routing key = its type, with message_id,
type, timestamp and headers (key, source-table, source-key, occurred-at, payload-type, run-id).
Delivery: every event at least once. A lost connection (broker restart) is re-established with
backoff and publishing continues from the lowest unconfirmed event; nacks are retried. The
checkpoint records how far the confirms got: after a crash, kill -9 or Ctrl-C, --resume continues
there (at most --max-in-flight events are published twice). Ctrl-C stops publishing, waits for the
outstanding confirms, writes the checkpoint and reports; a second Ctrl-C quits at once.

Examples:
  $ seedline seed --events events --amqp-url amqp://guest:guest@127.0.0.1:5672 --exchange seedline --rate 500 --max-in-flight 1000
  $ seedline seed --events events --exchange seedline --resume     # after a crash or Ctrl-C
  $ seedline seed --events events --exchange seedline --rate 5000 --metrics-port 9464   # scrape :9464/metrics
`,
    )
    .action(async (flags: SeedFlags & PaceFlags & WatchFlags) => {
      const rate = flags.rate === undefined ? undefined : parseNumber('--rate', flags.rate);
      const maxInFlight = parseNumber('--max-in-flight', flags.maxInFlight);
      const reconnectWithin = parseNumber('--reconnect-within', flags.reconnectWithin);
      const metricsPort = flags.metricsPort === undefined ? undefined : parsePort(flags.metricsPort);
      const session = await preparePace(flags, rate); // null after --dry-run (seeder/pacing/pace-cli.ts)
      if (!session) return;
      if (flags.resume) process.stderr.write(`seed: ${RESUME_NOTE}\n`);
      const watching = await startWatch(flags, (line) => process.stderr.write(`seed: ${line}\n`)).catch((err: unknown) => {
        session.dispose();
        throw err;
      });
      const backlog = () => watching?.watch.report();
      const interrupt = interruptSignal(() =>
        process.stderr.write('\nseed: stopping — waiting for outstanding confirms, then writing the checkpoint (Ctrl-C again to quit at once)\n'),
      );
      try {
        const options = {
          events: flags.events,
          url: flags.amqpUrl,
          exchange: flags.exchange,
          rate,
          maxInFlight,
          runId: flags.runId,
          contentType: flags.contentType,
          failOnUnroutable: flags.failOnUnroutable ?? false,
          checkpoint: flags.checkpoint,
          resume: flags.resume ?? false,
          keyOrder: flags.keyOrder,
          reconnect: { ...DEFAULT_RECONNECT, withinMs: reconnectWithin * 1000 },
          progress: flags.progress,
          signal: interrupt.signal,
          pace: session.pace,
          ...(metricsPort === undefined ? {} : { metrics: { port: metricsPort, host: flags.metricsHost } }),
        };
        const result = watching ? await seedWatched(options, watching.watch, watching.drainMs) : await seed(options);
        await session.finish(result, backlog());
        process.stdout.write(`${formatSummary(result)}\n`);
        if (watching) process.stdout.write(`${formatBacklog(watching.watch.report())}\n`);
        throwIfNothingRouted(result);
        process.exitCode = 0;
      } catch (err) {
        // Say what was done before the error line that cli/main.ts prints.
        if (err instanceof SeedFailure) process.stdout.write(`${formatSummary(err.result)}\n`);
        if (watching) process.stdout.write(`${formatBacklog(watching.watch.report())}\n`);
        await session.finish(err instanceof SeedFailure ? err.result : undefined, backlog()).catch(() => undefined);
        throw err;
      } finally {
        session.dispose();
        interrupt.dispose();
        await watching?.watch.stop();
      }
    });
}

/**
 * A run whose every event came back unroutable delivered nothing (no queue bound to the
 * exchange): that is a failed seed, not a done one, whatever the confirms say. The library's
 * seed() still returns such a result; the command is what a person or a script reads.
 */
function throwIfNothingRouted(result: SeedResult): void {
  if (result.published === 0 || result.returnedTotal < result.published) return;
  throw new SeedlineError(
    'NOTHING_ROUTED',
    `none of the ${result.published.toLocaleString('en-US')} events published was routed: no queue is bound to exchange '${result.exchange}' for their types, and the broker dropped them all`,
    { option: '--exchange', hint: 'declare the queues first (seed --topology seeder/topology.example.json, or start the consumers), then seed again' },
  );
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new SeedlineError('USAGE', `--metrics-port must be a TCP port (0–65535; 0 picks a free one), got '${text}'`, { option: '--metrics-port' });
  }
  return port;
}

function parseNumber(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new SeedlineError('USAGE', `${option} must be a positive number, got '${text}'`, { option });
  }
  return value;
}
