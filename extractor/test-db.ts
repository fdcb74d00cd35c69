import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** Test support: a uniquely named database on the local PostgreSQL, dropped by `drop()`. */
export const PG_ADMIN_URL = process.env.SEEDLINE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TempDb {
  readonly name: string;
  readonly url: string;
  /** Runs SQL in the temporary database. */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  drop(): Promise<void>;
}

export async function createTempDb(): Promise<TempDb> {
  const name = `seedline_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    name,
    url,
    sql: (text, values) => client.query(text, values),
    drop: async () => {
      await client.end().catch(() => {});
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export const SKELETON_SCHEMA_SQL = readFileSync(new URL('../fixtures/SKELETON_SCHEMA.sql', import.meta.url), 'utf8');
