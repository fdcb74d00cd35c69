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
  return (
    `SELECT ${select}, ${keys.map((k) => `${k}::text`).join(', ')} FROM ${quoteIdent(info.schema)}.${quoteIdent(info.name)} AS t` +
    `${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${keys.join(', ')} LIMIT ${Math.floor(page.limit)}`
  );
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
