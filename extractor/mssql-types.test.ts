import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { COLUMNS_SQL, PRIMARY_KEY_SQL, columnFromCatalog, describeMssqlTable, type CatalogQuery } from './mssql-catalog.ts';
import { pageStatement, selectLayout } from './mssql-sql.ts';
import { keyBinding, type MssqlColumn, type MssqlTableInfo } from './mssql-types.ts';
import { mapValue } from './mssql-values.ts';

const col = (name: string, base: string, maxLength: number, precision = 0, scale = 0, collation: string | null = null): MssqlColumn =>
  columnFromCatalog({ name, base, maxLength, precision, scale, nullable: true, collation });

describe('catalog: CLR-typed columns (system_type_id 240) are never dropped', () => {
  it('joins sys.types on the column’s user_type_id for CLR types, and keeps a column without a sys.types row', () => {
    // No sys.types row has user_type_id 240: an inner join on system_type_id dropped geography, geometry, hierarchyid.
    expect(COLUMNS_SQL).toContain('LEFT JOIN sys.types AS b ON b.user_type_id = CASE WHEN c.system_type_id = 240 THEN c.user_type_id ELSE c.system_type_id END');
    expect(COLUMNS_SQL).toContain('COALESCE(b.name, TYPE_NAME(c.user_type_id)) AS base');
    expect(COLUMNS_SQL).not.toMatch(/\bJOIN sys\.types AS b ON b\.user_type_id = c\.system_type_id\b/);
  });

  it('describes a table with geography, geometry, hierarchyid and a user CLR type: every column is there, the unknown one refused by name', async () => {
    const rows: Record<string, Record<string, unknown>[]> = {
      list: [{ schema: 'dbo', name: 'Places' }],
      object: [{ objectId: 9, isView: 0, estimatedRows: 10 }],
      columns: [
        { name: 'Id', base: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false, collation: null },
        { name: 'Where', base: 'geography', maxLength: -1, precision: 0, scale: 0, nullable: true, collation: null },
        { name: 'Shape', base: 'geometry', maxLength: -1, precision: 0, scale: 0, nullable: true, collation: null },
        { name: 'Node', base: 'hierarchyid', maxLength: 892, precision: 0, scale: 0, nullable: true, collation: null },
        { name: 'Phone', base: 'PhoneNumber', maxLength: 40, precision: 0, scale: 0, nullable: true, collation: null },
      ],
      pk: [{ name: 'Id', clustered: 1, descending: 0, indexName: 'PK_Places' }],
    };
    const query: CatalogQuery = async (text) =>
      text === COLUMNS_SQL ? rows.columns! : text === PRIMARY_KEY_SQL ? rows.pk! : /FROM sys\.objects AS o JOIN sys\.schemas AS s ON s\.schema_id = o\.schema_id WHERE s\.name/.test(text) ? rows.object! : rows.list!;
    const t = await describeMssqlTable(query, 'dbo.Places', 'mssql://h:1433/Db');
    expect(t.columns.map((c) => `${c.name}:${c.sqlType}:${c.kind}`)).toEqual(['Id:int:int32', 'Where:geography:bytes', 'Shape:geometry:bytes', 'Node:hierarchyid:string', 'Phone:PhoneNumber:null']);
  });
});

describe('SQL Server types of issue 16: value expressions and mapping', () => {
  const cases: [MssqlColumn, string, string][] = [
    [col('Doc', 'xml', -1), 'CASE WHEN DATALENGTH(t.[Doc]) > 100 THEN NULL ELSE CONVERT(nvarchar(max), t.[Doc]) END', 'string'],
    [col('Where', 'geography', -1), 'CASE WHEN DATALENGTH(t.[Where]) > 100 THEN NULL ELSE t.[Where].STAsBinary() END', 'bytes'],
    [col('Shape', 'geometry', -1), 'CASE WHEN DATALENGTH(t.[Shape]) > 100 THEN NULL ELSE t.[Shape].STAsBinary() END', 'bytes'],
    [col('Node', 'hierarchyid', 892), 't.[Node].ToString()', 'string'],
    [col('At', 'time', 5, 16, 7), 'CONVERT(varchar(16), t.[At])', 'string'],
    [col('Old', 'text', 16), 'CASE WHEN DATALENGTH(t.[Old]) > 100 THEN NULL ELSE CONVERT(varchar(max), t.[Old]) END', 'string'],
    [col('OldN', 'ntext', 16), 'CASE WHEN DATALENGTH(t.[OldN]) > 100 THEN NULL ELSE CONVERT(nvarchar(max), t.[OldN]) END', 'string'],
    [col('Pic', 'image', 16), 'CASE WHEN DATALENGTH(t.[Pic]) > 100 THEN NULL ELSE CONVERT(varbinary(max), t.[Pic]) END', 'bytes'],
    [col('Ver', 'timestamp', 8), 't.[Ver]', 'bytes'],
    [col('Small', 'smalldatetime', 4, 16, 0), 'CONVERT(varchar(27), t.[Small], 126)', 'timestamp'],
    [col('D2', 'datetime2', 6, 22, 3), 'CONVERT(varchar(27), t.[D2], 126)', 'timestamp'],
    [col('M', 'money', 8, 19, 4), 'CONVERT(varchar(48), t.[M], 2)', 'decimal'],
    [col('SM', 'smallmoney', 4, 10, 4), 'CONVERT(varchar(48), t.[SM], 2)', 'decimal'],
  ];
  it.each(cases.map(([c, expr, kind]) => [c.sqlType, c, expr, kind] as const))('%s', (_name, c, expr, kind) => {
    expect(c.kind).toBe(kind);
    expect(selectLayout([c], [], 100).list.split(' AS [c0]')[0]).toBe(expr);
  });

  it('sql_variant: its base type name, a colon, and the value as exact text (dates ISO, money with 4 decimals, floats round-trip, binary as 0x…)', () => {
    const v = col('Any', 'sql_variant', 8016);
    expect(v.kind).toBe('string');
    const expr = selectLayout([v], [], 100).list;
    expect(expr).toContain("CASE WHEN t.[Any] IS NULL THEN NULL ELSE CONVERT(nvarchar(128), SQL_VARIANT_PROPERTY(t.[Any], 'BaseType')) + N':' + CASE CONVERT(nvarchar(128), SQL_VARIANT_PROPERTY(t.[Any], 'BaseType'))");
    expect(expr).toContain("WHEN N'datetime' THEN CONVERT(nvarchar(40), CONVERT(datetime, t.[Any]), 126)");
    expect(expr).toContain("WHEN N'float' THEN CONVERT(nvarchar(40), CONVERT(float, t.[Any]), 3)");
    expect(expr).toContain("WHEN N'money' THEN CONVERT(nvarchar(48), CONVERT(money, t.[Any]), 2)");
    expect(expr).toContain("WHEN N'varbinary' THEN CONVERT(nvarchar(max), CONVERT(varbinary(8000), t.[Any]), 1)");
    expect(expr).toContain('ELSE CONVERT(nvarchar(max), t.[Any]) END END');
    expect(mapValue(v, 'int:42', { table: 'dbo.T' })).toBe('int:42');
    expect(mapValue(v, null, { table: 'dbo.T' })).toBeNull();
  });

  it('pages by a hierarchyid or time key, bound back in the column type', () => {
    const t: MssqlTableInfo = { schema: 'dbo', name: 'Org', qualifiedName: 'dbo.Org', columns: [col('Node', 'hierarchyid', 892), col('At', 'time', 5, 16, 7)], primaryKey: ['Node', 'At'], estimatedRows: 1, objectId: 1, clusteredKey: true, isView: false };
    const s = pageStatement(t, t.columns, t.columns, ['0x5AC0', '12:00:00.1234567'], undefined, 10, 100);
    expect(s.text).toContain('CONVERT(varchar(1800), CONVERT(varbinary(892), t.[Node]), 1) AS [k0], CONVERT(varchar(16), t.[At]) AS [k1]');
    expect(s.text).toContain('t.[Node] > CONVERT(hierarchyid, CONVERT(varbinary(892), @a0, 1))');
    expect(s.text).toContain('t.[At] > CONVERT(time(7), @a1)');
    expect(keyBinding(t.columns[0]!, 'dbo.Org').type).toEqual(sql.VarChar(1800));
  });

  it('says what a mapping loses, for the .proto comment and the manifest', () => {
    expect(col('D2', 'datetime2', 8, 27, 7).note).toMatch(/100 ns\) is cut: microseconds/);
    expect(col('D2', 'datetime2', 6, 22, 3).note).toBeUndefined();
    expect(col('O', 'datetimeoffset', 10, 34, 7).note).toMatch(/100 ns\) is cut.*offset/);
    expect(col('O', 'datetimeoffset', 8, 26, 3).note).toMatch(/offset/);
    expect(col('D', 'datetime', 8, 23, 3).note).toMatch(/1\/300 s/);
    expect(col('G', 'geography', -1).note).toMatch(/WKB .*STAsBinary.*Z and M.*SRID/);
    expect(col('V', 'sql_variant', 8016).note).toMatch(/base type/);
    expect(col('I', 'int', 4).note).toBeUndefined();
  });
});

describe('the .proto a SQL Server catalog generates', () => {
  it('carries what a mapping loses in the field comment', async () => {
    const { generateProto } = await import('./legacy-schema.ts');
    const proto = generateProto({ schema: 'dbo', name: 'Logins', qualifiedName: 'dbo.Logins', columns: [col('Id', 'int', 4), col('At', 'datetime2', 8, 27, 7)], primaryKey: ['Id'], estimatedRows: 0 });
    expect(proto).toMatch(/At = 2; \/\/ datetime2\(7\) NULL, the 7th fractional digit \(100 ns\) is cut/);
  });
});
