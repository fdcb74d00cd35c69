import type pg from 'pg';
import { SeedlineError } from '../common/errors.ts';
import type { ArrayElementKind, ColumnInfo, ColumnKind, TableInfo, TableRef } from './source.ts';
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
  interval: 'interval',
  // Identifiers that are unsigned 32-bit integers: int64 holds them all.
  oid: 'int64',
  xid: 'int64',
  cid: 'int64',
};

/**
 * Types carried as the server's text for them (`::text`, the type's output function):
 * exact, and what a reader in any language can parse with the type's documentation.
 * jsonb's text is the server's normalized form (keys sorted by length then bytes, one space
 * after `:` and `,`); json's is the text as stored. Enums, ranges and multiranges too (by typtype).
 */
export const TEXT_FORM_TYPES = new Set([
  'json', 'jsonb', 'xml', 'tsvector', 'tsquery', 'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit', 'hstore',
  'name', 'char', 'time', 'timetz', 'pg_lsn', 'tid', 'xid8',
  'regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regconfig', 'regdictionary', 'regnamespace', 'regrole', 'regcollation',
  'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle',
]);

/** What a reader needs to know about a text form, in the .proto comment. */
const TEXT_FORM_NOTES: Readonly<Record<string, string>> = {
  json: 'the text as stored',
  jsonb: 'the server’s normalized text',
  xml: 'the text as stored',
  inet: 'address/prefix (text(inet): /32 and /128 included)',
  cidr: 'address/prefix',
  hstore: 'the server’s text, "k"=>"v", ...',
  oid: 'unsigned 32-bit',
  xid: 'unsigned 32-bit',
  cid: 'unsigned 32-bit',
  xid8: 'unsigned 64-bit, decimal text',
  time: 'HH:MM:SS[.ffffff]',
  timetz: 'HH:MM:SS[.ffffff]±HH[:MM]',
};

/** Array types whose elements are read in their binary form; other arrays are cast to text[] on the server. */
export const BINARY_ARRAY_ELEMENTS: Readonly<Record<string, ArrayElementKind>> = {
  _int2: 'int32',
  _int4: 'int32',
  _int8: 'int64',
  _bool: 'bool',
  _float4: 'float',
  _float8: 'double',
  _bytea: 'bytes',
  _text: 'string',
  _varchar: 'string',
  _bpchar: 'string',
};

/** How a column of this (domain-resolved) type is carried; null: not at all. */
export function pgKind(base: string, typtype: string, element: { base: string; typtype: string } | null): { kind: ColumnKind; arrayOf?: ArrayElementKind } | null {
  if (element) {
    const native = BINARY_ARRAY_ELEMENTS[base];
    if (native) return { kind: 'array', arrayOf: native };
    // Anything else a column of the element type could hold, as the element's text.
    return pgKind(element.base, element.typtype, null) ? { kind: 'array', arrayOf: 'string' } : null;
  }
  const kind = KINDS[base];
  if (kind) return { kind };
  if (TEXT_FORM_TYPES.has(base) || typtype === 'e' || typtype === 'r' || typtype === 'm') return { kind: 'string' };
  return null;
}

/** A table as PostgreSQL knows it, plus what the adapter needs to bind its key values. */
export interface PgTableInfo extends TableInfo {
  readonly oid: number;
  /** Per primary-key column, the type to cast a key's text back to (`integer`, `text`, ...). */
  readonly keyTypes: readonly string[];
  /**
   * Column name → base type (pg_type.typname, domains resolved; an array of a domain is the
   * array of the domain's base type, `_int4`), for the binary COPY path.
   */
  readonly baseTypes: Readonly<Record<string, string>>;
  /** Column name → the base type as SQL spells it in a cast (`integer[]` for an array of a domain over integer). */
  readonly castTypes: Readonly<Record<string, string>>;
}

/**
 * A type's name for a cast, without a length: format_type says `character` for bpchar, which
 * in a cast means char(1) and would cut a key or array element to one character.
 */
const CAST_NAME = (t: string) => `CASE ${t}.typname WHEN 'bpchar' THEN 'bpchar' WHEN '_bpchar' THEN 'bpchar[]' ELSE format_type(${t}.oid, NULL) END`;

interface ColumnRow {
  name: string;
  sqltype: string;
  base: string;
  typtype: string;
  castto: string;
  nullable: boolean | string;
  elemarray: string | null;
  elemcast: string | null;
  elembase: string | null;
  elemtyptype: string | null;
  labels: string | null;
  domainof: string | null;
}

export async function listPgTables(client: pg.Client): Promise<TableRef[]> {
  const { rows } = await client.query<{ schema: string; name: string; parent: string | null; view: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind IN ('v', 'm') AS view,
            CASE WHEN c.relispartition THEN (SELECT pn.nspname || '.' || p.relname FROM pg_inherits i
              JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END AS parent
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  );
  // Every value arrives as text (postgres-source.ts TEXT_TYPES): the boolean is 't' or 'f'.
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    ...(r.parent !== null ? { partitionOf: r.parent } : {}),
    ...(String(r.view) === 't' || String(r.view) === 'true' ? { isView: true } : {}),
  }));
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
  // A partitioned table holds no rows itself: its estimate is its partitions'.
  const { rows: [rel] } = await client.query<{ oid: number; reltuples: string; bytes: string }>(
    `SELECT c.oid,
            CASE WHEN c.relkind = 'p' THEN (SELECT CASE WHEN coalesce(bool_and(p.reltuples < 0), true) THEN -1 ELSE sum(greatest(p.reltuples, 0)) END FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf) ELSE c.reltuples END AS reltuples,
            CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t WHERE t.isleaf) ELSE pg_relation_size(c.oid) END AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [ref.schema, ref.name],
  );
  const oid = Number(rel!.oid);
  const { rows: cols } = await client.query<ColumnRow>(
    `WITH RECURSIVE
     -- A domain (maybe over another domain) down to its base type.
     base(oid, base) AS (
       SELECT t.oid, t.oid FROM pg_type t
       UNION ALL
       SELECT base.oid, d.typbasetype FROM base JOIN pg_type d ON d.oid = base.base AND d.typtype = 'd'
     ),
     resolved AS (SELECT base.oid, base.base FROM base JOIN pg_type t ON t.oid = base.base AND t.typtype <> 'd')
     SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS sqltype,
            b.typname AS base, b.typtype AS typtype, ${CAST_NAME('b')} AS castto, NOT a.attnotnull AS nullable,
            ea.typname AS elemarray, ${CAST_NAME('ea')} AS elemcast, e.typname AS elembase, e.typtype AS elemtyptype,
            CASE WHEN b.typtype = 'e' THEN (SELECT string_agg(quote_literal(l.enumlabel), ', ' ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = b.oid) END AS labels,
            CASE WHEN t.typtype = 'd' THEN format_type(b.oid, NULL) END AS domainof
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN resolved r ON r.oid = t.oid
       JOIN pg_type b ON b.oid = r.base
       LEFT JOIN resolved er ON b.typcategory = 'A' AND er.oid = b.typelem
       LEFT JOIN pg_type e ON e.oid = er.base
       LEFT JOIN pg_type ea ON ea.oid = e.typarray
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
  // An array of a domain is read as the array of the domain's base type.
  const baseOf = (c: ColumnRow) => (c.elembase !== null && c.elemarray !== null ? c.elemarray : c.base);
  const columns: ColumnInfo[] = cols.map((c) => {
    const mapped = pgKind(baseOf(c), c.typtype, c.elembase !== null ? { base: c.elembase, typtype: c.elemtyptype! } : null);
    const notes = [
      c.domainof !== null ? `domain over ${c.domainof}` : '',
      c.labels !== null ? `enum labels ${c.labels}` : '',
      c.typtype === 'r' || c.typtype === 'm' ? 'the server’s text, e.g. [1,10)' : (TEXT_FORM_NOTES[c.base] ?? ''),
      c.elembase !== null && mapped?.arrayOf === 'string' && !BINARY_ARRAY_ELEMENTS[baseOf(c)] ? 'each element as its text' : '',
    ].filter(Boolean);
    return {
      name: c.name,
      sqlType: c.sqltype,
      // The driver hands out text for every type (see postgres-source.ts), booleans included.
      nullable: c.nullable === true || c.nullable === 't',
      kind: mapped?.kind ?? null,
      ...(mapped?.arrayOf ? { arrayOf: mapped.arrayOf } : {}),
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  });
  const castTo = new Map(cols.map((c) => [c.name, c.elembase !== null && c.elemcast !== null ? c.elemcast : c.castto]));
  const primaryKey = pk.map((k) => k.name);
  return {
    schema: ref.schema,
    name: ref.name,
    qualifiedName: `${ref.schema}.${ref.name}`,
    columns,
    primaryKey,
    keyTypes: primaryKey.map((k) => castTo.get(k)!),
    baseTypes: Object.fromEntries(cols.map((c) => [c.name, baseOf(c)])),
    castTypes: Object.fromEntries(castTo),
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
