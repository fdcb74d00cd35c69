import sql from 'mssql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mssqlConnection } from './mssql-config.ts';
import { mssqlDriver } from './mssql-driver.ts';

/**
 * The real driver wrapper's calls into mssql, recorded by replacing mssql's own methods (no
 * server): session settings must go through Request.batch (tedious execSqlBatch, a plain
 * batch), statements through Request.query (sp_executesql) with their parameters.
 */
describe('mssqlDriver → mssql', () => {
  afterEach(() => vi.restoreAllMocks());

  it('sends batch() as Request.batch and query() as Request.query with its parameters, on the transaction', async () => {
    const calls: string[] = [];
    vi.spyOn(sql.Transaction.prototype, 'begin').mockImplementation(async function (this: sql.Transaction, level?: sql.IIsolationLevel) {
      calls.push(`begin ${String(level)}`);
      return this;
    } as never);
    vi.spyOn(sql.Request.prototype, 'batch').mockImplementation(async function (this: sql.Request, text: string) {
      calls.push(`batch(${(this as unknown as { parent: unknown }).parent instanceof sql.Transaction ? 'tx' : 'pool'}) ${text}`);
      return { recordset: [['t', 10_000]] } as never;
    } as never);
    vi.spyOn(sql.Request.prototype, 'query').mockImplementation(async function (this: sql.Request, text: string) {
      const params = Object.keys((this as unknown as { parameters: Record<string, unknown> }).parameters);
      calls.push(`query(${(this as unknown as { parent: unknown }).parent instanceof sql.Transaction ? 'tx' : 'pool'}) ${text} [${params.join(',')}]`);
      return { recordset: [[1]] } as never;
    } as never);
    const driver = mssqlDriver(mssqlConnection('mssql://u:p@h:1433/Db').config);
    const tx = await driver.begin('SNAPSHOT');
    await tx.batch('SET LOCK_TIMEOUT 10000');
    await tx.query({ text: 'SELECT TOP (1) 1 WHERE @a0 = 1', params: [{ name: 'a0', type: sql.Int(), value: 1 }] });
    expect(calls).toEqual([
      `begin ${sql.ISOLATION_LEVEL.SNAPSHOT}`,
      'batch(tx) SET LOCK_TIMEOUT 10000',
      'query(tx) SELECT TOP (1) 1 WHERE @a0 = 1 [a0]',
    ]);
  });
});
