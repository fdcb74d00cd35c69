import { Command, InvalidArgumentError, Option } from 'commander';
import { progressOption, type ProgressMode } from '../common/options.ts';
import { formatBytes, formatCount, formatDuration } from '../common/progress.ts';
import { interruptSignal } from '../common/signals.ts';
import { EXIT } from '../common/exit-codes.ts';
import { DEFAULT_MAX_PART_BYTES } from '../recordfile/index.ts';
import { loadExtractConfig, type ExtractConfig } from './config.ts';
import { DEFAULT_CHUNK } from './chunk-sizer.ts';
import { extract, DEFAULT_CONCURRENCY, DEFAULT_GZIP_LEVEL, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, type ExtractResult } from './extract.ts';
import { REDO_HINT, describeSpans } from './snapshots.ts';

interface Flags {
  source?: string;
  out?: string;
  sourceTimezone?: string;
  config?: string;
  schemas?: string;
  gzipLevel?: number;
  batchRows?: number;
  concurrency?: number;
  maxRowsPerSecond?: number;
  statementTimeout?: number;
  lockTimeout?: number;
  redoPartial?: boolean;
  maxPartMb?: number;
  overwrite?: boolean;
  resume?: boolean;
  allowReadCommitted?: boolean;
  maxValueMb?: number;
  progress: ProgressMode;
}

/** `seedline extract`: flags → extract() → a summary. */
export function extractCommand(): Command {
  return new Command('extract')
    .description(
      'dump tables of the legacy database to gzipped protobuf record files (one stream per table).\n' +
        'Read-only and consistent (PostgreSQL: one snapshot for the whole run; SQL Server: one SNAPSHOT transaction\n' +
        'per key range at a time, see extractor/MSSQL.md); each table must match its reviewed schemas/legacy/<Table>.proto.',
    )
    .argument('[tables...]', 'tables to extract, e.g. dbo.Members dbo.Messages, or patterns such as \'dbo.*\' (partitions left out: their partitioned table reads them) (default: the config file\'s "tables")')
    .addOption(new Option('--source <url>', 'source database, postgres://user:password@host:5432/database').env('SEEDLINE_SOURCE'))
    .option('--out <dir>', 'dump directory (default: "dump")')
    .option('--source-timezone <zone>', 'IANA zone the legacy server wrote local times in (required when a table has timestamp columns without zone)')
    .option('--config <file>', 'JSON config file: source, sourceTimezone, out, tables (per table "proto", "exclude", "mask")')
    .option('--schemas <dir>', 'directory of the reviewed .proto files, as `seedline schema --out` wrote them (default: the config\'s "schemasDir", else schemas/legacy)')
    .option('--gzip-level <n>', `gzip level 0-9 (default: ${DEFAULT_GZIP_LEVEL})`, intArg(0, 9))
    .option('--batch-rows <n>', `rows per statement, fixed (default: adapts between ${DEFAULT_CHUNK.minRows} and ${DEFAULT_CHUNK.maxRows} so each statement takes 1-2 s)`, intArg(1))
    .option('--concurrency <n>', `connections reading key ranges in parallel (PostgreSQL: sharing one snapshot) (default: ${DEFAULT_CONCURRENCY}, gentle on production)`, intArg(1))
    .option('--max-rows-per-second <n>', 'read at most this many rows per second, all connections together (default: unlimited)', intArg(1))
    .option('--statement-timeout <seconds>', `cancel a statement that runs longer (default: ${DEFAULT_STATEMENT_TIMEOUT_MS / 1000})`, intArg(1))
    .option('--lock-timeout <seconds>', `wait at most this long for each table's lock at the start (held until the end, so TRUNCATE / ALTER TABLE wait for the dump) (default: ${DEFAULT_LOCK_TIMEOUT_MS / 1000})`, intArg(1))
    .option('--max-part-mb <n>', `close a part once it holds this many MB before compression (default: ${DEFAULT_MAX_PART_BYTES / 1024 / 1024}); resume redoes at most one part per worker`, intArg(1))
    .option('--overwrite', 'replace a complete dump in --out')
    .option('--resume', 'continue an interrupted dump: keep its complete parts, read the rest (options must match the first run)')
    .option('--redo-partial', 'with --resume: read tables the interrupted run left half done again whole, so each table is one snapshot')
    .option('--allow-read-committed', 'MS SQL: read with READ COMMITTED when the database does not allow SNAPSHOT isolation (recorded in the manifest)')
    .option('--max-value-mb <n>', 'MS SQL: refuse a single (max)/text/image/xml value larger than this, naming table, key and column (default: 16)', intArg(1))
    .addOption(progressOption())
    .addHelpText(
      'after',
      '\nThe password can come from the environment: SEEDLINE_SOURCE, PGPASSWORD, or ${VAR} in the config file.\n' +
        'It is never printed or written to the manifest.\n' +
        '\nExamples:\n' +
        '  $ seedline extract dbo.Members dbo.Messages \\\n' +
        '      --source postgres://reader@legacy-db:5432/dating --source-timezone Europe/Helsinki --out dump\n' +
        '  $ seedline extract --config seedline.json --max-rows-per-second 20000   # gentle on a busy server\n' +
        '  $ seedline extract --config seedline.json --resume     # after Ctrl-C or a crash: continue where it stopped\n',
    )
    .action(async (tables: string[], flags: Flags) => {
      const config: ExtractConfig = flags.config ? await loadExtractConfig(flags.config) : {};
      const interrupt = interruptSignal(() => process.stderr.write('\nstopping: finishing nothing half-way (Ctrl-C again to quit at once)\n'));
      try {
        const source = flags.source ?? config.source ?? '';
        const sourceTimezone = flags.sourceTimezone ?? config.sourceTimezone;
        const schemasDir = flags.schemas ?? config.schemasDir;
        const result = await extract({
          source,
          tables: tables.length ? tables : (config.tables ?? []),
          out: flags.out ?? config.out ?? 'dump',
          ...(sourceTimezone !== undefined ? { sourceTimezone } : {}),
          ...(schemasDir !== undefined ? { schemasDir } : {}),
          ...pick('gzipLevel', flags.gzipLevel ?? config.gzipLevel),
          ...pick('batchRows', flags.batchRows ?? config.batchRows),
          ...pick('concurrency', flags.concurrency ?? config.concurrency),
          ...pick('maxRowsPerSecond', flags.maxRowsPerSecond ?? config.maxRowsPerSecond),
          ...pick('maxPartBytes', flags.maxPartMb !== undefined ? flags.maxPartMb * 1024 * 1024 : undefined),
          ...pick('statementTimeoutMs', flags.statementTimeout !== undefined ? flags.statementTimeout * 1000 : undefined),
          ...pick('lockTimeoutMs', flags.lockTimeout !== undefined ? flags.lockTimeout * 1000 : undefined),
          ...(flags.redoPartial ? { redoPartial: true } : {}),
          overwrite: flags.overwrite ?? false,
          resume: flags.resume ?? false,
          allowReadCommitted: flags.allowReadCommitted ?? false,
          ...pick('maxValueBytes', flags.maxValueMb !== undefined ? flags.maxValueMb * 1024 * 1024 : undefined),
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
    const repaired = Object.entries(t.loneSurrogatesReplaced).map(([column, n]) => `${column} ${formatCount(n)}`);
    if (repaired.length) lines.push(`    note: half-emoji (lone surrogates) replaced by U+FFFD in ${repaired.join(', ')} values`);
  }
  for (const note of result.notes) lines.push(`  note: ${note}`);
  const spans = describeSpans(result.snapshotSpans);
  for (const span of spans) lines.push(`  note: ${span}`);
  if (spans.length) lines.push(`    ${REDO_HINT}`);
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
