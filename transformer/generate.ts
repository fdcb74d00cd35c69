import { join } from 'node:path';
import { SeedlineError, isSeedlineError, messageOf } from '../common/errors.ts';
import { MANIFEST_FILE, decodeStream, readManifest, streamOf } from '../recordfile/index.ts';
import { primaryKeyJson, type PrimaryKey } from './event-id.ts';
import type { EventEncoder } from './event-encoder.ts';
import { legacySchema, rowDecoder, type LegacyRow } from './legacy-rows.ts';
import type { Lookups } from './lookups/index.ts';
import { lookupsFor, lookupTables } from './lookups/build.ts';
import type { EventModule, RowContext } from './module.ts';
import type { RejectLog } from './rejects.ts';
import { sortRecord } from './sort-record.ts';

/**
 * Reads the legacy tables of a dump and runs each module over its rows: every event becomes a
 * sort record (sort-record.ts) handed to `emit`; every reject goes to the reject log.
 * Modules run in the order given, each over the tables it reads, row after row.
 */
export interface GenerateOptions {
  readonly dump: string;
  /** The modules to run, each with its position in the full module list (for tie-breaks). */
  readonly modules: readonly { readonly module: EventModule; readonly index: number }[];
  /** At most this many rows of each table per module. */
  readonly limit?: number;
  readonly encoder: EventEncoder;
  readonly rejects: RejectLog;
  /** The lookups the modules declared, built beforehand (lookups/build.ts). */
  readonly lookups: Partial<Lookups>;
  emit(record: Buffer): Promise<void> | undefined;
  /** Called between batches; throws to stop (Ctrl-C). */
  checkpoint(): void;
  /** Updated as rows are read (progress display reads it). */
  readonly stats: GenerateStats;
}

export interface GenerateStats {
  rows: number;
  events: number;
  readonly rowsByTable: Record<string, number>;
  readonly eventsByType: Record<string, number>;
}

export function newStats(): GenerateStats {
  return { rows: 0, events: 0, rowsByTable: {}, eventsByType: {} };
}

/**
 * Fails before any work when the dump lacks a table a module reads (or one its lookups read),
 * or holds another message type.
 */
export async function checkDump(dump: string, modules: readonly EventModule[]): Promise<void> {
  const manifest = await readManifest(dump);
  if (!manifest.complete) {
    throw new SeedlineError('MANIFEST_INVALID', `${dump} is an incomplete dump: its extract did not finish`, {
      file: join(dump, MANIFEST_FILE),
      hint: 'run seedline extract again with the same output directory to finish it',
    });
  }
  for (const module of modules) {
    for (const table of [...module.reads, ...lookupTables(module.lookups)]) {
      const stream = streamOf(manifest, table, dump);
      const expected = legacySchema(table).messageType;
      if (stream.messageType !== expected) {
        throw new SeedlineError(
          'SCHEMA_INVALID',
          `${dump}: stream ${table} holds ${stream.messageType}, module ${module.name} expects ${expected}`,
          { file: join(dump, MANIFEST_FILE), table, module: module.name },
        );
      }
    }
  }
}

export async function generateEvents(options: GenerateOptions): Promise<void> {
  for (const { module, index } of options.modules) {
    const state = module.state();
    const lookups = lookupsFor(module.name, module.lookups, options.lookups);
    for (const table of module.reads) await runModuleOnTable(options, module, index, table, { state, lookups });
  }
}

async function runModuleOnTable(
  options: GenerateOptions,
  module: EventModule,
  moduleIndex: number,
  table: string,
  shared: { state: unknown; lookups: Lookups },
): Promise<void> {
  const { stats, rejects, encoder, limit } = options;
  const decoder = await rowDecoder(table);
  const pending: { reason: string; detail?: string }[] = [];
  const ctx: RowContext = {
    module: module.name,
    table,
    reject(reason, detail) {
      pending.push(detail === undefined ? { reason } : { reason, detail });
      return [];
    },
    lookups: shared.lookups,
    state: shared.state,
  };
  let read = 0;
  reading: for await (const batch of decodeStream(options.dump, table, decoder.decode)) {
    options.checkpoint();
    for (const row of batch) {
      if (limit !== undefined && read >= limit) break reading;
      read++;
      stats.rows++;
      stats.rowsByTable[table] = (stats.rowsByTable[table] ?? 0) + 1;
      const pk = primaryKeyOf(module, row, table);
      const pkJson = primaryKeyJson(pk);
      pending.length = 0;
      const drafts = runGenerator(module, row, ctx, pkJson);
      if (drafts.length > 1) checkDistinctTypes(module, table, pkJson, drafts.map((d) => d.type));
      for (let i = 0; i < drafts.length; i++) {
        const draft = drafts[i]!;
        const envelope = encoder.encode(module, table, pkJson, draft);
        const wait = options.emit(sortRecord({ occurredAt: draft.occurredAt, moduleIndex, table, pk, eventIndex: i }, envelope));
        if (wait) await wait;
        stats.events++;
        stats.eventsByType[draft.type] = (stats.eventsByType[draft.type] ?? 0) + 1;
      }
      for (const r of pending) {
        const wait = rejects.add({ module: module.name, table, pkJson, row, dropped: drafts.length === 0, ...r });
        if (wait) await wait;
      }
    }
  }
}

function primaryKeyOf(module: EventModule, row: LegacyRow, table: string): PrimaryKey {
  try {
    return module.primaryKey(row, table);
  } catch (err) {
    throw bug(module, table, 'primaryKey', err);
  }
}

function runGenerator(module: EventModule, row: LegacyRow, ctx: RowContext, pkJson: string) {
  try {
    return module.events(row, ctx);
  } catch (err) {
    throw bug(module, ctx.table, `events (row ${pkJson})`, err);
  }
}

function bug(module: EventModule, table: string, what: string, err: unknown): SeedlineError {
  if (isSeedlineError(err)) return err;
  return new SeedlineError(
    'TRANSFORM_FAILED',
    `module ${module.name} threw in ${what} on table ${table}: ${messageOf(err)}`,
    { module: module.name, table, hint: `a module must report dirty rows with ctx.reject, not throw; fix transformer/modules/${module.name}.ts` },
    { cause: err },
  );
}

/** Two events of one type from one row would get the same id. */
function checkDistinctTypes(module: EventModule, table: string, pkJson: string, types: readonly string[]): void {
  if (new Set(types).size === types.length) return;
  throw new SeedlineError(
    'TRANSFORM_FAILED',
    `module ${module.name} emitted two events of the same type for ${table} row ${pkJson} (${types.join(', ')}): their ids would collide`,
    { module: module.name, table, hint: `emit at most one event of each type per row in transformer/modules/${module.name}.ts` },
  );
}
