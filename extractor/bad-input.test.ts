import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedlineError } from '../common/errors.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { mapPgError } from './postgres-errors.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-bad-'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs extract and returns the SeedlineError it throws (failing if it does not). */
async function failure(overrides: Partial<ExtractOptions>): Promise<SeedlineError> {
  const out = join(tmp, `out-${Math.random().toString(16).slice(2)}`);
  const options: ExtractOptions = {
    source: db.url,
    tables: ['dbo.Members'],
    out,
    sourceTimezone: 'Europe/Helsinki',
    progress: 'off',
    connectTimeoutMs: 1500,
    ...overrides,
  };
  const err = await extract(options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SeedlineError);
  // Nothing half-written: a failed start leaves no dump behind.
  expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  const e = err as SeedlineError;
  expect(e.hint).toBeTruthy();
  expect(e.message).not.toContain('hunter2');
  return e;
}

describe('bad input gives one clear error with a hint', () => {
  it('a user the server refuses: SOURCE_AUTH', async () => {
    const e = await failure({ source: 'postgres://no_such_role_x:hunter2@127.0.0.1:5432/postgres' });
    expect(e.code).toBe('SOURCE_AUTH');
  });

  it('a wrong password (SQLSTATE 28P01) maps to SOURCE_AUTH without the password', () => {
    // This server trusts local connections, so the mapping is checked on the error pg raises.
    const pgError = Object.assign(new Error('password authentication failed for user "reader"'), { code: '28P01', severity: 'FATAL' });
    const e = mapPgError(pgError, { where: 'postgres://db:5432/legacy', user: 'reader', database: 'legacy' }, 'connecting');
    expect(e.code).toBe('SOURCE_AUTH');
    expect(e.hint).toMatch(/password/);
  });

  it('a refused port: SOURCE_CONNECT', async () => {
    const e = await failure({ source: 'postgres://postgres:hunter2@127.0.0.1:1/postgres' });
    expect(e.code).toBe('SOURCE_CONNECT');
  });

  it('an unreachable host times out quickly: SOURCE_CONNECT', async () => {
    const started = Date.now();
    const e = await failure({ source: 'postgres://postgres:hunter2@10.255.255.1:5432/postgres', connectTimeoutMs: 500 });
    expect(e.code).toBe('SOURCE_CONNECT');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a host name that does not resolve: SOURCE_CONNECT', async () => {
    const e = await failure({ source: 'postgres://postgres:hunter2@no-such-host.invalid:5432/postgres' });
    expect(e.code).toBe('SOURCE_CONNECT');
  });

  it('a database that does not exist: SOURCE_CONNECT naming it', async () => {
    const e = await failure({ source: 'postgres://postgres:hunter2@127.0.0.1:5432/no_such_db_x' });
    expect(e.code).toBe('SOURCE_CONNECT');
    expect(e.message).toContain('no_such_db_x');
  });

  it('a table that does not exist: TABLE_NOT_FOUND suggesting the similar one', async () => {
    const e = await failure({ tables: ['dbo.Member'] });
    expect(e.code).toBe('TABLE_NOT_FOUND');
    expect(e.context.table).toBe('dbo.Member');
    expect(e.hint).toContain('dbo.Members');
  });

  it('naive timestamps without --source-timezone: USAGE naming the columns', async () => {
    const e = await failure({ sourceTimezone: undefined as unknown as string });
    expect(e.code).toBe('USAGE');
    expect(e.message).toContain('dbo.Members.RegisteredAt');
  });

  it('a time zone the server does not know: USAGE', async () => {
    const e = await failure({ sourceTimezone: 'Europe/Helsinky' });
    expect(e.code).toBe('USAGE');
    expect(e.context.option).toBe('source-timezone');
  });

  it('a source that is not a URL: USAGE, without echoing it', async () => {
    const e = await failure({ source: 'host=db password=hunter2' });
    expect(e.code).toBe('USAGE');
  });

  it('out-of-range options: USAGE', async () => {
    expect((await failure({ gzipLevel: 12 })).code).toBe('USAGE');
    expect((await failure({ tables: [] })).code).toBe('USAGE');
    expect((await failure({ resume: true, overwrite: true })).code).toBe('USAGE');
  });
});
