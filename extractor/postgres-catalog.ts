import type pg from 'pg';
import { SeedlineError } from '../common/errors.ts';
import type { ColumnInfo, ColumnKind, TableInfo, TableRef } from './source.ts';
import { closest } from './suggest.ts';

/** PostgreSQL base type name (pg_type.typname) → how seedline carries it. */
const KINDS: Record<string, ColumnKind> = {
  int2: 'int32',
  int4: 'int32',
  int8: 'int64',
  bool: 'bool',
  numeric: 'decimal',
  money: 'decimal',
  float4: 'float',
  float8: 'double',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  citext: 'string',
  bytea: 'bytes',
  uuid: 'uuid',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
};

/** A table as PostgreSQL knows it, plus what the adapter needs to bind its key values. */
export interface PgTableInfo extends TableInfo {
  readonly oid: number;
  /** Per primary-key column, the type to cast a key's text back to (`integer`, `text`, ...). */
  readonly keyTypes: readonly string[];
  /** Column name → base type (pg_type.typname, domains resolved), for the binary COPY path. */
  readonly baseTypes: Readonly<Record<string, string>>;
}

export async function listPgTables(client: pg.Client): Promise<TableRef[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  );
  return rows;
}

/**
 * Finds `schema.table` (or a bare `table` in any schema). Exact match first, then a unique
 * case-insensitive one: users type `dbo.members` for the legacy `dbo."Members"`.
 */
export async function describePgTable(client: pg.Client, qualifiedName: string, where: string): Promise<PgTableInfo> {
  const tables = await listPgTables(client);
  const dot = qualifiedName.indexOf('.');
  const wantSchema = dot >= 0 ? qualifiedName.slice(0, dot) : null;
  const wantName = dot >= 0 ? qualifiedName.slice(dot + 1) : qualifiedName;
  const matches = (ci: boolean) =>
    tables.filter((t) => {
      const eq = (a: string, b: string) => (ci ? a.toLowerCase() === b.toLowerCase() : a === b);
      return eq(t.name, wantName) && (wantSchema === null || eq(t.schema, wantSchema));
    });
  let found = matches(false);
  if (found.length === 0) found = matches(true);
  const names = tables.map((t) => `${t.schema}.${t.name}`);
  if (found.length !== 1) {
    const ambiguous = found.length > 1;
    const similar = ambiguous ? found.map((t) => `${t.schema}.${t.name}`) : closest(qualifiedName, names);
    throw new SeedlineError(
      'TABLE_NOT_FOUND',
      ambiguous
        ? `table ${qualifiedName} is ambiguous in ${where}: ${similar.join(', ')}`
        : `table ${qualifiedName} does not exist in ${where}${similar.length ? ` (similar: ${similar.join(', ')})` : ''}`,
      {
        table: qualifiedName,
        hint: ambiguous
          ? 'name the schema too, e.g. dbo.Members'
          : similar.length
            ? `did you mean ${similar[0]}?`
            : `the database has ${names.length} tables; check the name and the database in the source URL`,
      },
    );
  }
  const ref = found[0]!;
  const { rows: [rel] } = await client.query<{ oid: number; reltuples: string; bytes: string }>(
    `SELECT c.oid, c.reltuples, pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [ref.schema, ref.name],
  );
  const oid = Number(rel!.oid);
  const { rows: cols } = await client.query<{ name: string; sqltype: string; base: string; castto: string; nullable: boolean | string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS sqltype,
            b.typname AS base, format_type(b.oid, NULL) AS castto, NOT a.attnotnull AS nullable
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const { rows: pk } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [oid],
  );
  const columns: ColumnInfo[] = cols.map((c) => ({
    name: c.name,
    sqlType: c.sqltype,
    // The driver hands out text for every type (see postgres-source.ts), booleans included.
    nullable: c.nullable === true || c.nullable === 't',
    kind: KINDS[c.base] ?? null,
  }));
  const castTo = new Map(cols.map((c) => [c.name, c.castto]));
  const primaryKey = pk.map((k) => k.name);
  return {
    schema: ref.schema,
    name: ref.name,
    qualifiedName: `${ref.schema}.${ref.name}`,
    columns,
    primaryKey,
    keyTypes: primaryKey.map((k) => castTo.get(k)!),
    baseTypes: Object.fromEntries(cols.map((c) => [c.name, c.base])),
    // reltuples is -1 until the first ANALYZE; then guess from the size (~100 bytes a row).
    estimatedRows: Number(rel!.reltuples) >= 0 ? Math.round(Number(rel!.reltuples)) : Math.round(Number(rel!.bytes) / 100),
    oid,
  };
}

/** Refuses a table with a column seedline cannot carry, naming table and column. */
export function assertSupported(table: TableInfo): void {
  const bad = table.columns.filter((c) => c.kind === null);
  if (bad.length === 0) return;
  const list = bad.map((c) => `${c.name} (${c.sqlType})`).join(', ');
  throw new SeedlineError('UNSUPPORTED_TYPE', `${table.qualifiedName}: no mapping for column ${list}`, {
    table: table.qualifiedName,
    column: bad[0]!.name,
    hint: 'leave the column out in the config file, or change it in a view that casts it to a supported type',
  });
}

/** `"dbo"."Members"`: identifiers quoted, so case and odd characters survive. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
