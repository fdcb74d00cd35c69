import { Command, Option } from 'commander';
import { renamedOption } from '../../common/options.ts';
import { SeedlineError } from '../../common/errors.ts';
import { interruptSignal } from '../../common/signals.ts';
import { DEFAULT_EXCHANGE, DEFAULT_URL } from '../broker/broker.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_HOLD_MS, findCapacity } from './capacity.ts';
import { writeCapacityReport } from './capacity-report.ts';
import { DEFAULT_SEARCH } from './capacity-search.ts';
import { formatCapacity } from './capacity-summary.ts';
import { DEFAULT_MAX_IN_FLIGHT } from '../seed.ts';
import { parseDuration } from '../pacing/pace-options.ts';

interface CapacityFlags {
  events: string;
  amqpUrl: string;
  exchange: string;
  managementUrl?: string;
  watchQueues?: string;
  from: string;
  to: string;
  hold: string;
  factor: string;
  precision: string;
  maxGrowth?: string;
  drainTimeout: string;
  maxInFlight: string;
  report?: string;
}

/** `seedline capacity`: the highest event rate the backend behind the exchange sustains. */
export function capacityCommand(): Command {
  return renamedOption(
    new Command('capacity')
    .description('replay the events at increasing rates and find the highest rate the backend keeps up with, and which queue saturates first')
    .option('--events <dir>', 'the events data set that transform wrote (replayed from its start: a contiguous, time-ordered slice)', 'events')
    .addOption(new Option('--amqp-url <url>', 'RabbitMQ (the password is never printed)').env('SEEDLINE_AMQP_URL').default(DEFAULT_URL))
    .option('--exchange <name>', 'the topic exchange the backend consumes from', DEFAULT_EXCHANGE)
    .addOption(new Option('--management-url <url>', 'RabbitMQ management API (default: http://<amqp host>:15672; lists the bound queues, gives consumption rates)').env('SEEDLINE_MANAGEMENT_URL'))
    .option('--watch-queues <globs>', 'queues to judge besides those bound to the exchange (names; globs need the management API)')
    .option('--from <events/s>', 'first rate tried', String(DEFAULT_SEARCH.from))
    .option('--to <events/s>', 'highest rate tried', String(DEFAULT_SEARCH.to))
    .option('--hold <duration>', 'how long each rate is held: longer is more certain', `${DEFAULT_HOLD_MS / 1000}s`)
    .option('--factor <x>', 'each step up multiplies the rate by this until a step falls behind', String(DEFAULT_SEARCH.factor))
    .option('--precision <fraction>', 'bisect until the first bad rate is within this fraction of the last good one', String(DEFAULT_SEARCH.precision))
    .option('--max-growth <msgs/s>', "a queue's backlog growing faster than this falls behind (default: 1% of the rate, at least 1/s)")
    .option('--drain-timeout <duration>', 'between steps, wait at most this long for the queues to empty', `${DEFAULT_DRAIN_TIMEOUT_MS / 1000}s`)
    .option('--max-in-flight <n>', 'most messages published but not yet confirmed at once', String(DEFAULT_MAX_IN_FLIGHT))
    .option('--report <file>', 'write the search as JSON, and an HTML page beside it (file.html)')
    .addHelpText(
      'after',
      `
Publishes to the exchange (as seed does, persistent, with confirms) and only reads the
queues: nothing is purged or declared. Every step replays the data set from its start at one
rate for --hold, judges each watched queue's backlog growth after a warm-up, then waits for
the queues to drain. The answer: the highest sustained rate, the queue that saturates first
and its consumption rate, or the publisher's limit when the rate was not reached while no
queue grew. seeder/README.md ("Stress-testing the backend") says how to read a verdict.

Examples:
  $ seedline backend-sim --exchange seedline --queue chat=300/s --queue members=2000/s &
  $ seedline capacity --events events --exchange seedline --from 100 --to 20000 --hold 20s --report capacity.json
`,
    )
    .action(async (flags: CapacityFlags) => {
      const interrupt = interruptSignal(() => process.stderr.write('\ncapacity: stopping after the current step (Ctrl-C again to quit at once)\n'));
      try {
        const result = await findCapacity({
          events: flags.events,
          url: flags.amqpUrl,
          exchange: flags.exchange,
          managementUrl: flags.managementUrl,
          watchQueues: flags.watchQueues?.split(',').map((q) => q.trim()).filter(Boolean),
          from: positive('--from', flags.from),
          to: positive('--to', flags.to),
          holdMs: parseDuration(flags.hold, '--hold'),
          factor: positive('--factor', flags.factor),
          precision: positive('--precision', flags.precision),
          maxGrowth: flags.maxGrowth === undefined ? undefined : positive('--max-growth', flags.maxGrowth.replace(/\/s$/, '')),
          drainTimeoutMs: parseDuration(flags.drainTimeout, '--drain-timeout'),
          maxInFlight: positive('--max-in-flight', flags.maxInFlight),
          signal: interrupt.signal,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(`${formatCapacity(result)}\n`);
        if (flags.report) process.stdout.write(`report: ${flags.report} and ${await writeCapacityReport(flags.report, result)}\n`);
        if (result.interrupted) throw new SeedlineError('INTERRUPTED', 'the capacity search was interrupted; the summary covers the steps that ran');
        process.exitCode = 0;
      } finally {
        interrupt.dispose();
      }
    }),
    '--url <url>',
    '--amqp-url',
  );
}

function positive(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new SeedlineError('USAGE', `${option} must be a positive number, got '${text}'`, { option });
  return value;
}
