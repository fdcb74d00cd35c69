import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { columnFromCatalog } from './mssql-catalog.ts';
import { mssqlConnection } from './mssql-config.ts';
import { DATABASE_STATE_SQL, chooseIsolation, isolationLevel, rangeSetupSql, type DatabaseState } from './mssql-consistency.ts';
import { mapMssqlError } from './mssql-errors.ts';

const db = (over: Partial<DatabaseState> = {}): DatabaseState => ({
  name: 'Legacy', snapshotIsolationState: 1, readCommittedSnapshot: false, sourceDatabaseId: null, createdAt: '2020-01-01T00:00:00',
  updateability: 'READ_WRITE', version: '16.0.1000.6', edition: 'Developer Edition (64-bit)', ...over,
});

describe('isolation', () => {
  it('uses SNAPSHOT per range when the database allows it, and says ranges are separate snapshots', () => {
    const c = chooseIsolation(db(), false);
    expect(c).toMatchObject({ level: 'SNAPSHOT', mode: 'snapshot-per-range', sharedByAllWorkers: false });
    expect(isolationLevel(c)).toBe(sql.ISOLATION_LEVEL.SNAPSHOT);
  });

  it('stops with SOURCE_ISOLATION when SNAPSHOT is off, unless READ COMMITTED is explicitly allowed', () => {
    for (const state of [0, 2, 3]) {
      expect(() => chooseIsolation(db({ snapshotIsolationState: state }), false)).toThrow(expect.objectContaining({ code: 'SOURCE_ISOLATION', context: expect.objectContaining({ option: 'allow-read-committed' }) }));
    }
    const c = chooseIsolation(db({ snapshotIsolationState: 0, readCommittedSnapshot: true }), true);
    expect(c).toMatchObject({ level: 'READ COMMITTED', mode: 'read-committed', sharedByAllWorkers: false });
    expect(c.consistency).toMatch(/row versioning/);
    expect(isolationLevel(c)).toBe(sql.ISOLATION_LEVEL.READ_COMMITTED);
  });

  it('treats a database snapshot as one moment for all workers, and a read-only database / secondary as per range', () => {
    expect(chooseIsolation(db({ sourceDatabaseId: 5, snapshotIsolationState: 0 }), false)).toMatchObject({ mode: 'database-snapshot', sharedByAllWorkers: true, level: 'READ COMMITTED' });
    expect(chooseIsolation(db({ updateability: 'READ_ONLY', snapshotIsolationState: 0 }), false)).toMatchObject({ mode: 'read-only-database', sharedByAllWorkers: false });
  });

  it('sends the database-state query and the per-range set-up: LOCK_TIMEOUT, low deadlock priority, start time; never NOLOCK', () => {
    expect(DATABASE_STATE_SQL).toContain('snapshot_isolation_state');
    expect(DATABASE_STATE_SQL).toContain("DATABASEPROPERTYEX(d.name, 'Updateability')");
    expect(DATABASE_STATE_SQL).toContain('WHERE d.database_id = DB_ID()');
    expect(rangeSetupSql(10_000)).toBe('SET NOCOUNT ON; SET LOCK_TIMEOUT 10000; SET DEADLOCK_PRIORITY LOW; SELECT CONVERT(varchar(33), SYSUTCDATETIME(), 126) AS startedAt, @@LOCK_TIMEOUT AS lockTimeout');
    expect(() => rangeSetupSql(1.5)).toThrow();
  });
});

describe('connection URL', () => {
  it('builds the driver config with TLS, read-only intent and timeouts; the password only in the config', () => {
    const c = mssqlConnection('mssql://reader:s%40cret@db.example:1444/Legacy?encrypt=true&trustServerCertificate=true&applicationIntent=ReadOnly', { concurrency: 3, statementTimeoutMs: 5000 });
    expect(c.config).toMatchObject({
      server: 'db.example', port: 1444, database: 'Legacy', user: 'reader', password: 's@cret', requestTimeout: 5000, arrayRowMode: true,
      pool: { max: 3 },
      options: { encrypt: true, trustServerCertificate: true, readOnlyIntent: true, useUTC: true, appName: 'seedline extract' },
    });
    expect(c.redacted).toBe('mssql://db.example:1444/Legacy');
    expect(JSON.stringify({ ...c, config: undefined })).not.toContain('s@cret');
  });

  it('defaults to encrypted, certificate checked, read-write intent, port 1433', () => {
    const c = mssqlConnection('sqlserver://u:p@h/Db');
    expect(c.config).toMatchObject({ port: 1433, options: { encrypt: true, trustServerCertificate: false, readOnlyIntent: false } });
  });

  it('refuses a bad URL without echoing it (it may hold a password)', () => {
    for (const url of ['mssql://u:hunter2@h:1433/Db?encript=true', 'mssql://u:hunter2@h:1433/', 'mssql://u:hunter2@h/Db?applicationIntent=Sometimes']) {
      let caught: unknown;
      try {
        mssqlConnection(url);
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({ code: 'USAGE' });
      expect(String((caught as Error).message)).not.toContain('hunter2');
    }
  });
});

describe('error mapping', () => {
  const place = { where: 'mssql://h:1433/Legacy', user: 'reader', database: 'Legacy', table: 'dbo.Members' };
  const request = (number: number, message = 'x') => Object.assign(new Error(message), { name: 'RequestError', code: 'EREQUEST', number });

  it('maps logins, network and TLS failures', () => {
    expect(mapMssqlError(Object.assign(new Error("Login failed for user 'reader'."), { code: 'ELOGIN' }), place, 'connecting').code).toBe('SOURCE_AUTH');
    expect(mapMssqlError(Object.assign(new Error('Cannot open database "Legacy" requested by the login. The login failed.'), { code: 'ELOGIN' }), place, 'connecting').code).toBe('SOURCE_CONNECT');
    expect(mapMssqlError(Object.assign(new Error('Failed to connect to h:1433 - connect ECONNREFUSED'), { code: 'ESOCKET' }), place, 'connecting').code).toBe('SOURCE_CONNECT');
    expect(mapMssqlError(Object.assign(new Error('Failed to connect to h:1433 in 15000ms'), { code: 'ETIMEOUT' }), place, 'connecting').code).toBe('SOURCE_CONNECT');
    expect(mapMssqlError(Object.assign(new Error('self-signed certificate'), { code: 'ESOCKET' }), place, 'connecting')).toMatchObject({ code: 'SOURCE_CONNECT', context: { hint: expect.stringContaining('trustServerCertificate') } });
  });

  it('maps SQL Server error numbers', () => {
    expect(mapMssqlError(request(208, "Invalid object name 'dbo.Membrs'."), place, 'reading').code).toBe('TABLE_NOT_FOUND');
    expect(mapMssqlError(request(229), place, 'reading')).toMatchObject({ code: 'SOURCE_QUERY', context: { hint: expect.stringContaining('GRANT SELECT') } });
    expect(mapMssqlError(request(1222), place, 'reading').message).toMatch(/LOCK_TIMEOUT/);
    expect(mapMssqlError(request(3952), place, 'reading').code).toBe('SOURCE_ISOLATION');
    expect(mapMssqlError(request(976), place, 'reading').context.hint).toMatch(/applicationIntent=ReadOnly/);
    expect(mapMssqlError(Object.assign(new Error('Timeout: Request failed to complete in 120000ms'), { code: 'ETIMEOUT' }), place, 'reading dbo.Members').message).toMatch(/statement timeout/);
  });

  it('never repeats credentials found in a driver message', () => {
    const e = mapMssqlError(new Error('bad thing at mssql://reader:hunter2@h/Legacy'), place, 'reading');
    expect(e.code).toBe('SOURCE_QUERY');
    expect(e.message).not.toContain('hunter2');
  });
});

describe('catalog types', () => {
  const c = (base: string, maxLength: number, precision = 0, scale = 0) => columnFromCatalog({ name: 'x', base, maxLength, precision, scale, nullable: 1 });
  it('spells and maps every SQL Server type as the type table says, and refuses the rest', () => {
    const rows = [
      c('tinyint', 1), c('smallint', 2), c('int', 4), c('bigint', 8), c('bit', 1), c('decimal', 9, 12, 2), c('money', 8, 19, 4), c('real', 4), c('float', 8),
      c('nvarchar', 100), c('nvarchar', -1), c('char', 2), c('varbinary', 64), c('timestamp', 8), c('uniqueidentifier', 16), c('date', 3),
      c('datetime', 8), c('datetime2', 8, 27, 7), c('smalldatetime', 4), c('datetimeoffset', 10, 34, 7), c('time', 5, 16, 7), c('xml', -1), c('PhoneNumber', 40),
    ];
    expect(rows.map((r) => `${r.sqlType}:${r.kind}`)).toEqual([
      'tinyint:int32', 'smallint:int32', 'int:int32', 'bigint:int64', 'bit:bool', 'decimal(12,2):decimal', 'money:decimal', 'real:float', 'float:double',
      'nvarchar(50):string', 'nvarchar(max):string', 'char(2):string', 'varbinary(64):bytes', 'rowversion:bytes', 'uniqueidentifier:uuid', 'date:date',
      'datetime:timestamp', 'datetime2(7):timestamp', 'smalldatetime:timestamp', 'datetimeoffset(7):timestamptz', 'time(7):string', 'xml:string', 'PhoneNumber:null',
    ]);
    expect(rows[0]!.nullable).toBe(true);
  });
});

describe('MssqlSource without a server', () => {
  it('describes itself without credentials and maps a refused connection to SOURCE_CONNECT', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { MssqlSource } = await import('./mssql-source.ts');
    const source = new MssqlSource({ url: `mssql://reader:hunter2@127.0.0.1:${port}/Legacy?encrypt=false`, connectTimeoutMs: 2000 });
    expect(source.description).toEqual({ dialect: 'mssql', host: '127.0.0.1', port, database: 'Legacy' });
    const err = await source.connect().then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_CONNECT' });
    expect(String((err as Error).message)).not.toContain('hunter2');
    await source.close();
  });
});
