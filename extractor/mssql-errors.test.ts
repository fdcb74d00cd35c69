import { describe, expect, it } from 'vitest';
import { mapMssqlError, retryableInNewTransaction } from './mssql-errors.ts';

const place = { where: 'mssql://h:1433/Legacy', user: 'reader', database: 'Legacy', table: 'dbo.Members' };
/** What mssql's RequestError looks like for a server error: code EREQUEST, the error number, the server's text. */
const server = (number: number, message = 'x') => Object.assign(new Error(message), { name: 'RequestError', code: 'EREQUEST', number });
const map = (err: unknown, doing = 'reading dbo.Members') => mapMssqlError(err, place, doing);

describe('SQL Server errors that used to fall through to the generic message', () => {
  it('3961: a table altered (or an index rebuilt) during the SNAPSHOT transaction is named, with what SNAPSHOT does and what to do', () => {
    const e = map(server(3961, "Snapshot isolation transaction failed in database 'Legacy' because the object accessed by the statement has been modified by a DDL statement in another concurrent transaction since the start of this transaction."));
    expect(e).toMatchObject({ code: 'SOURCE_QUERY', context: { table: 'dbo.Members' } });
    expect(e.message).toMatch(/dbo\.Members was changed by DDL .*ALTER TABLE, ALTER INDEX/);
    expect(e.context.hint).toMatch(/--resume/);
  });

  it('the version store in tempdb (3959, 3966, 3967) says it is tempdb and what a shorter transaction does', () => {
    for (const n of [3959, 3966, 3967]) {
      const e = map(server(n));
      expect(e.code).toBe('SOURCE_QUERY');
      expect(e.message).toMatch(/version store in tempdb/);
      expect(e.context.hint).toMatch(/tempdb.*--resume/);
    }
  });

  it('3956: snapshot isolation still turning on is SOURCE_ISOLATION', () => {
    expect(map(server(3956)).code).toBe('SOURCE_ISOLATION');
  });

  it('out of space (1105 filegroup, 9002 log), out of memory (701), killed session (596)', () => {
    expect(map(server(1105)).message).toMatch(/out of space/);
    expect(map(server(9002)).message).toMatch(/out of space/);
    expect(map(server(701)).message).toMatch(/memory/);
    expect(map(server(596)).message).toMatch(/killed/);
  });

  it('207 (invalid column name) is SCHEMA_DRIFT: the table changed since its .proto was made', () => {
    expect(map(server(207, "Invalid column name 'Gender'."))).toMatchObject({ code: 'SCHEMA_DRIFT', context: { table: 'dbo.Members' } });
  });

  it('916 (no access to the database) is a permission problem with a hint', () => {
    expect(map(server(916)).context.hint).toMatch(/CREATE USER|user in the database/);
  });

  it('memory-optimized tables under SNAPSHOT (41332, 41333) name the table and the way out', () => {
    for (const n of [41332, 41333]) expect(map(server(n)).message).toMatch(/memory-optimized/);
  });

  it('Azure SQL: database unavailable (40613) and service busy (40501) say to retry later', () => {
    for (const n of [40613, 40501]) expect(map(server(n)).context.hint).toMatch(/retry|again later/i);
  });

  it('conversion errors (242, 517, 8115) name the table and say it is a bug to report', () => {
    for (const n of [242, 517, 8115]) {
      const e = map(server(n));
      expect(e.message).toMatch(/conver|overflow/i);
      expect(e.context.table).toBe('dbo.Members');
      expect(e.context.hint).toMatch(/report/);
    }
  });

  it("mssql's own EREQINPROG and EABORT are explained", () => {
    expect(map(Object.assign(new Error("Can't rollback transaction. There is a request in progress."), { code: 'EREQINPROG' })).message).toMatch(/still running/);
    expect(map(Object.assign(new Error('Transaction has been aborted.'), { code: 'EABORT' })).message).toMatch(/rolled back by the server/);
  });
});

describe('TLS is judged by the driver code, not by words in any message', () => {
  it("'Invalid object name dbo.SslCertificates' is a missing table, not a TLS problem", () => {
    expect(map(server(208, "Invalid object name 'dbo.SslCertificates'."))).toMatchObject({ code: 'TABLE_NOT_FOUND' });
  });

  it('a TLS 1.0-only server (SQL Server 2012/2014 unpatched) gets the protocol hint, not the certificate hint', () => {
    const e = map(Object.assign(new Error('Failed to connect to h:1433 - C0D7B8F2:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol'), { code: 'ESOCKET' }), 'connecting');
    expect(e.code).toBe('SOURCE_CONNECT');
    expect(e.context.hint).toMatch(/TLS 1\.2/);
    expect(e.context.hint).not.toMatch(/trustServerCertificate/);
  });

  it('a self-signed certificate still gets the trustServerCertificate hint', () => {
    expect(map(Object.assign(new Error('self-signed certificate'), { code: 'ESOCKET' }), 'connecting').context.hint).toMatch(/trustServerCertificate/);
  });
});

describe('which errors a new transaction can get past', () => {
  it('retries 3966/3967 (version store victim) and 1205 (deadlock victim); not 3961 (the DDL may be a TRUNCATE), nothing else', () => {
    expect([3966, 3967, 1205].map((n) => retryableInNewTransaction(server(n)))).toEqual([true, true, true]);
    expect([3961, 208, 207, 1222, 229, 3959].map((n) => retryableInNewTransaction(server(n)))).toEqual([false, false, false, false, false, false]);
    expect(retryableInNewTransaction(new Error('x'))).toBe(false);
  });
});
