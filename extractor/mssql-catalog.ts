import sql from 'mssql';
import { SeedlineError } from '../common/errors.ts';
import type { TableRef } from './source.ts';
import { closest } from './suggest.ts';
import { mssqlKind, mssqlTypeNote, mssqlTypeText, type MssqlColumn, type MssqlTableInfo } from './mssql-types.ts';
import type { Param } from './mssql-sql.ts';

/** The narrow part of the driver the catalog needs: run a statement, get rows as objects. */
export type CatalogQuery = (text: string, params?: readonly Param[]) => Promise<Record<string, unknown>[]>;

export const LIST_TABLES_SQL =
  `SELECT s.name AS [schema], o.name AS name FROM sys.objects AS o JOIN sys.schemas AS s ON s.schema_id = o.schema_id ` +
  `WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0 ORDER BY s.name, o.name`;

export const TABLE_SQL =
  `SELECT o.object_id AS objectId, CASE o.type WHEN 'V' THEN 1 ELSE 0 END AS isView, CONVERT(varchar(33), o.modify_date, 126) AS modifiedAt, ` +
  `(SELECT SUM(p.rows) FROM sys.partitions AS p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)) AS estimatedRows ` +
  `FROM sys.objects AS o JOIN sys.schemas AS s ON s.schema_id = o.schema_id WHERE s.name = @schema AND o.name = @name`;

/**
 * The base type is the system type under any alias type (sysname → nvarchar). CLR types
 * (geography, geometry, hierarchyid, user CLR types) all have system_type_id 240, which no
 * sys.types row has as user_type_id: they are looked up by their own user_type_id, and the
 * LEFT JOIN keeps any column without a row (named by TYPE_NAME, refused by that name) —
 * a column is never silently missing from the .proto and the dump.
 */
export const COLUMNS_SQL =
  `SELECT c.name AS name, COALESCE(b.name, TYPE_NAME(c.user_type_id)) AS base, c.max_length AS maxLength, c.precision AS precision, c.scale AS scale, ` +
  `c.is_nullable AS nullable, c.collation_name AS collation ` +
  `FROM sys.columns AS c LEFT JOIN sys.types AS b ON b.user_type_id = CASE WHEN c.system_type_id = 240 THEN c.user_type_id ELSE c.system_type_id END ` +
  `WHERE c.object_id = @id ORDER BY c.column_id`;

export const PRIMARY_KEY_SQL =
  `SELECT c.name AS name, CASE i.type WHEN 1 THEN 1 ELSE 0 END AS clustered, ic.is_descending_key AS descending, i.name AS indexName FROM sys.indexes AS i ` +
  `JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ` +
  `JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ` +
  `WHERE i.object_id = @id AND i.is_primary_key = 1 AND ic.key_ordinal > 0 ORDER BY ic.key_ordinal`;

export async function listMssqlTables(query: CatalogQuery): Promise<TableRef[]> {
  return (await query(LIST_TABLES_SQL)).map((r) => ({ schema: String(r.schema), name: String(r.name) }));
}

/**
 * Finds `schema.table` (or a bare `table` in any schema): exact match first, then a unique
 * case-insensitive one. TABLE_NOT_FOUND names similar tables.
 */
export async function describeMssqlTable(query: CatalogQuery, qualifiedName: string, where: string): Promise<MssqlTableInfo> {
  const tables = await listMssqlTables(query);
  const dot = qualifiedName.indexOf('.');
  const wantSchema = dot >= 0 ? qualifiedName.slice(0, dot).replace(/^\[|\]$/g, '') : null;
  const wantName = (dot >= 0 ? qualifiedName.slice(dot + 1) : qualifiedName).replace(/^\[|\]$/g, '');
  const matches = (ci: boolean) =>
    tables.filter((t) => {
      const eq = (a: string, b: string) => (ci ? a.toLowerCase() === b.toLowerCase() : a === b);
      return eq(t.name, wantName) && (wantSchema === null || eq(t.schema, wantSchema));
    });
  let found = matches(false);
  if (found.length === 0) found = matches(true);
  if (found.length !== 1) {
    const names = tables.map((t) => `${t.schema}.${t.name}`);
    const ambiguous = found.length > 1;
    const similar = ambiguous ? found.map((t) => `${t.schema}.${t.name}`) : closest(qualifiedName, names);
    throw new SeedlineError(
      'TABLE_NOT_FOUND',
      ambiguous
        ? `table ${qualifiedName} is ambiguous in ${where}: ${similar.join(', ')}`
        : `table ${qualifiedName} does not exist in ${where}${similar.length ? ` (similar: ${similar.join(', ')})` : ''}`,
      {
        table: qualifiedName,
        hint: ambiguous ? 'name the schema too, e.g. dbo.Members' : similar.length ? `did you mean ${similar[0]}?` : `the database has ${names.length} tables; check the name and the database in the source URL`,
      },
    );
  }
  const ref = found[0]!;
  const [obj] = await query(TABLE_SQL, [
    { name: 'schema', type: sql.NVarChar(128), value: ref.schema },
    { name: 'name', type: sql.NVarChar(128), value: ref.name },
  ]);
  const objectId = Number(obj!.objectId);
  const idParam = [{ name: 'id', type: sql.Int(), value: objectId }];
  const columns = (await query(COLUMNS_SQL, idParam)).map((r) => columnFromCatalog(r));
  const pk = await query(PRIMARY_KEY_SQL, idParam);
  return {
    schema: ref.schema,
    name: ref.name,
    qualifiedName: `${ref.schema}.${ref.name}`,
    columns,
    primaryKey: pk.map((r) => String(r.name)),
    estimatedRows: Number(obj!.estimatedRows ?? 0),
    objectId,
    ...(obj!.modifiedAt ? { modifiedAt: String(obj!.modifiedAt) } : {}),
    clusteredKey: pk.length > 0 && Number(pk[0]!.clustered) === 1,
    keyDescending: pk.map((r) => r.descending === true || r.descending === 1),
    ...(pk.length > 0 ? { keyIndex: String(pk[0]!.indexName) } : {}),
    isView: Number(obj!.isView) === 1,
  };
}

/** One sys.columns row → the column (kind null: no mapping, refused when read). */
export function columnFromCatalog(r: Record<string, unknown>): MssqlColumn {
  const base = String(r.base);
  const maxLength = Number(r.maxLength);
  const precision = Number(r.precision);
  const scale = Number(r.scale);
  const note = mssqlTypeNote(base, scale);
  return {
    name: String(r.name),
    sqlType: mssqlTypeText(base, maxLength, precision, scale),
    ...(note ? { note } : {}),
    ...(typeof r.collation === 'string' ? { collation: r.collation } : {}),
    nullable: r.nullable === true || r.nullable === 1,
    kind: mssqlKind(base),
    base,
    maxLength,
    precision,
    scale,
  };
}
