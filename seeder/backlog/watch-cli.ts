import { Option, type Command } from 'commander';
import { SeedlineError } from '../../common/errors.ts';
import { formatCount, formatDuration } from '../../common/progress.ts';
import { formatRate, signed } from '../report/format-rate.ts';
import { parseDuration } from '../pacing/pace-options.ts';
import { loadTopology } from '../broker/topology.ts';
import { DEFAULT_WATCH_WINDOW_S, QueueWatch } from './watch.ts';
import { describeBreach, type BacklogReport } from './watch-report.ts';

/** The flags `addWatchOptions` adds to `seedline seed`. */
export interface WatchFlags {
  amqpUrl: string;
  exchange: string;
  watch: boolean;
  managementUrl?: string;
  watchQueues?: string;
  watchWindow?: string;
  maxBacklog?: string;
  maxBacklogGrowth?: string;
  drain?: string | true;
  /** seed --topology: its queues are watched too (the AMQP fallback cannot list queues). */
  topology?: string;
}

export const DEFAULT_DRAIN_TIMEOUT = '10m';

export function addWatchOptions(command: Command): Command {
  return command
    .option('--no-watch', "don't sample the queues bound to the exchange while seeding")
    .addOption(new Option('--management-url <url>', 'RabbitMQ management API for the backlog watch (default: http://<amqp host>:15672, credentials of --amqp-url; never printed)').env('SEEDLINE_MANAGEMENT_URL'))
    .option('--watch-queues <globs>', 'watch these queues too, comma-separated names or globs (globs need the management API)')
    .option('--watch-window <duration>', 'backlog growth is measured over this last stretch', `${DEFAULT_WATCH_WINDOW_S}s`)
    .option('--max-backlog <n>', `stop the run (exit 4) when any watched queue holds more than n messages ready`)
    .option('--max-backlog-growth <r/s>', 'stop the run (exit 4) when any watched queue grows faster than r messages/s over the window')
    .option('--drain [timeout]', `at the end, wait until the watched queues are empty (at most timeout; default: ${DEFAULT_DRAIN_TIMEOUT}) and report the catch-up time`)
    .addHelpText(
      'after',
      `
Backlog watch (on unless --no-watch): about once a second every queue bound to the exchange
(listed by the management API) and every --watch-queues/--topology queue is read: messages
ready, consumers, and with the management API unacked and ack rates. Without the API it falls
back to AMQP passive declares and says so. The summary, --report and --metrics-port show each
queue's backlog at the end, peak and growth; seeder/README.md explains them.
  $ seedline seed --events events --exchange seedline --rate 800 --max-backlog 50000 --drain 5m`,
    );
}

/** Starts the watch the flags ask for (null with --no-watch). */
export async function startWatch(flags: WatchFlags, log: (line: string) => void): Promise<{ watch: QueueWatch; drainMs?: number } | null> {
  if (!flags.watch) {
    if (flags.maxBacklog || flags.maxBacklogGrowth || flags.drain) throw new SeedlineError('USAGE', '--max-backlog, --max-backlog-growth and --drain need the backlog watch; drop --no-watch', { option: '--no-watch' });
    return null;
  }
  const watch = await QueueWatch.start({
    url: flags.amqpUrl,
    exchange: flags.exchange,
    managementUrl: flags.managementUrl,
    queues: [...(flags.watchQueues?.split(',').map((q) => q.trim()).filter(Boolean) ?? []), ...(flags.topology ? (await loadTopology(flags.topology)).queues.map((q) => q.name) : [])],
    windowSeconds: flags.watchWindow === undefined ? undefined : parseDuration(flags.watchWindow, '--watch-window') / 1000,
    maxBacklog: number('--max-backlog', flags.maxBacklog),
    maxGrowth: number('--max-backlog-growth', flags.maxBacklogGrowth?.replace(/\/s$/, '')),
    log,
  });
  const drainMs = flags.drain === undefined ? undefined : parseDuration(flags.drain === true ? DEFAULT_DRAIN_TIMEOUT : flags.drain, '--drain');
  return { watch, ...(drainMs === undefined ? {} : { drainMs }) };
}

/** The backlog block of the summary: per queue end, peak and growth; the guard; the drain. */
export function formatBacklog(b: BacklogReport): string {
  const lines = [`  ${'backlog'.padEnd(12)}${b.source}`];
  if (b.queues.length === 0) lines.push(`  ${''.padEnd(12)}no queue was watched (none bound to the exchange, none named with --watch-queues)`);
  const width = Math.max(5, ...b.queues.map((q) => q.queue.length));
  if (b.queues.length > 0) lines.push(`    ${'queue'.padEnd(width)}  ${'end'.padStart(9)}  ${'peak'.padStart(9)}  growth over the last ${b.windowSeconds}s`);
  for (const q of b.queues) {
    lines.push(`    ${q.queue.padEnd(width)}  ${formatCount(q.end).padStart(9)}  ${formatCount(q.peak).padStart(9)}  ${signed(q.growth)}/s ±${formatRate(q.growthSpread)}`);
  }
  if (b.breach) lines.push(`  ${'stopped'.padEnd(12)}${describeBreach(b.breach)}`);
  if (b.drain) {
    const left = Object.entries(b.drain.left).map(([q, n]) => `${q} ${formatCount(n)}`).join(', ');
    lines.push(`  ${'drain'.padEnd(12)}${b.drain.drained ? `the backend caught up ${formatDuration(b.drain.seconds)} after the last confirm` : `not empty after ${formatDuration(b.drain.seconds)}: ${left} left`}`);
  }
  return lines.join('\n');
}

function number(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new SeedlineError('USAGE', `${option} must be a number ≥ 0, got '${text}'`, { option });
  return v;
}
