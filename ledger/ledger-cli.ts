import { writeFile, rename } from 'node:fs/promises';
import { Command } from 'commander';
import { EXIT } from '../common/exit-codes.ts';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { formatLedger } from './format.ts';
import { renderLedgerHtml } from './html.ts';
import { runLedger, type LedgerOptions, type LedgerResult } from './ledger.ts';

interface LedgerFlags {
  dump: string;
  events: string;
  run?: string;
  tap?: string;
  json?: boolean;
  html?: string;
}

/** `seedline ledger`: every legacy row accounted for, stage by stage. */
export function ledgerCommand(): Command {
  return new Command('ledger')
    .description('balance the counts of every stage (dump, transform, events, seed run, tap) and list whatever is unaccounted for')
    .option('--dump <dir>', 'the dump that extract wrote', 'dump')
    .option('--events <dir>', 'the events data set that transform wrote from it', 'events')
    .option('--run <run.json>', 'a seed run report (seed --report run.json)')
    .option('--tap <tap.json>', 'a tap verdict (tap --json tap.json)')
    .option('--json', 'print the ledger as JSON instead of text')
    .option('--html <file>', 'also write the ledger as a self-contained HTML page with a flow picture')
    .addHelpText(
      'after',
      `
One balance per stage boundary: per table, rows in the manifest = rows in the parts on disk;
per module and table, rows extracted = became events + rejected (by reason) + dropped + not read;
per event type, events counted = events in the parts; with --run, events = routed + returned
unroutable + not selected (by flag), and the run's selected = confirmed; with --tap, expected =
arrived + unroutable + missing. Exit ${EXIT.OK} when every balance closes, ${EXIT.LEDGER_UNBALANCED} when something is
unaccounted for (listed at the end). See ledger/README.md.

Examples:
  $ seedline seed --events events --exchange seedline --report run.json
  $ seedline ledger --dump dump --events events --run run.json --html ledger.html
`,
    )
    .action(async (flags: LedgerFlags) => {
      const result = await writeLedger({ dump: flags.dump, events: flags.events, run: flags.run, tap: flags.tap }, flags.html);
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 1)}\n` : formatLedger(result));
      // With --json, stdout is the JSON alone: the page's path goes to stderr.
      if (flags.html !== undefined) (flags.json ? process.stderr : process.stdout).write(`page: ${flags.html}\n`);
      process.exitCode = result.balanced ? EXIT.OK : EXIT.LEDGER_UNBALANCED;
    });
}

/** The ledger, and its page when `html` names a file (`seedline demo` calls this too). */
export async function writeLedger(options: LedgerOptions, html?: string): Promise<LedgerResult> {
  const result = await runLedger(options);
  if (html !== undefined) await writePage(html, renderLedgerHtml(result));
  return result;
}

/** Written under a temporary name and renamed: a reader never sees half a page. */
export async function writePage(file: string, html: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, html);
    await rename(tmp, file);
  } catch (err) {
    throw new SeedlineError('USAGE', `cannot write the ledger page ${file}: ${messageOf(err)}`, { file, option: '--html', hint: 'check that the directory exists and is writable' });
  }
}
