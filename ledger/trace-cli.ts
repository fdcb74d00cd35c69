import { Command } from 'commander';
import { SeedlineError } from '../common/errors.ts';
import { traceEvent, traceRow } from './trace.ts';
import { formatTrace } from './trace-format.ts';

interface TraceFlags {
  dump: string;
  events: string;
  run?: string;
  tap?: string;
  event?: string;
  json?: boolean;
}

/** `seedline trace`: one legacy row (or one event) from its table to the broker. */
export function traceCommand(): Command {
  return new Command('trace')
    .description('follow one legacy row from its table through the modules to its events, rejects, and (with --run/--tap) the broker')
    .argument('[table]', 'the legacy table, e.g. Messages or dbo.Messages')
    .argument('[key]', 'its primary key; several key columns separated by commas (Blocks 3,5)')
    .option('--event <id>', 'start from an event id instead: find the event, then the row it came from')
    .option('--dump <dir>', 'the dump that extract wrote', 'dump')
    .option('--events <dir>', 'the events data set that transform wrote', 'events')
    .option('--run <run.json>', 'a seed run report: say whether each event was confirmed')
    .option('--tap <tap.json>', 'a tap verdict: say whether each event arrived')
    .option('--json', 'print the trace as JSON')
    .addHelpText(
      'after',
      `
The row is read from the dump's parts whose key range holds it; the events are found through an
index of the events data set kept in <events>/.trace-index/ (built by the first trace, in one
pass; rebuilt when the events change); the rejects from <events>/rejects/. No database needed.

Examples:
  $ seedline trace Messages 1114 --dump dump --events events
  $ seedline trace --event 2c0b1f0e-7d6a-5c1e-9d1b-6a2f3e4d5c6b --run run.json --tap tap.json
`,
    )
    .action(async (table: string | undefined, key: string | undefined, flags: TraceFlags) => {
      const options = { dump: flags.dump, events: flags.events, run: flags.run, tap: flags.tap, onIndexBuild: (m: string) => process.stderr.write(`trace: ${m}\n`) };
      let trace;
      if (flags.event !== undefined) {
        if (table !== undefined) throw new SeedlineError('USAGE', 'give either <table> <key> or --event <id>, not both', { option: '--event' });
        trace = await traceEvent(options, flags.event);
      } else {
        if (table === undefined || key === undefined) throw new SeedlineError('USAGE', 'trace needs <table> <key> (e.g. trace Messages 1114) or --event <id>', { option: '<table>' });
        trace = await traceRow(options, table, key);
      }
      process.stdout.write(flags.json ? `${JSON.stringify(trace, null, 1)}\n` : formatTrace(trace));
      process.exitCode = 0;
    });
}
