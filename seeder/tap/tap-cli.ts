import { Command, Option } from 'commander';
import { progressOption, renamedOption } from '../../common/options.ts';
import { interruptSignal } from '../../common/signals.ts';
import { DEFAULT_EXCHANGE } from '../broker/broker.ts';
import { parseDuration } from '../pacing/pace-options.ts';
import { parseSelection, type SelectionFlags } from '../pacing/select.ts';
import { formatVerdict, tap, verdictError, writeVerdictJson } from './tap.ts';
import { brokerUrlOption } from '../broker/url-option.ts';

interface TapFlags extends SelectionFlags {
  events: string;
  amqpUrl: string;
  exchange: string;
  pattern: string;
  queue?: string;
  json?: string;
  runId?: string;
  idle: string;
  progress: 'auto' | 'lines' | 'off';
}

/** `seedline tap`: verify that a seed run delivered every event, once, in order per key. */
export function tapCommand(): Command {
  return renamedOption(
    new Command('tap')
    .description('verification consumer: checks every event of a data set arrives on the exchange, counts duplicates, checks per-key order, measures latency')
    .option('--events <dir>', 'the events data set whose events are expected', 'events')
    .addOption(brokerUrlOption('RabbitMQ to listen on (the first node that answers)'))
    .option('--exchange <name>', 'the exchange seed publishes to', DEFAULT_EXCHANGE)
    .option('--pattern <routing-key>', 'bind with this pattern (e.g. chat.#)', '#')
    .option('--queue <name>', 'read this existing queue (a module\'s) instead of a queue of its own; messages are looked at, not taken')
    .option('--json <file>', 'also write the verdict as JSON, with counts per event type (for seedline ledger --tap)')
    .option('--run-id <id>', 'count only messages of this seed run (its run-id header)')
    .option('--idle <duration>', 'stop when nothing arrived for this long', '30s')
    .option('--from <time>', 'expect only events at or after this ISO time (as given to seed)')
    .option('--until <time>', 'expect only events before this ISO time')
    .option('--types <globs>', 'expect only these event types')
    .option('--limit <n>', 'expect only the first n selected events')
    .option('--sample <P%>', 'expect only the keys seed --sample P% keeps')
    .option('--partition <i/N>', 'expect only the keys of partition i/N')
    .addOption(progressOption())
    .addHelpText(
      'after',
      `
Start tap first, then seed (tap binds its own exclusive queue, so it only sees what is published
after it started). It stops when every expected event arrived (plus a short grace period for
duplicates) or nothing arrived for --idle, prints a verdict, and exits non-zero when an event is
missing or out of order per key. Seed with --sent-at-header for end-to-end latency.

Examples:
  $ seedline tap --events events --exchange seedline --run-id r1 &
  $ seedline seed --events events --exchange seedline --run-id r1 --sent-at-header
`,
    )
    .action(async (flags: TapFlags) => {
      const selection = parseSelection(flags);
      const idleMs = parseDuration(flags.idle, '--idle');
      const interrupt = interruptSignal();
      try {
        const verdict = await tap({
          events: flags.events,
          url: flags.amqpUrl,
          exchange: flags.exchange,
          pattern: flags.pattern,
          ...(flags.queue !== undefined ? { queue: flags.queue } : {}),
          runId: flags.runId,
          selection,
          idleMs,
          progress: flags.progress,
          signal: interrupt.signal,
          onReady: () =>
            process.stderr.write(flags.queue !== undefined ? `tap: reading queue '${flags.queue}'\n` : `tap: listening on exchange '${flags.exchange}' (${flags.pattern}); start the seed now\n`),
        });
        process.stdout.write(`${formatVerdict(verdict)}\n`);
        if (flags.json !== undefined) {
          await writeVerdictJson(flags.json, verdict);
          process.stderr.write(`tap: verdict written to ${flags.json}\n`);
        }
        if (!verdict.ok) throw verdictError(verdict);
        process.exitCode = 0;
      } finally {
        interrupt.dispose();
      }
    }),
    '--url <url>',
    '--amqp-url',
  );
}
