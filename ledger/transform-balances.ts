import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Manifest } from '../recordfile/index.ts';
import type { RowOutcomes } from '../transformer/generate.ts';
import { balance, loss, ok, unaccounted, type Balance, type Term } from './balance.ts';

/** What the transform recorded in the events manifest, combined over its streams (events-info.ts). */
export interface TransformInfo {
  readonly modules?: readonly string[];
  readonly eventsByType?: Readonly<Record<string, number>>;
  readonly rowsByTable?: Readonly<Record<string, number>>;
  readonly rowsByModule?: Readonly<Record<string, Readonly<Record<string, RowOutcomes>>>>;
  readonly rejects?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly limitPerTable?: number;
  readonly skippedModules?: readonly { readonly module: string; readonly missingTables: readonly string[] }[];
}

/**
 * Per module and table it read: rows extracted = rows that became events + rows rejected (by
 * first reason) + rows the module dropped by its own rule + rows a `--limit` left unread; per
 * dump table no module reads: all of it, "read by no module". Per reject file: the rejects
 * the transform counted = the lines in the file.
 */
export async function transformBalances(dump: Manifest, info: TransformInfo, eventsDir: string): Promise<Balance[]> {
  const out: Balance[] = [];
  const byModule = info.rowsByModule;
  const readTables = new Set<string>();
  if (byModule) {
    for (const [module, tables] of Object.entries(byModule)) {
      for (const [table, o] of Object.entries(tables)) {
        readTables.add(table);
        const extracted = dump.streams[table]?.records ?? 0;
        const unread = info.limitPerTable !== undefined ? Math.max(0, extracted - info.limitPerTable) : 0;
        const terms: Term[] = [
          ok('became events', o.toEvents),
          ...Object.entries(o.rejectedByReason).sort().map(([reason, n]) => loss(`rejected: ${reason}`, n)),
          loss("dropped by the module's rule (no event, no reject)", o.dropped),
          loss(`not read (transform --limit ${info.limitPerTable})`, unread),
        ];
        if (o.read !== o.toEvents + o.rejected + o.dropped) {
          terms.push(unaccounted(`the transform read ${o.read} rows but recorded the fate of ${o.toEvents + o.rejected + o.dropped}`, 0));
        }
        out.push(
          balance('transform', `${module} ← ${table}`, { label: 'rows extracted', count: extracted }, terms, {
            missingLabel: 'extracted but never read (was the dump changed after the transform?)',
            extraLabel: 'read more rows than the dump holds (was the dump changed after the transform?)',
          }),
        );
      }
    }
  } else {
    out.push(balance('transform', 'events manifest', { label: 'per-module row counts', count: 1 }, [], { missingLabel: 'not recorded: this events data set was written by an older seedline; transform again' }));
  }
  const modules = new Set(info.modules ?? []);
  for (const [table, stream] of Object.entries(dump.streams)) {
    if (readTables.has(table) || !byModule) continue;
    const why = modules.size > 0 ? `read by no module the transform ran (${[...modules].join(', ')})` : 'read by no module';
    out.push(balance('transform', table, { label: 'rows extracted', count: stream.records }, [loss(why, stream.records)]));
  }
  for (const [module, reasons] of Object.entries(info.rejects ?? {})) {
    const counted = Object.values(reasons).reduce((n, c) => n + c, 0);
    const file = join(eventsDir, 'rejects', `${module}.jsonl`);
    const lines = await countLines(file);
    out.push(
      balance('transform', `rejects/${module}.jsonl`, { label: 'rejects the transform counted', count: counted }, [ok(lines === null ? 'lines in the file (the file is missing)' : 'lines in the file', lines ?? 0)], {
        missingLabel: 'rejects missing from the file',
        extraLabel: 'more lines in the file than the transform counted',
      }),
    );
  }
  return out;
}

async function countLines(file: string): Promise<number | null> {
  const input = createReadStream(file);
  const opened = await new Promise<boolean>((resolve) => {
    input.once('open', () => resolve(true));
    input.once('error', () => resolve(false));
  });
  if (!opened) return null;
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.trim() !== '') n++;
  return n;
}
