import { progressOption } from '../common/options.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isSeedlineError } from '../common/errors.ts';
import { interruptSignal } from '../common/signals.ts';
import { EXIT } from '../common/exit-codes.ts';
import { MODULES } from './modules/index.ts';
import { previewEvents } from './preview.ts';
import { formatSummary } from './summary.ts';
import { DEFAULT_EVENTS_GZIP_LEVEL, transform } from './transform.ts';
import { MIN_MEMORY_BYTES } from './pipeline.ts';

/** `seedline transform`: flags → transform() / previewEvents() → summary and exit code. */
export function transformCommand(): Command {
  const moduleList = MODULES.map((m) => `  ${m.name.padEnd(10)} ${m.reads.join(', ')} → ${Object.keys(m.emits).join(', ')}`).join('\n');
  return new Command('transform')
    .description('turn a dump into events ordered by occurred_at (an events data set: one sorted stream per module)')
    .option('--dump <dir>', 'dump data set written by seedline extract', 'dump')
    .option('--out <dir>', 'events data set to write', 'events')
    .option('-m, --module <name>', 'run only this module (repeat or comma-separate; default: all); on a complete events data set of the same dump, rewrites only its stream', collectNames)
    .option('--limit <rows>', 'read at most this many rows of each table (quick iterations)', parseCount)
    .addOption(
      new Option('--memory <size>', 'memory budget: lookups, worker threads and ordering the events, e.g. 512MB, 2GB (at least 48MB)')
        .argParser(parseMemory)
        .default(512 * 1024 * 1024, '512MB'),
    )
    .addOption(new Option('--format <format>', 'dataset: write --out; json: print events as JSON lines to stdout').choices(['dataset', 'json']).default('dataset'))
    .option('--max-rejects <n>', 'stop with an error (exit code 1) when more than n rows are rejected', parseCount)
    .option('--gzip-level <n>', `gzip level 0-9 of the events parts (default: ${DEFAULT_EVENTS_GZIP_LEVEL}, fast; 6 is ~10% smaller)`, parseGzipLevel)
    .option('--workers <n>', 'worker threads running the modules (0: none; default: one per core for 200,000 rows or more)', parseCount)
    .option('--overwrite', 'replace a complete data set in --out that this dump did not produce (its own is rebuilt without it)')
    .addOption(progressOption())
    .addHelpText(
      'after',
      `\nModules:\n${moduleList}\n\n` +
        'Rows that cannot become events go to <out>/rejects/<module>.jsonl (table, key, reason, the columns at fault)\n' +
        `and are counted per module and reason; the exit code is then ${EXIT.DONE_WITH_REJECTS}.\n` +
        `--max-rejects N stops the run at the reject after N (exit code ${EXIT.ERROR}).\n` +
        '\nExamples:\n' +
        '  $ seedline transform --dump dump --out events\n' +
        '  $ seedline transform --dump dump --out events --module chat      # re-run chat alone after editing it\n' +
        '  $ seedline transform --module chat --limit 1000 --format json | jq .payload.body\n',
    )
    .action(async (flags: TransformFlags) => {
      process.exitCode = await runTransform(flags);
    });
}

interface TransformFlags {
  dump: string;
  out: string;
  module?: string[];
  limit?: number;
  memory: number;
  maxRejects?: number;
  gzipLevel?: number;
  workers?: number;
  format: 'dataset' | 'json';
  overwrite?: boolean;
  progress: 'auto' | 'lines' | 'off';
}

async function runTransform(flags: TransformFlags): Promise<number> {
  const interrupt = interruptSignal();
  try {
    const common = {
      dump: flags.dump,
      modules: flags.module,
      limit: flags.limit,
      memoryBytes: flags.memory,
      maxRejects: flags.maxRejects,
      progress: flags.progress,
    };
    if (flags.format === 'json') return await printJson(common, interrupt.signal);
    const result = await transform({ ...common, out: flags.out, overwrite: flags.overwrite, signal: interrupt.signal,
      ...(flags.gzipLevel !== undefined ? { gzipLevel: flags.gzipLevel } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
    });
    process.stdout.write(formatSummary(result));
    return result.rejects > 0 ? EXIT.DONE_WITH_REJECTS : EXIT.OK;
  } finally {
    interrupt.dispose();
  }
}

/** JSON lines on stdout (summary on stderr); a closed pipe (`| head`) ends it quietly. */
async function printJson(
  options: { dump: string; modules?: string[]; limit?: number; memoryBytes: number; maxRejects?: number; progress: 'auto' | 'lines' | 'off' },
  interrupt: AbortSignal,
): Promise<number> {
  const pipeClosed = new AbortController();
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') pipeClosed.abort();
  };
  process.stdout.on('error', onError);
  try {
    const result = await previewEvents({
      ...options,
      signal: AbortSignal.any([interrupt, pipeClosed.signal]),
      write: (line) => {
        if (pipeClosed.signal.aborted || process.stdout.write(line)) return;
        return new Promise<void>((resolve) => {
          process.stdout.once('drain', resolve);
          pipeClosed.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      },
    });
    process.stderr.write(formatSummary(result));
    return result.rejects > 0 ? EXIT.DONE_WITH_REJECTS : EXIT.OK;
  } catch (err) {
    if (pipeClosed.signal.aborted && isSeedlineError(err, 'INTERRUPTED')) return EXIT.OK;
    throw err;
  } finally {
    process.stdout.off('error', onError);
  }
}

function collectNames(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function parseGzipLevel(value: string): number {
  if (!/^[0-9]$/.test(value)) throw new InvalidArgumentError(`expected a gzip level from 0 to 9, got '${value}'`);
  return Number(value);
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number ≥ 0, got '${value}'`);
  return Number(value);
}

/** --memory: a size of at least MIN_MEMORY_BYTES. */
function parseMemory(value: string): number {
  const bytes = parseSize(value);
  if (bytes < MIN_MEMORY_BYTES) {
    throw new InvalidArgumentError(`--memory must be at least ${MIN_MEMORY_BYTES / 1024 ** 2}MB (I/O buffers, one sorted run and the merge's read blocks need that much), got '${value}'`);
  }
  return bytes;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** "512MB", "2g", "1.5GB", "1048576" → bytes (binary units). */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined || Number(match[1]) <= 0) {
    throw new InvalidArgumentError(`expected a size such as 512MB or 2GB, got '${value}'`);
  }
  return Math.floor(Number(match[1]) * unit);
}
