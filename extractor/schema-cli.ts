import { Command, Option } from 'commander';
import { EXIT } from '../common/exit-codes.ts';
import { generateSchemas } from './generate-schemas.ts';

/** `seedline schema`: write starting .proto files for tables from the live catalog. */
export function schemaCommand(): Command {
  return new Command('schema')
    .description('generate a .proto per table from the source database catalog (SQL types as comments), to review and commit.')
    .argument('<tables...>', "tables, e.g. dbo.Members dbo.Messages, or patterns such as 'dbo.*' (partitions left out)")
    .addOption(new Option('--source <url>', 'source database, postgres://user:password@host:5432/database').env('SEEDLINE_SOURCE').makeOptionMandatory())
    .option('--out <dir>', 'directory for the .proto files (extract reads them with --schemas <dir>)', 'schemas/legacy')
    .option('--source-timezone <zone>', 'the zone naive timestamps will be extracted in, named in their fields\' comments')
    .option('--overwrite', 'replace existing .proto files')
    .addHelpText('after', '\nExamples:\n  $ seedline schema dbo.Members dbo.Messages --source postgres://reader@legacy-db/dating --out /tmp/protos\n  $ diff -r /tmp/protos schemas/legacy   # review what changed before committing\n')
    .action(async (tables: string[], flags: { source: string; out: string; overwrite?: boolean; sourceTimezone?: string }) => {
      const written = await generateSchemas({
        source: flags.source,
        tables,
        out: flags.out,
        overwrite: flags.overwrite ?? false,
        ...(flags.sourceTimezone ? { sourceTimezone: flags.sourceTimezone } : {}),
        onNote: (note) => process.stdout.write(`note: ${note}\n`),
      });
      for (const w of written) {
        const note = w.unsupported.length ? `  (no mapping, left as comments: ${w.unsupported.join(', ')})` : '';
        process.stdout.write(`${w.table} → ${w.file}${note}\n`);
      }
      process.exitCode = EXIT.OK;
    });
}
