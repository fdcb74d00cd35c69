import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mssqlConnection } from './mssql-config.ts';
import { rangeSetupSql } from './mssql-consistency.ts';
import { mssqlDriver } from './mssql-driver.ts';
import { MssqlSource, type MssqlSourceOptions } from './mssql-source.ts';
import type { RowBatch, TableInfo } from './source.ts';

/**
 * The SQL Server risks of issue 17 (and the types of issue 16), on a real server: runs when
 * MSSQL_URL points at a server where the login may create a database, listed as skipped
 * otherwise. Each case is the server-side half of a unit test in mssql-*.test.ts; MSSQL.md
 * lists which case holds which risk.
 *
 *   MSSQL_URL='mssql://sa:Passw0rd!@localhost:1433/master?trustServerCertificate=true' npx vitest run extractor/mssql-server.test.ts
 */
const MSSQL_URL = process.env.MSSQL_URL;
const title = MSSQL_URL ? 'SQL Server risks (issue 17)' : 'SQL Server risks (issue 17) (SKIPPED: set MSSQL_URL=mssql://sa:password@host:1433/master?trustServerCertificate=true to run it)';

describe.skipIf(!MSSQL_URL)(title, () => {
  const name = `seedline_r_${randomBytes(6).toString('hex')}`;
  let admin: sql.ConnectionPool;
  let pool: sql.ConnectionPool;
  let url: string;
  const open = async (o: Partial<MssqlSourceOptions> = {}) => {
    const source = new MssqlSource({ url, sourceTimezone: 'UTC', ...o });
    await source.connect();
    return source;
  };
  const readAll = async (source: MssqlSource, table: TableInfo, batchRows = 100): Promise<RowBatch[]> => {
    const out: RowBatch[] = [];
    for await (const b of source.readRange(table, {}, { batchRows })) out.push(b);
    return out;
  };

  beforeAll(async () => {
    admin = new sql.ConnectionPool(mssqlConnection(MSSQL_URL!).config);
    await admin.connect();
    // A Latin1 database, so that a Greek varchar key is outside its default code page.
    await admin.request().batch(`CREATE DATABASE [${name}] COLLATE Latin1_General_CI_AS; ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON;`);
    const u = new URL(MSSQL_URL!);
    u.pathname = `/${name}`;
    url = u.toString();
    pool = new sql.ConnectionPool(mssqlConnection(url).config);
    await pool.connect();
    await pool.request().batch(`
      CREATE TABLE dbo.clr (id int PRIMARY KEY, g geography, m geometry, h hierarchyid, x xml, v sql_variant, t time(7),
        old text, oldn ntext, img image, rv rowversion, sd smalldatetime, d2 datetime2(3), mo money, smo smallmoney);
      INSERT INTO dbo.clr (id, g, m, h, x, v, t, old, oldn, img, sd, d2, mo, smo) VALUES
        (1, geography::Point(60.17, 24.94, 4326), geometry::STGeomFromText('POINT (1 2)', 0), hierarchyid::Parse('/1/2/'), N'<a b="1">å</a>',
         CONVERT(sql_variant, 42), '23:59:59.9999999', 'legacy', N'åäö', 0x00ff, '2079-06-06T23:59:00', '2021-03-28T03:30:00.123',
         922337203685477.5807, -214748.3648),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
      CREATE TABLE dbo.org (node hierarchyid PRIMARY KEY, label nvarchar(20) NOT NULL);
      INSERT INTO dbo.org VALUES (hierarchyid::Parse('/'), N'root'), (hierarchyid::Parse('/1/'), N'a'), (hierarchyid::Parse('/1/1/'), N'a1'), (hierarchyid::Parse('/2/'), N'b');
      CREATE TABLE dbo.greek (code varchar(10) COLLATE Greek_CI_AS NOT NULL PRIMARY KEY, v int NOT NULL);
      INSERT INTO dbo.greek VALUES ('Α1', 1), ('Β2', 2), ('Γ3', 3), ('Ω4', 4), ('Ω5', 5);
      CREATE TABLE dbo.desckey (a int NOT NULL, b int NOT NULL, CONSTRAINT PK_desckey PRIMARY KEY (a DESC, b));
      WITH n AS (SELECT TOP (500) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) - 1 AS g FROM sys.all_objects)
      INSERT INTO dbo.desckey SELECT g / 10, g % 10 FROM n;
      CREATE TABLE dbo.big (id int PRIMARY KEY, body nvarchar(max) NOT NULL);
      WITH n AS (SELECT TOP (40) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_objects)
      INSERT INTO dbo.big SELECT g, REPLICATE(CONVERT(nvarchar(max), N'x'), 50000) FROM n;
      CREATE TABLE dbo.heap (v int NOT NULL);
      WITH n AS (SELECT TOP (20000) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_objects a CROSS JOIN sys.all_objects b)
      INSERT INTO dbo.heap SELECT g FROM n;
      CREATE TABLE dbo.ddl (id int PRIMARY KEY, v int NOT NULL);
      WITH n AS (SELECT TOP (100) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_objects)
      INSERT INTO dbo.ddl SELECT g, g FROM n;
      CREATE TABLE dbo.pages (id int PRIMARY KEY, v int NOT NULL);
      WITH n AS (SELECT TOP (1000) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_objects a CROSS JOIN sys.all_objects b)
      INSERT INTO dbo.pages SELECT g, g FROM n;`);
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await admin?.request().batch(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${name}];`).catch(() => {});
    await admin?.close();
  });

  it('item 1: no sys.types row has user_type_id 240, and every CLR-typed column is described and read', async () => {
    expect((await pool.request().query('SELECT * FROM sys.types WHERE user_type_id = 240')).recordset).toHaveLength(0);
    const source = await open();
    try {
      const t = await source.describeTable('dbo.clr');
      expect(t.columns.map((c) => `${c.name}:${c.sqlType}:${c.kind}`)).toEqual([
        'id:int:int32', 'g:geography:bytes', 'm:geometry:bytes', 'h:hierarchyid:string', 'x:xml:string', 'v:sql_variant:string', 't:time(7):string',
        'old:text:string', 'oldn:ntext:string', 'img:image:bytes', 'rv:rowversion:bytes', 'sd:smalldatetime:timestamp', 'd2:datetime2(3):timestamp', 'mo:money:decimal', 'smo:smallmoney:decimal',
      ]);
      const [batch] = await readAll(source, t);
      const [one, two] = batch!.rows;
      const wkbPoint = (x: number, y: number) => Buffer.concat([Buffer.from([1, 1, 0, 0, 0]), Buffer.from(new Float64Array([x, y]).buffer)]);
      expect(one![1]).toEqual(wkbPoint(24.94, 60.17)); // geography WKB is longitude, latitude
      expect(one![2]).toEqual(wkbPoint(1, 2));
      expect(one!.slice(3, 10)).toEqual(['/1/2/', '<a b="1">å</a>', 'int:42', '23:59:59.9999999', 'legacy', 'åäö', Buffer.from([0, 255])]);
      expect(Buffer.isBuffer(one![10]) && (one![10] as Buffer).length).toBe(8);
      expect(one!.slice(11)).toEqual([String(Date.UTC(2079, 5, 6, 23, 59) * 1000), String(BigInt(Date.UTC(2021, 2, 28, 3, 30, 0, 123)) * 1000n), '922337203685477.5807', '-214748.3648']);
      expect(two!.filter((v, i) => i !== 0 && i !== 10).every((v) => v === null)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('item 2: SET LOCK_TIMEOUT sent as a batch is in force inside a page request (sp_executesql); sent through sp_executesql it is not', async () => {
    const driver = mssqlDriver(mssqlConnection(url).config);
    await driver.connect();
    try {
      const param = [{ name: 'p', type: sql.Int(), value: 1 }];
      const tx = await driver.begin('SNAPSHOT');
      await tx.batch(rangeSetupSql(1234));
      const inPage = await tx.query({ text: 'SELECT @@LOCK_TIMEOUT, s.deadlock_priority FROM sys.dm_exec_sessions AS s WHERE s.session_id = @@SPID AND @p = 1', params: param });
      expect(inPage).toEqual([[1234, -5]]);
      await tx.commit();
      // The old way, for the record: the SET reverts when sp_executesql returns.
      const old = await driver.begin('SNAPSHOT');
      await old.query({ text: 'SET LOCK_TIMEOUT 4321', params: [] });
      expect(await old.query({ text: 'SELECT @@LOCK_TIMEOUT WHERE @p = 1', params: param })).not.toEqual([[4321]]);
      await old.commit();
    } finally {
      await driver.close();
    }
  });

  it('items 3 and 13.1: an index rebuilt during a SNAPSHOT range read stops it with error 3961, mapped and named', async () => {
    const source = await open({ maxTransactionMs: 3_600_000 });
    try {
      const t = await source.describeTable('dbo.pages');
      const gen = source.readRange(t, {}, { batchRows: 100 });
      expect((await gen.next()).value!.rows).toHaveLength(100);
      await pool.request().batch('ALTER INDEX ALL ON dbo.pages REBUILD');
      await expect(gen.next()).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringMatching(/dbo\.pages was changed by DDL/), cause: expect.objectContaining({ number: 3961 }) });
    } finally {
      await source.close();
    }
  });

  it('item 3: DDL between two transactions of a range (ALTER TABLE) stops the read instead of mixing before and after', async () => {
    const source = await open({ maxTransactionMs: 0 });
    try {
      const t = await source.describeTable('dbo.ddl');
      const gen = source.readRange(t, {}, { batchRows: 10 });
      expect((await gen.next()).value!.rows).toHaveLength(10);
      await pool.request().batch('ALTER TABLE dbo.ddl ADD extra int NULL');
      await expect(gen.next()).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringMatching(/dbo\.ddl was changed by DDL/) });
    } finally {
      await source.close();
    }
  });

  it('item 3: a range older than maxTransactionMs goes on in new transactions, each recorded, every row once', async () => {
    const source = new MssqlSource({ url, maxTransactionMs: 0 });
    const snapshot = await source.connect();
    try {
      const t = await source.describeTable('dbo.pages');
      const ids = (await readAll(source, t, 300)).flatMap((b) => b.rows.map((r) => r[0]));
      expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      const log = (snapshot.rangeTransactions as Record<string, { after?: string[]; lockTimeoutMs: number }[]>)['dbo.pages']!;
      expect(log.map((x) => x.after)).toEqual([undefined, ['300'], ['600'], ['900']]);
      expect(log.every((x) => x.lockTimeoutMs === 10_000)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('item 4: a descending composite key is read in index order across pages, each row once', async () => {
    const source = await open();
    try {
      const t = await source.describeTable('dbo.desckey');
      const rows = (await readAll(source, t, 7)).flatMap((b) => b.rows.map((r) => `${r[0]}/${r[1]}`));
      expect(rows).toHaveLength(500);
      expect(new Set(rows).size).toBe(500);
      expect(rows.slice(0, 3)).toEqual(['49/0', '49/1', '49/2']);
    } finally {
      await source.close();
    }
  });

  it('item 5: a heap read stopped after one batch ends its transaction; close() returns and the pool is usable', async () => {
    const source = await open();
    const t = await source.describeTable('dbo.heap');
    const gen = source.readRange(t, {}, { batchRows: 100 });
    expect((await gen.next()).value!.rows).toHaveLength(100);
    await gen.return(undefined);
    expect(await source.countRows(t)).toMatchObject({ rows: 20_000 });
    await source.close(); // hung before: the refused rollback kept the connection
  });

  it('item 7: a Greek varchar key in a Latin1 database pages one row at a time, each row once', async () => {
    const source = await open();
    try {
      const t = await source.describeTable('dbo.greek');
      const codes = (await readAll(source, t, 1)).flatMap((b) => b.rows.map((r) => r[0]));
      expect(codes).toEqual(['Α1', 'Β2', 'Γ3', 'Ω4', 'Ω5']);
    } finally {
      await source.close();
    }
  });

  it('item 8: pages of a table with 100 KB values hold about pageBytes; a value over the limit is refused by table, key and column', async () => {
    const source = await open({ pageBytes: 1_000_000 });
    try {
      const t = await source.describeTable('dbo.big');
      const batches = await readAll(source, t, 1000);
      expect(batches.reduce((n, b) => n + b.rows.length, 0)).toBe(40);
      expect(Math.max(...batches.map((b) => b.rows.length))).toBeLessThanOrEqual(10);
    } finally {
      await source.close();
    }
    const small = await open({ maxValueBytes: 1000 });
    try {
      const t = await small.describeTable('dbo.big');
      await expect(readAll(small, t)).rejects.toMatchObject({ code: 'VALUE_TOO_LARGE', context: { table: 'dbo.big', column: 'body', option: 'max-value-mb' } });
    } finally {
      await small.close();
    }
  });

  it('item 9: the statement timeout covers the whole statement, not only the first row', async () => {
    const driver = mssqlDriver(mssqlConnection(url, { statementTimeoutMs: 60_000 }).config);
    await driver.connect();
    try {
      // The first packet comes at once (RAISERROR WITH NOWAIT flushes it), which stops tedious' own
      // timer; the statement then runs for 5 s more.
      const started = Date.now();
      const text = "SELECT 1; RAISERROR('first packet', 0, 1) WITH NOWAIT; WAITFOR DELAY '00:00:05'; SELECT 2";
      const err = await driver.query({ text, params: [] }, { timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ETIMEOUT' });
      expect(Date.now() - started).toBeLessThan(4_500);
    } finally {
      await driver.close();
    }
  });

  it('item 10: a missing table whose name contains "Ssl" is TABLE_NOT_FOUND; a hierarchyid key pages in order', async () => {
    const source = await open();
    try {
      await expect(source.describeTable('dbo.SslCertificates')).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
      const t = await source.describeTable('dbo.org');
      const labels = (await readAll(source, t, 1)).flatMap((b) => b.rows.map((r) => r[1]));
      expect(labels).toEqual(['root', 'a', 'a1', 'b']);
    } finally {
      await source.close();
    }
  });
});
