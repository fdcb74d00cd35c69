import { Command, InvalidArgumentError } from 'commander';
import { EXIT } from '../common/exit-codes.ts';
import { interruptSignal } from '../common/signals.ts';
import { inspect } from './inspect.ts';

/** `seedline inspect <file|dir>`: records as JSON lines on stdout. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description('print the records of a data set or part file as JSON lines (like protoc --decode)')
    .argument('<path>', 'a data set directory (dump or events) or one part-NNNNN.pb.gz in it')
    .option('--stream <name>', 'only this stream of a data set (e.g. Messages)')
    .option('--head <n>', 'print only the first n matching records', parseCount)
    .option('--count', 'print how many records match instead of the records')
    .option('--where <field=value>', 'only records whose field equals value; dotted paths reach into the payload; repeat to AND', collect)
    .addHelpText(
      'after',
      '\nValues compare as text in protobuf JSON form (int64 as digits, enums by name).\n' +
        '\nExamples:\n' +
        '  $ seedline inspect events --head 3\n' +
        '  $ seedline inspect events --where type=chat.message-sent --where payload.sender_id=7 | jq .payload.body\n' +
        '  $ seedline inspect dump/Messages/part-00000.pb.gz --count\n',
    )
    .action(async (path: string, flags: { stream?: string; head?: number; count?: boolean; where?: string[] }) => {
      const interrupt = interruptSignal();
      const onError = (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') closed.abort();
      };
      const closed = new AbortController();
      process.stdout.on('error', onError);
      try {
        const result = await inspect({
          path,
          stream: flags.stream,
          head: flags.head,
          count: flags.count,
          where: flags.where,
          signal: AbortSignal.any([interrupt.signal, closed.signal]),
          write: (line) => {
            if (closed.signal.aborted || process.stdout.write(line)) return;
            return new Promise<void>((done) => {
              process.stdout.once('drain', done);
              closed.signal.addEventListener('abort', () => done(), { once: true });
            });
          },
        });
        if (flags.count) process.stdout.write(`${result.matched}\n`);
        process.exitCode = interrupt.signal.aborted ? EXIT.INTERRUPTED : EXIT.OK;
      } finally {
        process.stdout.off('error', onError);
        interrupt.dispose();
      }
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number ≥ 0, got '${value}'`);
  return Number(value);
}
