import { Command, Option } from 'commander';
import { EXIT } from '../common/exit-codes.ts';
import { progressOption, renamedOption, type ProgressMode } from '../common/options.ts';
import { interruptSignal } from '../common/signals.ts';
import { verifyDump, verifySummary } from './verify.ts';

/** `seedline verify <dump>`: sha256 and record count of every part, optionally against the live database. */
export function verifyCommand(): Command {
  const command = new Command('verify')
    .description(
      'check a dump: every part\'s sha256 and record count against manifest.json, every record decodes.\n' +
        'With --source, also compare each table\'s row count (and the sum of an integer key) with the database.',
    )
    .argument('<dump>', 'the dump directory (the one holding manifest.json)')
    .addOption(new Option('--source <url>', 'the source database to compare row counts with: postgres://user@host:5432/database or mssql://…'))
    .option('--allow-read-committed', 'MS SQL: count with READ COMMITTED when the database does not allow SNAPSHOT (default: as the dump was extracted)')
    .option('--allow-other-source', 'compare with --source even when it is not the database the dump was extracted from (a copy, a restored backup)')
    .addOption(progressOption())
    .addHelpText(
      'after',
      '\nExits 0 when every stream is complete and sound, 1 otherwise (each bad file is named).\n' +
        'The database may have changed since the dump: a count that differs then says so, not that the dump is damaged.\n' +
        '\nExamples:\n' +
        '  $ seedline verify dump\n' +
        '  $ seedline verify dump --source postgres://reader@legacy-db:5432/dating\n',
    )
    .action(async (dump: string, flags: { source?: string; allowReadCommitted?: boolean; allowOtherSource?: boolean; progress: ProgressMode }) => {
      const interrupt = interruptSignal();
      try {
        const result = await verifyDump(dump, {
          ...(flags.source !== undefined ? { against: flags.source } : {}),
          ...(flags.allowReadCommitted ? { allowReadCommitted: true } : {}),
          allowOtherSource: flags.allowOtherSource ?? false,
          progress: flags.progress,
          signal: interrupt.signal,
        });
        process.stdout.write(verifySummary(result));
        process.exitCode = result.ok ? EXIT.OK : EXIT.ERROR;
      } finally {
        interrupt.dispose();
      }
    });
  return renamedOption(command, '--against <url>', '--source');
}
