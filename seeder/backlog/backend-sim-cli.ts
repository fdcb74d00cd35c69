import { renamedOption } from '../../common/options.ts';
import { Command, Option } from 'commander';
import { formatCount } from '../../common/progress.ts';
import { interruptSignal } from '../../common/signals.ts';
import { BackendSim, parseSimQueue, type SimQueueSpec } from './backend-sim.ts';
import { DEFAULT_EXCHANGE, DEFAULT_URL, redactUrl } from '../broker/broker.ts';
import { sleep } from '../broker/link.ts';
import { parseDuration } from '../pacing/pace-options.ts';

interface SimFlags {
  amqpUrl: string;
  exchange: string;
  queue: SimQueueSpec[];
  queuePrefix?: string;
  prefetch?: string;
  jitter: string;
  duration?: string;
  deleteQueues?: boolean;
}

/** `seedline backend-sim`: consume the exchange's events per module at fixed capacities. */
export function backendSimCommand(): Command {
  return renamedOption(
    new Command('backend-sim')
    .description('a stand-in backend: one durable queue per module, bound to its event types, consumed at a fixed capacity')
    .addOption(new Option('--amqp-url <url>', 'RabbitMQ (the password is never printed)').env('SEEDLINE_AMQP_URL').default(DEFAULT_URL))
    .option('--exchange <name>', 'the topic exchange seed publishes to (declared if missing)', DEFAULT_EXCHANGE)
    .option('--queue <module=rate/s>', "a module's queue and its consumer's capacity, e.g. chat=300/s (repeat for each module)", (v: string, all: SimQueueSpec[] = []) => [...all, parseSimQueue(v)])
    .option('--queue-prefix <prefix>', 'queue name = prefix + module (default: "<exchange>.")')
    .option('--prefetch <n>', 'unacked messages per consumer (default: capacity/10, at least 10)')
    .option('--jitter <fraction>', 'per-event cost varies within ±fraction of 1/capacity (0–0.9), like a real consumer', '0')
    .option('--duration <time>', 'stop after this long (default: until Ctrl-C)')
    .option('--delete-queues', 'delete the queues when stopping (default: keep them, durable)')
    .addHelpText(
      'after',
      `
Each queue is bound to the event types its module emits (seedline modules lists them) and is
consumed with manual acks by one worker that spends 1/capacity seconds per event. Prints the
events consumed per queue every second. Point seedline seed or seedline capacity at the same
exchange to see which queue falls behind first.

Examples:
  $ seedline backend-sim --exchange seedline --queue chat=300/s --queue members=2000/s --jitter 0.3
`,
    )
    .action(async (flags: SimFlags) => {
      const prefetch = flags.prefetch === undefined ? undefined : Number(flags.prefetch);
      const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration');
      const interrupt = interruptSignal();
      const sim = await BackendSim.start({
        url: flags.amqpUrl,
        exchange: flags.exchange,
        queues: flags.queue ?? [],
        queuePrefix: flags.queuePrefix,
        prefetch,
        jitter: Number(flags.jitter),
      });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(`backend-sim: consuming from ${redactUrl(flags.amqpUrl)} exchange '${flags.exchange}':`);
      for (const q of sim.queues) out(`  ${q.name} ← ${q.bindings.join(', ')} at ${formatCount(q.capacity)}/s`);
      const started = performance.now();
      let last = sim.queues.map((q) => q.consumed);
      try {
        while (!interrupt.signal.aborted && (durationMs === undefined || performance.now() - started < durationMs)) {
          await sleep(1000, interrupt.signal);
          const now = sim.queues.map((q) => q.consumed);
          const t = Math.round((performance.now() - started) / 1000);
          out(`${t}s ${sim.queues.map((q, i) => `${q.module} ${formatCount(now[i]! - last[i]!)}/s`).join(' · ')}`);
          last = now;
        }
      } finally {
        interrupt.dispose();
        await sim.stop({ deleteQueues: flags.deleteQueues ?? false });
        out(`backend-sim: stopped; consumed ${sim.queues.map((q) => `${q.module} ${formatCount(q.consumed)}`).join(', ')}`);
      }
    }),
    '--url <url>',
    '--amqp-url',
  );
}
