import { resolve } from 'node:path';
import { progressOption, renamedOption } from '../common/options.ts';
import { Command, Option } from 'commander';
import { runDemo, DEMO_EXCHANGE, DEMO_QUEUE } from './run-demo.ts';
import { interruptSignal } from '../common/signals.ts';
import { runCapacityDemo } from './capacity-demo.ts';

export function demoCommand(): Command {
  const command = new Command('demo')
    .description('run every stage end to end on the fixture database: fixture → extract → transform → seed')
    .option('--out <dir>', 'where dump/ and events/ are written', 'seedline-demo')
    .option('--source <postgres-url>', 'load the fixture into this PostgreSQL database instead of an embedded one (its dbo tables are replaced)')
    .option('--preset <name>', 'fixture size: tiny, small', 'small')
    .option('--amqp-url <url>', 'RabbitMQ to seed', 'amqp://guest:guest@127.0.0.1:5672')
    .option('--exchange <name>', 'topic exchange to seed', DEMO_EXCHANGE)
    .option('--queue <name>', 'durable queue bound to every event type (emptied first)', DEMO_QUEUE)
    .option('--capacity', "then run a short capacity search against backend-sim (chat slow on purpose) and write capacity.html")
    .addOption(progressOption())
    .addHelpText(
      'after',
      `
Needs no configuration: without --source it starts an embedded PostgreSQL (PGlite) in this
process, loads the 'small' fixture (the legacy dating site, dirty on purpose), extracts its
nine tables, transforms them with every module into events, and seeds RabbitMQ.

Examples:
  $ seedline demo
  $ seedline demo --source postgres://postgres@127.0.0.1:5432/legacy_demo --preset tiny
  $ seedline demo --capacity      # and find the rate a stand-in backend sustains (capacity.html)`,
    )
    .action(async (opts: { out: string; source?: string; preset: string; amqpUrl: string; exchange: string; queue: string; capacity?: boolean; progress: 'auto' | 'lines' | 'off' }) => {
      const interrupt = interruptSignal();
      try {
        const demo = await runDemo({
          out: opts.out,
          target: opts.source,
          preset: opts.preset,
          amqpUrl: opts.amqpUrl,
          exchange: opts.exchange,
          queue: opts.queue,
          progress: opts.progress,
          signal: interrupt.signal,
          onStage: (line) => process.stdout.write(`${line}\n`),
        });
        if (opts.capacity) {
          const say = (line: string) => process.stdout.write(`${line}\n`);
          await runCapacityDemo({ events: demo.transform.out, amqpUrl: opts.amqpUrl, exchange: `${opts.exchange}.capacity`, out: resolve(opts.out), signal: interrupt.signal, say });
        }
      } finally {
        interrupt.dispose();
      }
    });
  return renamedOption(command, '--target <postgres-url>', '--source');
}
