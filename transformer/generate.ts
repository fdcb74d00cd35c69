import { join } from 'node:path';
import { SeedlineError, isSeedlineError, messageOf } from '../common/errors.ts';
import { MANIFEST_FILE, decodePart, readManifest, streamOf, streamTotalsProblem } from '../recordfile/index.ts';
import { primaryKeyJson, type PrimaryKey } from './event-id.ts';
import type { EventEncoder } from './event-encoder.ts';
import { legacySchema, rowDecoder, rowToJson, type LegacyRow } from './legacy-rows.ts';
import type { Lookups } from './lookups/index.ts';
import { lookupClosure, lookupsFor, lookupTables } from './lookups/build.ts';
import { LOOKUPS } from './lookups/index.ts';
import { checkColumns, dumpTable } from './dump-schema.ts';
import type { EventDraft, EventModule, RowContext } from './module.ts';
import type { RejectLog, RejectRecord } from './rejects.ts';
import { planTasks, type GenerateTask, type TaskPart, type TaskSegment } from './generate-tasks.ts';
import type { SortFields } from './sort-record.ts';

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
  /** Takes one event: its place in the stream order and its envelope (both reused after it returns: copy them). */
  emit(fields: SortFields, envelope: Uint8Array): Promise<void> | undefined;
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
  /** module → table → what became of the rows it read (the ledger balances these: ledger/). */
  readonly rowsByModule: Record<string, Record<string, RowOutcomes>>;
}

/**
 * What became of the rows one module read from one table: read = toEvents + rejected + dropped.
 * `rejected`: no event, at least one reject (counted under its first reason in `rejectedByReason`);
 * `dropped`: no event and no reject (the module's own rule). A row with events and a reject
 * (only a part left out) counts in `toEvents`.
 */
export interface RowOutcomes {
  read: number;
  toEvents: number;
  rejected: number;
  dropped: number;
  readonly rejectedByReason: Record<string, number>;
}

export function newStats(): GenerateStats {
  return { rows: 0, events: 0, rowsByTable: {}, eventsByType: {}, rowsByModule: {} };
}

/** Adds `from` (a worker's or a part's outcomes) into `into`. */
export function addRowOutcomes(into: GenerateStats['rowsByModule'], from: GenerateStats['rowsByModule']): void {
  for (const [module, tables] of Object.entries(from)) {
    for (const [table, o] of Object.entries(tables)) {
      const t = ((into[module] ??= {})[table] ??= { read: 0, toEvents: 0, rejected: 0, dropped: 0, rejectedByReason: {} });
      t.read += o.read;
      t.toEvents += o.toEvents;
      t.rejected += o.rejected;
      t.dropped += o.dropped;
      for (const [reason, n] of Object.entries(o.rejectedByReason)) t.rejectedByReason[reason] = (t.rejectedByReason[reason] ?? 0) + n;
    }
  }
}

/**
 * Fails before any work when the dump lacks a table a module reads (or one its lookups read),
 * holds another message type, or its own schema of the table lacks a column a module or
 * lookup uses, or holds it with another type (dump-schema.ts).
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
      const totals = streamTotalsProblem(dump, table, stream);
      if (totals) {
        throw new SeedlineError('MANIFEST_INVALID', totals, { file: join(dump, MANIFEST_FILE), table, hint: 'the manifest does not describe the dump; run seedline verify, then extract again' });
      }
      const expected = legacySchema(table).messageType;
      if (stream.messageType !== expected) {
        throw new SeedlineError(
          'SCHEMA_INVALID',
          `${dump}: stream ${table} holds ${stream.messageType}, module ${module.name} expects ${expected}`,
          { file: join(dump, MANIFEST_FILE), table, module: module.name },
        );
      }
    }
    for (const table of module.reads) await checkColumns(dump, dumpTable(dump, manifest, table), module.columns?.[table] ?? null, `module ${module.name}`);
    for (const name of lookupClosure(module.lookups)) {
      const lookup = LOOKUPS.find((l) => l.name === name)!;
      await checkColumns(dump, dumpTable(dump, manifest, lookup.table), lookup.columns, `lookup ${name} (module ${module.name})`);
    }
  }
}

export async function generateEvents(options: GenerateOptions): Promise<void> {
  const tasks = await planTasks(options.dump, options.modules, options.limit);
  const states = new Map<EventModule, unknown>();
  for (const task of tasks) {
    const { module } = options.modules.find((m) => m.module.name === task.module)!;
    if (!states.has(module)) states.set(module, module.state());
    await runTask(task, module, {
      lookups: options.lookups,
      state: states.get(module),
      emit: (event) => options.emit(event, options.encoder.encodeView(event.module, event.table, event.pkJson, event.draft)),
      reject: (r) => options.rejects.add(r),
      checkpoint: options.checkpoint,
      stats: options.stats,
    });
  }
}

/** Where a task's output goes: the sorter and reject log here, or messages to the main thread in a worker. */
export interface TaskSink {
  readonly lookups: Partial<Lookups>;
  /** The module's state() for this task (stateful modules get one task for all their rows). */
  readonly state: unknown;
  /** Takes one event: encodes its envelope (EventEncoder) and keeps its sort record. */
  emit(event: EventToEmit): Promise<void> | undefined;
  reject(reject: RejectRecord): Promise<void> | undefined;
  checkpoint(): void;
  readonly stats: GenerateStats;
}

/**
 * One event as a sink takes it: its place in the stream order and what its envelope is made
 * of. One object per part, refilled per event: the sink is done with it when it returns.
 */
export interface EventToEmit extends SortFields {
  readonly module: EventModule;
  readonly pkJson: string;
  readonly draft: EventDraft;
}

/** Runs one module over the part(s) of one task, in order. */
export async function runTask(task: GenerateTask, module: EventModule, sink: TaskSink): Promise<void> {
  const lookups = lookupsFor(module.name, module.lookups, sink.lookups);
  for (const segment of task.segments) {
    for (const part of segment.parts) await runModuleOnPart(sink, module, task.moduleIndex, segment, part, { state: sink.state, lookups });
  }
}

async function runModuleOnPart(
  sink: TaskSink,
  module: EventModule,
  moduleIndex: number,
  segment: TaskSegment,
  part: TaskPart,
  shared: { state: unknown; lookups: Lookups },
): Promise<void> {
  const { stats } = sink;
  const { table } = segment;
  const limit = part.limit;
  if (limit === 0) return;
  const decoder = await rowDecoder(segment.source, module.columns?.[table] ?? null);
  const hidden = new Set([...module.sensitive, ...segment.source.masked]);
  const pending: { reason: string; detail?: string; columns?: readonly string[] }[] = [];
  const ctx: RowContext = {
    module: module.name,
    table,
    reject(reason, detail, columns) {
      pending.push({ reason, ...(detail !== undefined ? { detail } : {}), ...(columns ? { columns } : {}) });
      return [];
    },
    lookups: shared.lookups,
    state: shared.state,
  };
  const event: { -readonly [K in keyof EventToEmit]: EventToEmit[K] } = { occurredAt: 0n, moduleIndex, table, pk: 0, eventIndex: 0, module, pkJson: '', draft: EMPTY_DRAFT };
  let read = 0;
  // Rows and events per table and type are counted here and added to stats once per batch: a
  // keyed update of those records per row and per event cost more than the rest of the bookkeeping.
  const perType: { type: string; n: number }[] = [];
  let unflushedRows = 0;
  const outcomes: RowOutcomes = { read: 0, toEvents: 0, rejected: 0, dropped: 0, rejectedByReason: {} };
  const flush = () => {
    if (unflushedRows > 0) stats.rowsByTable[table] = (stats.rowsByTable[table] ?? 0) + unflushedRows;
    unflushedRows = 0;
    if (outcomes.read > 0) {
      addRowOutcomes(stats.rowsByModule, { [module.name]: { [table]: outcomes } });
      outcomes.read = outcomes.toEvents = outcomes.rejected = outcomes.dropped = 0;
      for (const reason of Object.keys(outcomes.rejectedByReason)) delete outcomes.rejectedByReason[reason];
    }
    for (const t of perType) if (t.n > 0) stats.eventsByType[t.type] = (stats.eventsByType[t.type] ?? 0) + t.n;
    for (const t of perType) t.n = 0;
  };
  try {
    reading: for await (const batch of decodePart(part.file, decoder.decode, { expect: part.entry })) {
      flush();
      sink.checkpoint();
      for (const row of batch) {
        if (limit !== undefined && read >= limit) break reading;
        read++;
        stats.rows++;
        unflushedRows++;
        const pk = primaryKeyOf(module, row, table);
        const pkJson = primaryKeyJson(pk);
        if (pending.length > 0) pending.length = 0;
        const drafts = runGenerator(module, row, ctx, pkJson);
        if (drafts.length > 1) checkDistinctTypes(module, table, pkJson, drafts);
        countOutcome(outcomes, drafts.length, pending);
        for (let i = 0; i < drafts.length; i++) {
          const draft = drafts[i]!;
          event.occurredAt = draft.occurredAt;
          event.pk = pk;
          event.eventIndex = i;
          event.pkJson = pkJson;
          event.draft = draft;
          const wait = sink.emit(event);
          if (wait) await wait;
          stats.events++;
          countType(perType, draft.type);
        }
        for (let i = 0; i < pending.length; i++) {
          const { reason, detail, columns } = pending[i]!;
          const wait = sink.reject({ module: module.name, table, pkJson, reason, ...(detail !== undefined ? { detail } : {}), dropped: drafts.length === 0, columns: columnsOf(row, columns, hidden) });
          if (wait) await wait;
        }
      }
    }
  } finally {
    flush();
  }
}

/** The values of the columns a reject is about, JSON-safe; sensitive ones (module, masked by extract) never. */
function columnsOf(row: LegacyRow, columns: readonly string[] | undefined, hidden: ReadonlySet<string>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const column of columns ?? []) if (!hidden.has(column) && column in row) picked[column] = row[column];
  return rowToJson(picked);
}

function countOutcome(o: RowOutcomes, events: number, rejects: readonly { reason: string }[]): void {
  o.read++;
  if (events > 0) o.toEvents++;
  else if (rejects.length === 0) o.dropped++;
  else {
    o.rejected++;
    const reason = rejects[0]!.reason;
    o.rejectedByReason[reason] = (o.rejectedByReason[reason] ?? 0) + 1;
  }
}

const EMPTY_DRAFT: EventDraft = { type: '', occurredAt: 0n, key: '', payload: {} };

/** One more event of `type`: a module emits a few types, so a short list beats a keyed lookup. */
function countType(perType: { type: string; n: number }[], type: string): void {
  for (let i = 0; i < perType.length; i++) {
    if (perType[i]!.type === type) {
      perType[i]!.n++;
      return;
    }
  }
  perType.push({ type, n: 1 });
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

/** Two events of one type from one row would get the same id. (A loop: most rows with several events have two.) */
function checkDistinctTypes(module: EventModule, table: string, pkJson: string, drafts: readonly { readonly type: string }[]): void {
  let distinct = true;
  for (let i = 1; i < drafts.length && distinct; i++) for (let j = 0; j < i; j++) if (drafts[i]!.type === drafts[j]!.type) distinct = false;
  if (distinct) return;
  const types = drafts.map((d) => d.type);
  throw new SeedlineError(
    'TRANSFORM_FAILED',
    `module ${module.name} emitted two events of the same type for ${table} row ${pkJson} (${types.join(', ')}): their ids would collide`,
    { module: module.name, table, hint: `emit at most one event of each type per row in transformer/modules/${module.name}.ts` },
  );
}
