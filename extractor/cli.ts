import { Command, InvalidArgumentError, Option } from 'commander';
import { progressOption, type ProgressMode } from '../cli/options.ts';
import { formatBytes, formatCount, formatDuration } from '../common/progress.ts';
import { interruptSignal } from '../common/signals.ts';
import { EXIT } from '../cli/exit-codes.ts';
import { loadExtractConfig, type ExtractConfig } from './config.ts';
import { extract, DEFAULT_BATCH_ROWS, DEFAULT_GZIP_LEVEL, type ExtractResult } from './extract.ts';

interface Flags {
  source?: string;
  out?: string;
  sourceTimezone?: string;
  config?: string;
  gzipLevel?: number;
  batchRows?: number;
  concurrency?: number;
  overwrite?: boolean;
  resume?: boolean;
  progress: ProgressMode;
}

/** `seedline extract`: flags → extract() → a summary. */
export function extractCommand(): Command {
  return new Command('extract')
    .description(
      'Dump tables of the legacy database to gzipped protobuf record files (one stream per table).\n' +
        'Read-only, in one consistent snapshot; each table must match its reviewed schemas/legacy/<Table>.proto.',
    )
    .argument('[tables...]', 'tables to extract, e.g. dbo.Members dbo.Messages (default: the config file\'s "tables")')
    .addOption(new Option('--source <url>', 'source database, postgres://user:password@host:5432/database').env('SEEDLINE_SOURCE'))
    .option('--out <dir>', 'dump directory (default: "dump")')
    .option('--source-timezone <zone>', 'IANA zone the legacy server wrote local times in (required when a table has timestamp columns without zone)')
    .option('--config <file>', 'JSON config file: source, sourceTimezone, out, tables (per-table "proto", "exclude")')
    .option('--gzip-level <n>', `gzip level 0-9 (default ${DEFAULT_GZIP_LEVEL})`, intArg(0, 9))
    .option('--batch-rows <n>', `rows per statement (default ${DEFAULT_BATCH_ROWS})`, intArg(1))
    .option('--concurrency <n>', 'connections reading key ranges in parallel, sharing one snapshot (default 1)', intArg(1))
    .option('--overwrite', 'replace a complete dump in --out')
    .option('--resume', 'continue an interrupted dump: keep its complete parts, read the rest')
    .addOption(progressOption())
    .addHelpText(
      'after',
      '\nThe password can come from the environment: SEEDLINE_SOURCE, PGPASSWORD, or ${VAR} in the config file.\n' +
        'It is never printed or written to the manifest.\n' +
        '\nExample:\n' +
        '  $ seedline extract dbo.Members dbo.Messages \\\n' +
        '      --source postgres://reader@legacy-db:5432/dating --source-timezone Europe/Helsinki --out dump\n' +
        '  $ seedline extract --config seedline.json --resume     # after Ctrl-C: continue where it stopped\n',
    )
    .action(async (tables: string[], flags: Flags) => {
      const config: ExtractConfig = flags.config ? await loadExtractConfig(flags.config) : {};
      const interrupt = interruptSignal(() => process.stderr.write('\nstopping: finishing nothing half-way (Ctrl-C again to quit at once)\n'));
      try {
        const source = flags.source ?? config.source ?? '';
        const sourceTimezone = flags.sourceTimezone ?? config.sourceTimezone;
        const schemasDir = config.schemasDir;
        const result = await extract({
          source,
          tables: tables.length ? tables : (config.tables ?? []),
          out: flags.out ?? config.out ?? 'dump',
          ...(sourceTimezone !== undefined ? { sourceTimezone } : {}),
          ...(schemasDir !== undefined ? { schemasDir } : {}),
          ...pick('gzipLevel', flags.gzipLevel ?? config.gzipLevel),
          ...pick('batchRows', flags.batchRows ?? config.batchRows),
          ...pick('concurrency', flags.concurrency ?? config.concurrency),
          overwrite: flags.overwrite ?? false,
          resume: flags.resume ?? false,
          progress: flags.progress,
          signal: interrupt.signal,
        });
        process.stdout.write(summary(result));
        process.exitCode = result.complete ? EXIT.OK : EXIT.ERROR;
      } finally {
        interrupt.dispose();
      }
    });
}

export function summary(result: ExtractResult): string {
  const s = result.source;
  const lines = [
    `extracted ${s.dialect}://${s.host}:${s.port}/${s.database} → ${result.dir} (${result.complete ? 'complete' : 'INCOMPLETE'}, ${formatDuration(result.elapsedMs / 1000)})`,
  ];
  const width = Math.max(...result.tables.map((t) => t.stream.length));
  for (const t of result.tables) {
    const kept = t.keptParts ? `, ${t.keptParts} kept from the earlier run` : '';
    lines.push(`  ${t.stream.padEnd(width)}  ${formatCount(t.rows).padStart(12)} rows  ${String(t.parts).padStart(4)} parts  ${formatBytes(t.compressedBytes)}${kept}`);
  }
  return `${lines.join('\n')}\n`;
}

function pick<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` ≥ ${min}`}, got "${value}"`);
    }
    return n;
  };
}
