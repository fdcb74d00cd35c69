import { Command, CommanderError } from 'commander';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { VERSION } from '../common/version.ts';
import { EXIT } from '../common/exit-codes.ts';
import { commandsFor } from './commands.ts';

/**
 * The `seedline` program: wires the stage commands together and turns errors into one
 * clear line and an exit code. Every command's work is a library function; nothing here
 * knows how a stage works.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('seedline')
    .description(
      'Move a legacy SQL database into an event-driven system:\n' +
        '  extract    dump it to protobuf record files (once, against production)\n' +
        '  transform  turn the dump into one ordered event stream (locally, often)\n' +
        '  seed       replay the events into RabbitMQ at a controlled rate',
    )
    .version(VERSION, '-V, --version')
    .option('-v, --verbose', 'print stack traces and driver details on errors')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nExamples:\n  $ seedline demo            # fixture → extract → transform → seed, no configuration\n')
    .exitOverride();
  for (const command of await commandsFor(argv)) program.addCommand(command.exitOverride());
  return program;
}

/** Runs the CLI; returns the process exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[]): Promise<number> {
  // A reader that has gone (`seedline --help | head`) is not an error of ours: no EPIPE stack trace.
  // Commands that stream to stdout (inspect, transform --format json) also stop their work then.
  // Kept for the process's life: the error arrives after the write, possibly after main returns.
  if (!process.stdout.listeners('error').includes(ignoreClosedPipe)) process.stdout.on('error', ignoreClosedPipe);
  try {
    const program = await buildProgram(argv);
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportError(err, argv.includes('--verbose') || argv.includes('-v'));
  }
}

function ignoreClosedPipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
}

function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // Commander has printed its own message (or the help/version) already.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return EXIT.OK;
    }
    return EXIT.USAGE;
  }
  if (err instanceof SeedlineError) {
    process.stderr.write(`seedline: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  → ${err.hint}\n`);
    if (verbose) process.stderr.write(`${err.stack}\n${err.cause ? `caused by: ${String((err.cause as Error).stack ?? err.cause)}\n` : ''}`);
    if (err.code === 'INTERRUPTED') return EXIT.INTERRUPTED;
    if (err.code === 'BACKLOG_LIMIT') return EXIT.BACKLOG_LIMIT;
    return err.code === 'USAGE' || err.code === 'CONFIG_INVALID' ? EXIT.USAGE : EXIT.ERROR;
  }
  process.stderr.write(`seedline: unexpected error: ${messageOf(err)}\n`);
  process.stderr.write(verbose ? `${(err as Error)?.stack ?? ''}\n` : '  → run again with --verbose for the stack trace, and report it\n');
  return EXIT.ERROR;
}
