import { quoteIdent, type PgTableInfo } from './postgres-catalog.ts';
import type { KeyValue } from './source.ts';

/**
 * One keyset page of a table as SQL: `WHERE (key) > (after) AND (key) <= (upTo) ORDER BY key
 * LIMIT n`, never OFFSET; a composite key with the full row comparison. Each key column's
 * text is appended to the select list (the row's KeyValue). How a key value gets into the
 * statement is the caller's: a bind parameter, or — for COPY, which takes none — a literal.
 * Either way it is cast to the column's exact type, so the server does the comparison.
 */
export interface KeysetPage {
  readonly after?: KeyValue;
  readonly upTo?: KeyValue;
  readonly limit: number;
  /**
   * Stop the page once the rows before a row hold this many bytes of the `wide` columns
   * (keysetSelect): a page is then at most this plus one row, however large its values.
   */
  readonly maxBytes?: number;
  /** SQL giving a row's bytes in its unbounded columns (wideColumnsBytes); with maxBytes. */
  readonly wide?: string;
}

/** Turns one key value (its text) into SQL that means it, cast to `type`. */
export type BindKey = (value: string, type: string) => string;

export function keysetSelect(info: PgTableInfo, select: string, page: KeysetPage, bind: BindKey): string {
  // Qualified: an output column of the same name must never be what ORDER BY / WHERE mean.
  const keys = info.primaryKey.map((k) => `t.${quoteIdent(k)}`);
  const keyList = `(${keys.join(', ')})`;
  const tuple = (key: KeyValue) => `(${key.map((v, i) => bind(v, info.keyTypes[i]!)).join(', ')})`;
  const where: string[] = [];
  if (page.after) where.push(`${keyList} > ${tuple(page.after)}`);
  if (page.upTo) where.push(`${keyList} <= ${tuple(page.upTo)}`);
  const from = `${quoteIdent(info.schema)}.${quoteIdent(info.name)} AS t`;
  const filter = `${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${keys.join(', ')} LIMIT ${Math.floor(page.limit)}`;
  const keyText = keys.map((k) => `${k}::text`).join(', ');
  if (page.maxBytes === undefined || !page.wide) return `SELECT ${select}, ${keyText} FROM ${from}${filter}`;
  // The same page, cut where the running size of the wide values reaches maxBytes. The sizes
  // come from the values' headers (octet_length does not detoast), and only the rows
  // returned are detoasted and sent.
  const before = `coalesce(sum(${page.wide}) OVER (ORDER BY ${keys.join(', ')} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)`;
  return (
    `SELECT ${select}, ${keyText} FROM (SELECT t.*, ${before} AS "seedline$before" FROM ${from}${filter}) AS t` +
    ` WHERE t."seedline$before" < ${Math.floor(page.maxBytes)} ORDER BY ${keys.join(', ')}`
  );
}

/** Base types whose values have no small bound; their size is the header's, without detoasting. */
const OCTET_LENGTH_TYPES = new Set(['text', 'varchar', 'bpchar', 'bytea', 'citext']);
const UNBOUNDED_TYPES = new Set([...OCTET_LENGTH_TYPES, 'json', 'jsonb', 'xml']);
/** A declared length up to this (characters, 4 bytes each at most) keeps a column out: bounded. */
const BOUNDED_CHARS = 16 * 1024;

/**
 * SQL for a row's bytes in its columns of unbounded size (text, bytea, varchar without or
 * with a large length, json, xml, arrays); null when there are none (every page is then
 * bounded by rows × the widest row, and the page statement stays as it was).
 */
export function wideColumnsBytes(info: PgTableInfo): string | null {
  const terms: string[] = [];
  for (const c of info.columns) {
    const base = info.baseTypes[c.name] ?? '';
    const declared = /\((\d+)\)/.exec(c.sqlType);
    const bounded = declared !== null && Number(declared[1]) <= BOUNDED_CHARS;
    if (bounded || !(UNBOUNDED_TYPES.has(base) || base.startsWith('_'))) continue;
    const q = `t.${quoteIdent(c.name)}`;
    terms.push(`coalesce(${OCTET_LENGTH_TYPES.has(base) ? `octet_length(${q})` : `pg_column_size(${q})`}, 0)::int8`);
  }
  return terms.length ? terms.join(' + ') : null;
}

/** Binds as `$n::type`, pushing the value onto `values`. */
export function bindParameters(values: unknown[]): BindKey {
  return (value, type) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
}

/**
 * Inlines as `'value'::type`. Safe for any text (quotes doubled; the session sets
 * standard_conforming_strings, so a backslash is just a backslash; PostgreSQL text holds
 * no NUL), and exact: the server parses the literal with the type's own input function,
 * as it does a bind parameter's text.
 */
export const bindLiteral: BindKey = (value, type) => `'${value.replace(/'/g, "''")}'::${type}`;
