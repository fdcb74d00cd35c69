import type { PrimaryKey } from './event-id.ts';
import type { LookupName, Lookups } from './lookups/index.ts';

/**
 * An event generator: the tables it reads, the events it emits and a function from one legacy
 * row to 0..n events. A module is a plain value (`defineModule({...})`) listed explicitly in
 * `modules/index.ts`; nothing registers itself on import.
 */

/** One event as a module produces it; the transformer wraps it in the envelope. */
export interface EventDraft<Type extends string = string> {
  /** `module.event-name`; must be a key of the module's `emits`. */
  readonly type: Type;
  /** When it happened in the legacy system, UTC microseconds. */
  readonly occurredAt: bigint;
  /** The aggregate it belongs to (usually a member id); order is guaranteed per key. */
  readonly key: string;
  /**
   * The payload message as a plain object with the exact field names of its .proto;
   * int64 fields as bigint, enums as numbers, bytes as Uint8Array.
   */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What a module may do with the row at hand besides returning events. */
export interface RowContext<State = unknown> {
  readonly module: string;
  /** The legacy table the row comes from (a module may read several). */
  readonly table: string;
  /**
   * Reports the row (or the part of it that cannot become an event) as rejected.
   * `reason` is a short kebab-case code the summary counts by (`sentinel-date`, `null-body`);
   * `detail` says what was found. Events the module still returns for the row are written:
   * `return ctx.reject('null-body')` drops the row, and a module may reject only a part.
   * `columns`: the columns the reason is about; their values go into the reject record
   * (rejects.ts), unless sensitive. Returns an empty list for that idiom.
   */
  reject(reason: string, detail?: string, columns?: readonly string[]): [];
  /**
   * Indexes over other tables (lookups/): `ctx.lookups.members.problemAt(id, at)`. Only those the
   * module declares in `lookups` are built; using another is a bug (TRANSFORM_FAILED).
   */
  readonly lookups: Lookups;
  /** What the module's `state()` returned at the start of the run (e.g. recent rows, to spot duplicates). */
  readonly state: State;
}

export interface ModuleSpec<Row, Emits extends Readonly<Record<string, string>>, State = undefined> {
  /** Short lowercase name, as in `--module chat`. */
  readonly name: string;
  readonly description: string;
  /** Legacy tables read, by bare table name: the dump stream and `seedline.legacy.<Table>`. */
  readonly reads: readonly string[];
  /** Event type → fully qualified payload message type. */
  readonly emits: Emits;
  /** The .proto file under `schemas/events/` defining the payloads; default `<name>.proto`. */
  readonly schema?: string;
  /** Lookups over other tables the module consults (built in a first pass; see lookups/). */
  readonly lookups?: readonly LookupName[];
  /**
   * Per table read, the columns the module uses. Rows carry only these (the rest is not even
   * decoded), and the transform checks before reading that the dump's own schema has each of
   * them with a compatible type (dump-schema.ts), so a dump that masked or dropped a column
   * the module does not use still transforms. Default: every column of the table's .proto.
   */
  readonly columns?: Readonly<Record<string, readonly string[]>>;
  /** Columns never written to rejects even when a reason names them (credentials, ...). */
  readonly sensitive?: readonly string[];
  /**
   * Per-run memory of the module, created once before its first row (rows arrive in table and
   * part order). Keep it bounded: it lives for the whole run.
   */
  state?(): State;
  /** The row's primary key: events' `source.primary_key`, ids and reject records use it. */
  primaryKey(row: Row, table: string): PrimaryKey;
  /** One row → 0..n events. Throwing is a bug in the module (it stops the run); report dirt with `ctx.reject`. */
  events(row: Row, ctx: RowContext<State>): readonly EventDraft<Extract<keyof Emits, string>>[];
}

/** A module with its row type erased, as the transformer handles it. */
export interface EventModule {
  readonly name: string;
  readonly description: string;
  readonly reads: readonly string[];
  readonly emits: Readonly<Record<string, string>>;
  readonly schema: string;
  readonly lookups: readonly LookupName[];
  /** Table → the columns used; null: every column of the table's .proto. */
  readonly columns: Readonly<Record<string, readonly string[]>> | null;
  readonly sensitive: readonly string[];
  /** True when the module declares `state()`: its rows must then be seen in order, on one thread. */
  readonly stateful: boolean;
  state(): unknown;
  primaryKey(row: unknown, table: string): PrimaryKey;
  events(row: unknown, ctx: RowContext): readonly EventDraft[];
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** Declares a module; checks the declaration itself so a typo fails at load, not mid-run. */
export function defineModule<Row, const Emits extends Readonly<Record<string, string>>, State = undefined>(
  spec: ModuleSpec<Row, Emits, State>,
): EventModule {
  if (!NAME.test(spec.name)) throw new Error(`module name '${spec.name}' must be lowercase kebab-case`);
  if (spec.reads.length === 0) throw new Error(`module ${spec.name} reads no table`);
  for (const table of Object.keys(spec.columns ?? {})) {
    if (!spec.reads.includes(table)) throw new Error(`module ${spec.name} lists columns of ${table}, which it does not read`);
  }
  for (const type of Object.keys(spec.emits)) {
    if (!type.startsWith(`${spec.name}.`)) {
      throw new Error(`module ${spec.name} emits '${type}': event types must start with '${spec.name}.'`);
    }
  }
  return {
    name: spec.name,
    description: spec.description,
    reads: spec.reads,
    emits: spec.emits,
    schema: spec.schema ?? `${spec.name}.proto`,
    lookups: spec.lookups ?? [],
    columns: spec.columns ?? null,
    sensitive: spec.sensitive ?? [],
    stateful: spec.state !== undefined,
    state: spec.state ? () => spec.state!() : () => undefined,
    primaryKey: spec.primaryKey as (row: unknown, table: string) => PrimaryKey,
    events: spec.events as (row: unknown, ctx: RowContext) => readonly EventDraft[],
  };
}
