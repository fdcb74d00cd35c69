import type sql from 'mssql';
import type { KeyRange, KeyValue } from './source.ts';
import { isLargeValue, keyBinding, keyExpression, lengthExpression, quoteName, valueExpression, type MssqlColumn, type MssqlTableInfo } from './mssql-types.ts';

/**
 * The T-SQL text of every statement the SQL Server adapter sends, built by pure functions
 * (what the unit tests check, since there is no server here). Key values are never inlined:
 * each is a parameter declared with its column's exact type.
 */

export interface Param {
  readonly name: string;
  readonly type: sql.ISqlType;
  readonly value: string | number | boolean;
}

export interface Statement {
  readonly text: string;
  readonly params: readonly Param[];
}

/** Where each part of a result row is: values, DATALENGTHs of large values, then key texts. */
export interface SelectLayout {
  readonly list: string;
  /** Per column: the index of its DATALENGTH in the row, or -1. */
  readonly lengthAt: readonly number[];
  /** Index of the first key text. */
  readonly keysAt: number;
}

const T = 't';
const ref = (name: string) => `${T}.${quoteName(name)}`;

export function fromClause(table: Pick<MssqlTableInfo, 'schema' | 'name'>): string {
  return `${quoteName(table.schema)}.${quoteName(table.name)} AS ${T}`;
}

/** The select list: every column's value, the length of large ones, and (paged reads) the key texts. */
export function selectLayout(columns: readonly MssqlColumn[], keyColumns: readonly MssqlColumn[], maxValueBytes: number): SelectLayout {
  const items = columns.map((c, i) => `${valueExpression(c, ref(c.name), maxValueBytes)} AS [c${i}]`);
  const lengthAt = columns.map((c, i) => {
    if (!isLargeValue(c)) return -1;
    items.push(`${lengthExpression(ref(c.name))} AS [l${i}]`);
    return items.length - 1;
  });
  const keysAt = items.length;
  keyColumns.forEach((c, i) => items.push(`${keyExpression(c, ref(c.name))} AS [k${i}]`));
  return { list: items.join(', '), lengthAt, keysAt };
}

/**
 * The full lexicographic comparison of a composite key with bound values, led by a bound on
 * the first column alone so that the server can seek (an OR of branches often makes it scan):
 * `>`:  k1 >= @a0 AND ((k1 > @a0) OR (k1 = @a0 AND k2 > @a1))
 * `<=`: k1 <= @u0 AND ((k1 < @u0) OR (k1 = @u0 AND k2 <= @u1))
 * A descending key column compares the other way round (the order is the index's).
 * Written out (no row constructors in T-SQL).
 */
export function keysetPredicate(keys: readonly string[], placeholders: readonly string[], op: '>' | '<=', descending: readonly boolean[] = []): string {
  const flip: Record<string, string> = { '>': '<', '<': '>', '>=': '<=', '<=': '>=' };
  const cmp = (i: number, c: string) => (descending[i] ? flip[c]! : c);
  const branches = keys.map((_, i) => {
    const last = i === keys.length - 1;
    const c = op === '>' ? '>' : last ? '<=' : '<';
    const terms = keys.slice(0, i).map((k, j) => `${k} = ${placeholders[j]}`);
    terms.push(`${keys[i]} ${cmp(i, c)} ${placeholders[i]}`);
    return `(${terms.join(' AND ')})`;
  });
  if (branches.length === 1) return branches[0]!;
  const lead = `${keys[0]} ${cmp(0, op === '>' ? '>=' : '<=')} ${placeholders[0]}`;
  return `(${lead} AND (${branches.join(' OR ')}))`;
}

/** `ORDER BY` of the key: the primary key index's own order (descending columns too). */
export function keyOrder(table: Pick<MssqlTableInfo, 'keyDescending'>, keys: readonly string[]): string {
  return keys.map((k, i) => (table.keyDescending?.[i] ? `${k} DESC` : k)).join(', ');
}

function bindKey(table: MssqlTableInfo, keyColumns: readonly MssqlColumn[], key: KeyValue, prefix: string, params: Param[]): string[] {
  if (key.length !== keyColumns.length) {
    throw new Error(`internal: key of ${key.length} values for the ${keyColumns.length}-column key of ${table.qualifiedName}`);
  }
  return keyColumns.map((c, i) => {
    const binding = keyBinding(c, table.qualifiedName);
    const name = `${prefix}${i}`;
    params.push({ name, type: binding.type, value: binding.value(key[i]!) });
    return binding.placeholder(`@${name}`);
  });
}

/**
 * One keyset page: the next `batchRows` rows after `after`, up to `range.upTo`, in key order.
 * TOP is a literal (a validated integer), so the optimizer plans for the real row count.
 */
export function pageStatement(
  table: MssqlTableInfo,
  columns: readonly MssqlColumn[],
  keyColumns: readonly MssqlColumn[],
  after: KeyValue | undefined,
  upTo: KeyValue | undefined,
  batchRows: number,
  maxValueBytes: number,
): Statement {
  if (!Number.isInteger(batchRows) || batchRows <= 0) throw new Error(`internal: batchRows must be a positive integer, got ${batchRows}`);
  const params: Param[] = [];
  const keys = keyColumns.map((c) => ref(c.name));
  const where: string[] = [];
  const desc = table.keyDescending ?? [];
  if (after) where.push(keysetPredicate(keys, bindKey(table, keyColumns, after, 'a', params), '>', desc));
  if (upTo) where.push(keysetPredicate(keys, bindKey(table, keyColumns, upTo, 'u', params), '<=', desc));
  const { list } = selectLayout(columns, keyColumns, maxValueBytes);
  const text =
    `SELECT TOP (${batchRows}) ${list} FROM ${fromClause(table)}` +
    `${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${keyOrder(table, keys)}`;
  return { text, params };
}

/** A table without a primary key: one streamed pass, in whatever order the server reads it. */
export function heapStatement(table: MssqlTableInfo, columns: readonly MssqlColumn[], maxValueBytes: number): Statement {
  return { text: `SELECT ${selectLayout(columns, [], maxValueBytes).list} FROM ${fromClause(table)}`, params: [] };
}

/**
 * Split-point sample: the keys on about `percent` % of the table's pages (TABLESAMPLE SYSTEM
 * reads only those pages), sorted by the server. REPEATABLE: the same plan on a rerun.
 * A small table is read whole (its keys only).
 */
export function sampleStatement(table: MssqlTableInfo, keyColumns: readonly MssqlColumn[], percent: number): Statement {
  const keys = keyColumns.map((c) => ref(c.name));
  const list = keyColumns.map((c, i) => `${keyExpression(c, ref(c.name))} AS [k${i}]`).join(', ');
  const sample = percent < 100 && !table.isView ? ` TABLESAMPLE SYSTEM (${percent.toFixed(4)} PERCENT) REPEATABLE (1)` : '';
  return { text: `SELECT ${list} FROM ${fromClause(table)}${sample} ORDER BY ${keyOrder(table, keys)}`, params: [] };
}

/** The percentage of pages to sample for about `wanted` keys. */
export function samplePercent(estimatedRows: number, wanted = 20_000): number {
  return Math.min(100, Math.max(0.01, (wanted / Math.max(1, estimatedRows)) * 100));
}

/** `parts - 1` split keys spread evenly over sorted sample keys (duplicates dropped). */
export function pickSplits(sortedKeys: readonly KeyValue[], parts: number): KeyValue[] {
  const splits: KeyValue[] = [];
  for (let i = 1; i < parts; i++) {
    const key = sortedKeys[Math.floor((i * sortedKeys.length) / parts)];
    if (key && (splits.length === 0 || key.join('\0') !== splits.at(-1)!.join('\0'))) splits.push(key);
  }
  return splits;
}

/** Contiguous ranges (after, upTo] from split keys: together they cover every key once. */
export function rangesFromSplits(splits: readonly KeyValue[]): KeyRange[] {
  const ranges: KeyRange[] = [];
  let after: KeyValue | undefined;
  for (const upTo of splits) {
    ranges.push(after ? { after, upTo } : { upTo });
    after = upTo;
  }
  ranges.push(after ? { after } : {});
  return ranges;
}

/** The key sum is cheap and exact for one integer key column. */
export function sumsKey(keyColumns: readonly MssqlColumn[]): boolean {
  return keyColumns.length === 1 && ['tinyint', 'smallint', 'int', 'bigint'].includes(keyColumns[0]!.base);
}

/**
 * `verify --source`: the row count of one key range (the whole table when unbounded), and for
 * a single integer key the sum of its values (decimal(38,0): no overflow), in one scan.
 * COUNT_BIG: a count may pass 2^31. A big table is counted range by range: a COUNT sends
 * nothing until it is done, and each statement must end within the statement timeout.
 */
export function countStatement(table: MssqlTableInfo, keyColumns: readonly MssqlColumn[], range: KeyRange = {}): Statement {
  const sum = sumsKey(keyColumns) ? `CONVERT(varchar(40), SUM(CONVERT(decimal(38,0), ${ref(keyColumns[0]!.name)})))` : 'NULL';
  const params: Param[] = [];
  const keys = keyColumns.map((c) => ref(c.name));
  const desc = table.keyDescending ?? [];
  const where: string[] = [];
  if (range.after) where.push(keysetPredicate(keys, bindKey(table, keyColumns, range.after, 'a', params), '>', desc));
  if (range.upTo) where.push(keysetPredicate(keys, bindKey(table, keyColumns, range.upTo, 'u', params), '<=', desc));
  const text = `SELECT CONVERT(varchar(20), COUNT_BIG(*)) AS [rows], ${sum} AS [keySum] FROM ${fromClause(table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return { text, params };
}

/**
 * The average bytes of a row's large values ((max), text, ntext, image, xml, spatial), from the
 * same page sample as the split points: tables with large values start at small pages.
 */
export function largeValueBytesStatement(table: MssqlTableInfo, columns: readonly MssqlColumn[], percent: number): Statement | null {
  const large = columns.filter(isLargeValue);
  if (large.length === 0) return null;
  const sum = large.map((c) => `ISNULL(CONVERT(float, ${lengthExpression(ref(c.name))}), 0)`).join(' + ');
  const sample = percent < 100 && !table.isView ? ` TABLESAMPLE SYSTEM (${percent.toFixed(4)} PERCENT) REPEATABLE (1)` : '';
  return { text: `SELECT AVG(${sum}) AS [bytes] FROM ${fromClause(table)}${sample}`, params: [] };
}
