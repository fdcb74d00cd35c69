import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { columnFromCatalog } from './mssql-catalog.ts';
import { countStatement, heapStatement, keysetPredicate, pageStatement, pickSplits, rangesFromSplits, sampleStatement, selectLayout } from './mssql-sql.ts';
import type { MssqlColumn, MssqlTableInfo } from './mssql-types.ts';

const col = (name: string, base: string, maxLength = 4, precision = 0, scale = 0): MssqlColumn =>
  columnFromCatalog({ name, base, maxLength, precision, scale, nullable: true });

function table(columns: readonly MssqlColumn[], primaryKey: readonly string[], extra: Partial<MssqlTableInfo> = {}): MssqlTableInfo {
  return { schema: 'dbo', name: 'Favorites', qualifiedName: 'dbo.Favorites', columns, primaryKey, estimatedRows: 1000, objectId: 7, clusteredKey: true, isView: false, ...extra };
}

const favorites = table([col('MemberId', 'int'), col('Note', 'nvarchar', 400), col('Credits', 'decimal', 9, 12, 2)], ['MemberId', 'Note']);
const keyCols = (t: MssqlTableInfo) => t.primaryKey.map((k) => t.columns.find((c) => c.name === k)!);

describe('keyset predicate', () => {
  it('writes out the full lexicographic comparison, led by a sargable bound on the first key column', () => {
    // Without the leading `k1 >= @p0`, SQL Server often cannot seek on the OR shape: every page scans from the start.
    expect(keysetPredicate(['k1'], ['@p0'], '>')).toBe('(k1 > @p0)');
    expect(keysetPredicate(['k1', 'k2'], ['@p0', '@p1'], '>')).toBe('(k1 >= @p0 AND ((k1 > @p0) OR (k1 = @p0 AND k2 > @p1)))');
    expect(keysetPredicate(['k1', 'k2', 'k3'], ['@a', '@b', '@c'], '<=')).toBe('(k1 <= @a AND ((k1 < @a) OR (k1 = @a AND k2 < @b) OR (k1 = @a AND k2 = @b AND k3 <= @c)))');
  });

  it('turns the comparisons of descending key columns around', () => {
    expect(keysetPredicate(['k1', 'k2'], ['@p0', '@p1'], '>', [true, false])).toBe('(k1 <= @p0 AND ((k1 < @p0) OR (k1 = @p0 AND k2 > @p1)))');
    expect(keysetPredicate(['k1', 'k2'], ['@u0', '@u1'], '<=', [false, true])).toBe('(k1 <= @u0 AND ((k1 < @u0) OR (k1 = @u0 AND k2 >= @u1)))');
    expect(keysetPredicate(['k1'], ['@p0'], '>', [true])).toBe('(k1 < @p0)');
  });
});

describe('page statement', () => {
  it('reads the first page with TOP and the key order, no parameters', () => {
    const s = pageStatement(favorites, favorites.columns, keyCols(favorites), undefined, undefined, 500, 1000);
    expect(s.params).toEqual([]);
    expect(s.text).toBe(
      'SELECT TOP (500) t.[MemberId] AS [c0], t.[Note] AS [c1], CONVERT(varchar(48), t.[Credits]) AS [c2], t.[MemberId] AS [k0], t.[Note] AS [k1] ' +
        'FROM [dbo].[Favorites] AS t ORDER BY t.[MemberId], t.[Note]',
    );
  });

  it('binds the bounds of a composite key with their exact types, never inlined', () => {
    const s = pageStatement(favorites, favorites.columns, keyCols(favorites), ['7', "O'Brien"], ['9', 'zz'], 100, 1000);
    expect(s.text).toContain(
      ' WHERE (t.[MemberId] >= @a0 AND ((t.[MemberId] > @a0) OR (t.[MemberId] = @a0 AND t.[Note] > @a1))) AND (t.[MemberId] <= @u0 AND ((t.[MemberId] < @u0) OR (t.[MemberId] = @u0 AND t.[Note] <= @u1))) ORDER BY t.[MemberId], t.[Note]',
    );
    expect(s.text).not.toContain("O'Brien");
    expect(s.params).toEqual([
      { name: 'a0', type: sql.Int(), value: 7 },
      { name: 'a1', type: sql.NVarChar(200), value: "O'Brien" },
      { name: 'u0', type: sql.Int(), value: 9 },
      { name: 'u1', type: sql.NVarChar(200), value: 'zz' },
    ]);
  });

  it('converts decimal, datetime and uniqueidentifier keys on the server, in the column type', () => {
    const t = table([col('Amount', 'decimal', 17, 38, 10), col('At', 'datetime2', 8, 27, 7), col('G', 'uniqueidentifier', 16), col('B', 'bigint', 8)], ['Amount', 'At', 'G', 'B']);
    const s = pageStatement(t, t.columns, keyCols(t), ['12345678901234567890.0000000001', '2021-03-28T03:30:00.1234567', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '9223372036854775807'], undefined, 10, 1000);
    expect(s.text).toContain('t.[Amount] > CONVERT(decimal(38,10), @a0)');
    expect(s.text).toContain('t.[At] > CONVERT(datetime2(7), @a1, 126)');
    expect(s.text).toContain('t.[G] > @a2');
    expect(s.text).toContain('CONVERT(varchar(48), t.[Amount]) AS [k0], CONVERT(varchar(27), t.[At], 126) AS [k1], t.[G] AS [k2], t.[B] AS [k3]');
    expect(s.params.map((p) => [p.type, p.value])).toEqual([
      [sql.VarChar(64), '12345678901234567890.0000000001'],
      [sql.VarChar(27), '2021-03-28T03:30:00.1234567'],
      [sql.UniqueIdentifier(), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'],
      [sql.BigInt(), '9223372036854775807'], // a string: tedious makes it a BigInt, exactly
    ]);
  });

  it('binds a varchar key as nvarchar and converts it in the column’s collation, so no character becomes ?', () => {
    // tedious encodes a varchar parameter in the database default code page: 'Ω' in a Greek_CI_AS column of a Latin1 database became '?'.
    const greek = columnFromCatalog({ name: 'Code', base: 'varchar', maxLength: 10, precision: 0, scale: 0, nullable: false, collation: 'Greek_CI_AS' });
    const t = table([greek], ['Code']);
    const s = pageStatement(t, t.columns, keyCols(t), ['ΩΣ'], undefined, 10, 1);
    expect(s.params[0]).toEqual({ name: 'a0', type: sql.NVarChar(10), value: 'ΩΣ' });
    expect(s.text).toContain('t.[Code] > CONVERT(varchar(10), @a0 COLLATE Greek_CI_AS)');
    const fixed = columnFromCatalog({ name: 'C', base: 'char', maxLength: 4, precision: 0, scale: 0, nullable: false, collation: 'Latin1_General_100_CI_AS_SC_UTF8' });
    const s2 = pageStatement(table([fixed], ['C']), [fixed], [fixed], ['åäö'], undefined, 10, 1);
    expect(s2.text).toContain('t.[C] > CONVERT(char(4), @a0 COLLATE Latin1_General_100_CI_AS_SC_UTF8)');
  });

  it('orders by a descending key column as the index does, in pages and in the split sample', () => {
    const t = table([col('At', 'int'), col('Id', 'int')], ['At', 'Id'], { keyDescending: [true, false] });
    const s = pageStatement(t, t.columns, keyCols(t), ['5', '1'], undefined, 10, 1);
    expect(s.text).toContain('WHERE (t.[At] <= @a0 AND ((t.[At] < @a0) OR (t.[At] = @a0 AND t.[Id] > @a1))) ORDER BY t.[At] DESC, t.[Id]');
    expect(sampleStatement(t, keyCols(t), 100).text).toMatch(/ORDER BY t\.\[At\] DESC, t\.\[Id\]$/);
  });

  it('refuses a key it cannot page by, naming the column', () => {
    const t = table([col('T', 'datetimeoffset', 10, 34, 7)], ['T']);
    expect(() => pageStatement(t, t.columns, keyCols(t), ['x'], undefined, 10, 1)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TYPE', context: expect.objectContaining({ column: 'T' }) }));
  });

  it('quotes identifiers with brackets, doubling ]', () => {
    const t = table([col('we]ird', 'int')], ['we]ird'], { schema: 'my schema', name: 'a]b' });
    expect(pageStatement(t, t.columns, keyCols(t), undefined, undefined, 1, 1).text).toContain('FROM [my schema].[a]]b] AS t ORDER BY t.[we]]ird]');
  });
});

describe('select list', () => {
  it('turns every lossy type into text on the server and guards (max) values by DATALENGTH', () => {
    const cols = [
      col('Money', 'money', 8, 19, 4),
      col('D', 'date', 3, 10, 0),
      col('Naive', 'datetime', 8, 23, 3),
      col('Off', 'datetimeoffset', 10, 34, 7),
      col('Body', 'nvarchar', -1),
      col('Blob', 'varbinary', -1),
      col('Old', 'ntext', 16),
      col('Ver', 'timestamp', 8),
    ];
    const layout = selectLayout(cols, [], 1024);
    expect(layout.list).toBe(
      [
        'CONVERT(varchar(48), t.[Money], 2) AS [c0]',
        'CONVERT(char(10), t.[D], 23) AS [c1]',
        'CONVERT(varchar(27), t.[Naive], 126) AS [c2]',
        "CONVERT(varchar(27), CONVERT(datetime2(7), SWITCHOFFSET(t.[Off], '+00:00')), 126) AS [c3]",
        'CASE WHEN DATALENGTH(t.[Body]) > 1024 THEN NULL ELSE t.[Body] END AS [c4]',
        'CASE WHEN DATALENGTH(t.[Blob]) > 1024 THEN NULL ELSE t.[Blob] END AS [c5]',
        'CASE WHEN DATALENGTH(t.[Old]) > 1024 THEN NULL ELSE CONVERT(nvarchar(max), t.[Old]) END AS [c6]',
        't.[Ver] AS [c7]',
        'DATALENGTH(t.[Body]) AS [l4]',
        'DATALENGTH(t.[Blob]) AS [l5]',
        'DATALENGTH(t.[Old]) AS [l6]',
      ].join(', '),
    );
    expect(layout.lengthAt).toEqual([-1, -1, -1, -1, 8, 9, 10, -1]);
    expect(layout.keysAt).toBe(11);
  });

  it('reads a heap in one statement without ORDER BY or NOLOCK', () => {
    const t = table([col('MemberId', 'int'), col('LoginAt', 'datetime', 8)], []);
    const s = heapStatement(t, t.columns, 10);
    expect(s.text).toBe('SELECT t.[MemberId] AS [c0], CONVERT(varchar(27), t.[LoginAt], 126) AS [c1] FROM [dbo].[Favorites] AS t');
    expect(s.text).not.toMatch(/NOLOCK|READUNCOMMITTED/i);
  });
});

describe('split points', () => {
  it('samples pages of a big table, reads a small one whole, never samples a view', () => {
    const big = table(favorites.columns, favorites.primaryKey, { estimatedRows: 2_000_000 });
    expect(sampleStatement(big, keyCols(big), 1).text).toBe(
      'SELECT t.[MemberId] AS [k0], t.[Note] AS [k1] FROM [dbo].[Favorites] AS t TABLESAMPLE SYSTEM (1.0000 PERCENT) REPEATABLE (1) ORDER BY t.[MemberId], t.[Note]',
    );
    expect(sampleStatement(big, keyCols(big), 100).text).not.toContain('TABLESAMPLE');
    expect(sampleStatement({ ...big, isView: true }, keyCols(big), 1).text).not.toContain('TABLESAMPLE');
  });

  it('picks distinct, evenly spread splits and ranges that cover everything once', () => {
    const keys = Array.from({ length: 100 }, (_, i) => [String(Math.floor(i / 10))]);
    const splits = pickSplits(keys, 4);
    expect(splits).toEqual([['2'], ['5'], ['7']]);
    expect(rangesFromSplits(splits)).toEqual([{ upTo: ['2'] }, { after: ['2'], upTo: ['5'] }, { after: ['5'], upTo: ['7'] }, { after: ['7'] }]);
    expect(pickSplits([['1'], ['1'], ['1']], 3)).toEqual([['1']]);
    expect(rangesFromSplits([])).toEqual([{}]);
  });
});

describe('count statement', () => {
  it('counts with COUNT_BIG and sums a single integer key exactly; no sum for other keys', () => {
    const t = table([col('Id', 'bigint', 8)], ['Id']);
    expect(countStatement(t, keyCols(t)).text).toBe(
      'SELECT CONVERT(varchar(20), COUNT_BIG(*)) AS [rows], CONVERT(varchar(40), SUM(CONVERT(decimal(38,0), t.[Id]))) AS [keySum] FROM [dbo].[Favorites] AS t',
    );
    expect(countStatement(favorites, keyCols(favorites)).text).toContain('NULL AS [keySum]');
  });
});
