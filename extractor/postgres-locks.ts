import pg from 'pg';
import { SeedlineError } from '../common/errors.ts';
import { quoteIdent, type PgTableInfo } from './postgres-catalog.ts';

/**
 * What pg_dump does against concurrent DDL: ACCESS SHARE on every table of the run, in the
 * snapshot's transaction, before a row is read; held until the run ends. TRUNCATE and
 * ALTER … TYPE (ACCESS EXCLUSIVE) then wait for the dump instead of committing a new, empty
 * relation file under it: such a commit is invisible to an older snapshot (its rows are
 * "not yet" there, the old ones "already" gone), so the table would read as 0 rows.
 * Plain INSERT/UPDATE/DELETE and VACUUM are not blocked.
 *
 * A rewrite that committed after the snapshot but before the lock is caught by comparing
 * the relation file the snapshot sees with the current one.
 */
export async function lockPgTables(client: pg.Client, tables: readonly PgTableInfo[], lockTimeoutMs: number, url: string): Promise<void> {
  await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
  for (const t of tables) {
    try {
      // One statement per table, so a timeout names it. ONLY: a partitioned table's
      // partitions are not read through it (only plain tables are extracted).
      await client.query(`LOCK TABLE ONLY ${quoteIdent(t.schema)}.${quoteIdent(t.name)} IN ACCESS SHARE MODE`);
    } catch (err) {
      throw (await lockWaitError(err, url, t.qualifiedName, lockTimeoutMs, 'its ACCESS SHARE lock')) ?? err;
    }
  }
  const { rows } = await client.query<{ oid: string; seen: string; now: string | null }>(
    `SELECT c.oid::text AS oid, c.relfilenode::text AS seen, pg_relation_filenode(c.oid)::text AS now
       FROM pg_class c WHERE c.oid = ANY($1::oid[]) AND c.relfilenode <> 0`,
    [tables.map((t) => t.oid)],
  );
  const rewritten = rows.filter((r) => r.now !== r.seen);
  if (rewritten.length) {
    const names = rewritten.map((r) => tables.find((t) => String(t.oid) === r.oid)!.qualifiedName);
    throw new SeedlineError('SOURCE_ISOLATION', `${names.join(', ')} was rewritten (TRUNCATE, ALTER … TYPE, VACUUM FULL, CLUSTER) after the run's snapshot was taken: its rows would read as empty`, {
      table: names[0],
      hint: 'run again: the new run reads the table as it is now, and holds it against such changes until it ends',
    });
  }
  // Back to the connection's own setting for the statements that read.
  await client.query('SET LOCAL lock_timeout TO DEFAULT');
}

/**
 * A lock timeout (SQLSTATE 55P03) as SOURCE_LOCKED naming the table and who holds it; null
 * for any other error. `table` as the user wrote it (matched case-insensitively, as describe does).
 */
export async function lockWaitError(err: unknown, url: string, table: string, lockTimeoutMs: number, what: string): Promise<SeedlineError | null> {
  if ((err as { code?: string } | null)?.code !== '55P03') return null;
  return new SeedlineError('SOURCE_LOCKED', `${table}: could not get ${what} within ${lockTimeoutMs / 1000} s; ${await describeHolders(url, table)}`, {
    table,
    option: 'lock-timeout',
    hint: 'that session holds or waits for an exclusive lock (TRUNCATE, ALTER TABLE, VACUUM FULL, ...): run again when it is done, or raise --lock-timeout',
  }, { cause: err });
}

/** Who holds or waits for a lock on the table that conflicts with ACCESS SHARE, from a separate connection. */
async function describeHolders(url: string, table: string): Promise<string> {
  const dot = table.indexOf('.');
  const schema = dot >= 0 ? table.slice(0, dot) : null;
  const name = dot >= 0 ? table.slice(dot + 1) : table;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'seedline extract (lock report)' });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number; usename: string | null; application_name: string; state: string | null; mode: string; granted: boolean; since: string | null; query: string | null }>(
      `SELECT l.pid, a.usename, a.application_name, a.state, l.mode, l.granted, a.xact_start::text AS since, left(a.query, 120) AS query
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
         JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND lower(c.relname) = lower($1) AND ($2::text IS NULL OR lower(n.nspname) = lower($2))
        ORDER BY l.granted DESC, a.xact_start`,
      [name, schema],
    );
    if (!rows.length) return 'the lock holder has gone since';
    return rows
      .map((r) => `pid ${r.pid} (user ${r.usename ?? '?'}${r.application_name ? `, ${r.application_name}` : ''}) ${r.granted ? 'holds' : 'waits for'} ${r.mode}` +
        `${r.since ? ` in a transaction open since ${r.since}` : ''}${r.query ? `, last statement: ${r.query.replace(/\s+/g, ' ')}` : ''}`)
      .join('; ');
  } catch {
    return 'the holder could not be looked up (pg_locks)';
  } finally {
    await client.end().catch(() => {});
  }
}
