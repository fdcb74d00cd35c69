import sql from 'mssql';
import { SeedlineError } from '../common/errors.ts';

/**
 * What consistency a SQL Server extract can get, decided from the database's settings.
 * SQL Server cannot share one snapshot between connections (no pg_export_snapshot): each key
 * range is read in its own transaction, and this says exactly what that means for the dump.
 */

/** The one statement `connect()` sends to learn the database's state. */
export const DATABASE_STATE_SQL =
  `SELECT d.name AS name, d.snapshot_isolation_state AS snapshotIsolationState, d.is_read_committed_snapshot_on AS readCommittedSnapshot, ` +
  `d.source_database_id AS sourceDatabaseId, CONVERT(varchar(33), d.create_date, 126) AS createdAt, ` +
  `CONVERT(varchar(20), DATABASEPROPERTYEX(d.name, 'Updateability')) AS updateability, ` +
  `CONVERT(varchar(128), SERVERPROPERTY('ProductVersion')) AS version, CONVERT(varchar(128), SERVERPROPERTY('Edition')) AS edition, ` +
  `CONVERT(nvarchar(128), SERVERPROPERTY('ServerName')) AS serverName ` +
  `FROM sys.databases AS d WHERE d.database_id = DB_ID()`;

export interface DatabaseState {
  readonly name: string;
  /** 0 OFF, 1 ON, 2 turning OFF, 3 turning ON. */
  readonly snapshotIsolationState: number;
  readonly readCommittedSnapshot: boolean;
  /** Set for a database snapshot (CREATE DATABASE ... AS SNAPSHOT OF). */
  readonly sourceDatabaseId: number | null;
  readonly createdAt: string;
  /** READ_ONLY for a read-only database or a readable secondary replica. */
  readonly updateability: string;
  readonly version: string;
  readonly edition: string;
  /** SERVERPROPERTY('ServerName'): host\\instance as the server names itself (the source's identity with the database name). */
  readonly serverName?: string;
}

/** The row of DATABASE_STATE_SQL (catalog rows as objects). */
export function databaseState(row: Record<string, unknown>): DatabaseState {
  return {
    name: String(row.name),
    snapshotIsolationState: Number(row.snapshotIsolationState),
    readCommittedSnapshot: row.readCommittedSnapshot === true || row.readCommittedSnapshot === 1,
    sourceDatabaseId: row.sourceDatabaseId === null || row.sourceDatabaseId === undefined ? null : Number(row.sourceDatabaseId),
    createdAt: String(row.createdAt),
    updateability: String(row.updateability),
    version: String(row.version),
    edition: String(row.edition),
    ...(row.serverName ? { serverName: String(row.serverName) } : {}),
  };
}

export interface IsolationChoice {
  readonly level: 'SNAPSHOT' | 'READ COMMITTED';
  readonly mode: 'database-snapshot' | 'read-only-database' | 'snapshot-per-range' | 'read-committed';
  /** Do all workers and ranges see the same moment? */
  readonly sharedByAllWorkers: boolean;
  /** One sentence for the manifest. */
  readonly consistency: string;
}

export function chooseIsolation(db: DatabaseState, allowReadCommitted: boolean): IsolationChoice {
  if (db.sourceDatabaseId !== null) {
    return {
      level: 'READ COMMITTED',
      mode: 'database-snapshot',
      sharedByAllWorkers: true,
      consistency: `database snapshot ${db.name} (created ${db.createdAt}): every table and range sees the database as it was at that moment`,
    };
  }
  if (db.updateability === 'READ_ONLY') {
    return {
      level: 'READ COMMITTED',
      mode: 'read-only-database',
      sharedByAllWorkers: false,
      consistency:
        'read-only database or readable secondary: each key range is one transaction (a readable secondary maps it to snapshot isolation); ' +
        'on a secondary, ranges read at different moments of the primary’s history',
    };
  }
  if (db.snapshotIsolationState === 1) {
    return {
      level: 'SNAPSHOT',
      mode: 'snapshot-per-range',
      sharedByAllWorkers: false,
      consistency:
        'each key range is read in its own SNAPSHOT transactions, each at most a few minutes long (consistent within the transaction); different ' +
        'transactions, ranges and tables see different moments — a table read in one transaction is consistent as a whole. ' +
        'For one moment across everything, extract from a database snapshot',
    };
  }
  if (allowReadCommitted) {
    return {
      level: 'READ COMMITTED',
      mode: 'read-committed',
      sharedByAllWorkers: false,
      consistency: db.readCommittedSnapshot
        ? 'READ COMMITTED (row versioning): each statement (one page of keys) sees its own moment; rows changed during the extract may appear in their old or new version'
        : 'READ COMMITTED with shared locks: each statement (one page of keys) sees committed rows at its own moment and may wait for writers (LOCK_TIMEOUT)',
    };
  }
  const state = ['OFF', 'ON', 'turning OFF', 'turning ON'][db.snapshotIsolationState] ?? String(db.snapshotIsolationState);
  throw new SeedlineError('SOURCE_ISOLATION', `database ${db.name} does not allow SNAPSHOT isolation (ALLOW_SNAPSHOT_ISOLATION is ${state}): seedline will not read it without a consistent view`, {
    option: 'allow-read-committed',
    hint:
      `ask the DBA for ALTER DATABASE [${db.name}] SET ALLOW_SNAPSHOT_ISOLATION ON, or point the source at a database snapshot or readable secondary ` +
      '(applicationIntent=ReadOnly), or accept per-statement consistency with allowReadCommitted (recorded in the manifest)',
  });
}

/**
 * What one table's stream can promise, for the manifest: SNAPSHOT per range transaction is
 * not the one snapshot PostgreSQL gives a whole run, and the stream says so.
 */
export function streamConsistency(choice: IsolationChoice, table: string, ranges: number, maxTransactionMs: number): string {
  if (choice.mode !== 'snapshot-per-range') return choice.consistency;
  const minutes = Math.round(maxTransactionMs / 6_000) / 10;
  return (
    `SQL Server SNAPSHOT, not one snapshot for the run: ${table} was read as ${ranges} key range(s), each in SNAPSHOT transactions ` +
    `of at most ${minutes} min (a new one begins at the next page, after the last key read); rows read in one transaction are one moment, ` +
    'different transactions, ranges and tables are different moments (each transaction with its start key and time: producer.snapshot.rangeTransactions)'
  );
}

/** The driver's isolation level for a range transaction. */
export function isolationLevel(choice: IsolationChoice): number {
  return choice.level === 'SNAPSHOT' ? sql.ISOLATION_LEVEL.SNAPSHOT : sql.ISOLATION_LEVEL.READ_COMMITTED;
}

/**
 * Sent first in every range transaction as a plain SQL batch (never through sp_executesql,
 * where SET options revert when it returns): never queue long behind a lock, be the deadlock
 * victim rather than a user, and note when the transaction started (a SNAPSHOT transaction's
 * view starts at its first read). @@LOCK_TIMEOUT is read back, so the manifest records the
 * setting in force, not the one asked for.
 */
export function rangeSetupSql(lockTimeoutMs: number, objectId?: number): string {
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 0) throw new Error(`internal: lockTimeoutMs must be a non-negative integer, got ${lockTimeoutMs}`);
  if (objectId !== undefined && !Number.isInteger(objectId)) throw new Error(`internal: objectId must be an integer, got ${objectId}`);
  // The table's modify_date in the same batch: DDL between two transactions of the run is seen.
  const modified = objectId === undefined ? '' : `, (SELECT CONVERT(varchar(33), o.modify_date, 126) FROM sys.objects AS o WHERE o.object_id = ${objectId}) AS modifiedAt`;
  return (
    `SET NOCOUNT ON; SET LOCK_TIMEOUT ${lockTimeoutMs}; SET DEADLOCK_PRIORITY LOW; ` +
    `SELECT CONVERT(varchar(33), SYSUTCDATETIME(), 126) AS startedAt, @@LOCK_TIMEOUT AS lockTimeout${modified}`
  );
}

/** One range transaction, as recorded in the snapshot info (and so in the manifest). */
export interface RangeTransaction {
  readonly after?: readonly string[];
  readonly upTo?: readonly string[];
  readonly isolation: IsolationChoice['level'];
  readonly startedAt: string;
  /** @@LOCK_TIMEOUT read back in the transaction. */
  readonly lockTimeoutMs?: number;
}
