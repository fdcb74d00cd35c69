import sql from 'mssql';
import { SeedlineError } from '../common/errors.ts';
import { assertSupported } from './postgres-catalog.ts';
import type { KeyRange, KeyValue, ReadOptions, RowBatch, SnapshotInfo, Source, TableCount, TableInfo, TableRef } from './source.ts';
import { describeMssqlTable, listMssqlTables, type CatalogQuery } from './mssql-catalog.ts';
import { mssqlConnection, type MssqlConnection } from './mssql-config.ts';
import { DATABASE_STATE_SQL, chooseIsolation, isolationLevel, rangeSetupSql, type DatabaseState, type IsolationChoice, type RangeTransaction } from './mssql-consistency.ts';
import { mapMssqlError } from './mssql-errors.ts';
import { countStatement, heapStatement, pageStatement, pickSplits, rangesFromSplits, samplePercent, sampleStatement, selectLayout, type Statement } from './mssql-sql.ts';
import { ZoneConverter } from './mssql-time.ts';
import { keyBinding, keyText, type MssqlColumn, type MssqlTableInfo } from './mssql-types.ts';
import { mapRow } from './mssql-values.ts';

export interface MssqlSourceOptions {
  /** `mssql://user:password@host:1433/Database?encrypt=true&applicationIntent=ReadOnly`. */
  readonly url: string;
  /** IANA zone the naive datetime columns are in; required to read such a column. */
  readonly sourceTimezone?: string;
  /** Connections (one range transaction each) reading in parallel. */
  readonly concurrency?: number;
  readonly connectTimeoutMs?: number;
  /** Per statement: a keyset page must finish within it. */
  readonly statementTimeoutMs?: number;
  /** SET LOCK_TIMEOUT: never queue long behind a lock (and block everyone queued behind us). */
  readonly lockTimeoutMs?: number;
  /** Read with READ COMMITTED when the database does not allow SNAPSHOT (recorded in the snapshot info). */
  readonly allowReadCommitted?: boolean;
  /** A larger (max)/text/image value is refused (VALUE_TOO_LARGE) before tedious buffers it. */
  readonly maxValueBytes?: number;
}

export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

/**
 * SQL Server adapter (mssql / tedious). SQL Server cannot share a snapshot between
 * connections, so each key range is read in its own transaction (SNAPSHOT when the database
 * allows it) and every range transaction is recorded in the snapshot info, which the
 * manifest keeps. Statements and value mapping are pure functions (mssql-sql.ts,
 * mssql-types.ts, mssql-values.ts); this file only runs them.
 */
export class MssqlSource implements Source {
  readonly dialect = 'mssql' as const;
  readonly description: Source['description'];
  private readonly conn: MssqlConnection;
  private readonly options: MssqlSourceOptions;
  private pool: sql.ConnectionPool | null = null;
  private choice: IsolationChoice | null = null;
  private zone: ZoneConverter | undefined;
  private readonly tables = new Map<string, MssqlTableInfo>();
  /** Per table, every range transaction: live, so the manifest shows what each table got. */
  private readonly rangeLog: Record<string, RangeTransaction[]> = {};

  constructor(options: MssqlSourceOptions) {
    this.options = options;
    this.conn = mssqlConnection(options.url, {
      concurrency: options.concurrency ?? 1,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
    });
    const { host, port, database } = this.conn;
    this.description = { dialect: 'mssql', host, port, database };
  }

  async connect(): Promise<SnapshotInfo> {
    if (this.options.sourceTimezone !== undefined) this.zone = new ZoneConverter(this.options.sourceTimezone);
    const pool = new sql.ConnectionPool(this.conn.config);
    pool.on('error', () => {}); // a connection dropped while idle: the next request reports it
    try {
      await pool.connect();
    } catch (err) {
      await pool.close().catch(() => {});
      throw this.fail(err, 'connecting');
    }
    this.pool = pool;
    try {
      const [row] = await this.catalog(DATABASE_STATE_SQL);
      const state: DatabaseState = {
        name: String(row!.name),
        snapshotIsolationState: Number(row!.snapshotIsolationState),
        readCommittedSnapshot: row!.readCommittedSnapshot === true || row!.readCommittedSnapshot === 1,
        sourceDatabaseId: row!.sourceDatabaseId === null || row!.sourceDatabaseId === undefined ? null : Number(row!.sourceDatabaseId),
        createdAt: String(row!.createdAt),
        updateability: String(row!.updateability),
        version: String(row!.version),
        edition: String(row!.edition),
      };
      this.choice = chooseIsolation(state, this.options.allowReadCommitted ?? false);
      return {
        isolation: this.choice.level,
        mode: this.choice.mode,
        consistency: this.choice.consistency,
        sharedByAllWorkers: this.choice.sharedByAllWorkers,
        readOnlyIntent: this.conn.readOnlyIntent,
        allowReadCommitted: this.options.allowReadCommitted ?? false,
        lockTimeoutMs: this.lockTimeoutMs(),
        serverVersion: state.version,
        edition: state.edition,
        rangeTransactions: this.rangeLog,
      };
    } catch (err) {
      await this.close();
      throw this.fail(err, 'checking the database’s isolation settings');
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close().catch(() => {});
  }

  async listTables(): Promise<TableRef[]> {
    return this.guard(() => listMssqlTables((t, p) => this.catalog(t, p)), 'listing tables');
  }

  async describeTable(qualifiedName: string): Promise<TableInfo> {
    const query: CatalogQuery = (t, p) => this.catalog(t, p);
    const info = await this.guard(() => describeMssqlTable(query, qualifiedName, this.conn.redacted), `reading the catalog of ${qualifiedName}`);
    this.tables.set(info.qualifiedName, info);
    return info;
  }

  async planRanges(table: TableInfo, parts: number): Promise<KeyRange[]> {
    const info = this.mssqlTable(table);
    if (parts <= 1 || info.primaryKey.length === 0) return [{}];
    const keyColumns = this.keyColumns(info);
    const statement = sampleStatement(info, keyColumns, samplePercent(info.estimatedRows));
    const rows = await this.guard(async () => (await this.request(this.pool!, statement).query(statement.text)).recordset as unknown as unknown[][], `sampling keys of ${info.qualifiedName}`);
    return rangesFromSplits(pickSplits(rows.map((r) => r.map(keyText)), parts));
  }

  async *readRange(table: TableInfo, range: KeyRange, options: ReadOptions): AsyncGenerator<RowBatch> {
    const info = this.mssqlTable(table);
    // The caller may read fewer columns than the table has (left out in the config).
    const byName = new Map(info.columns.map((c) => [c.name, c]));
    const columns = table.columns.map((c) => byName.get(c.name)!);
    assertSupported({ ...info, columns });
    if (columns.some((c) => c.kind === 'timestamp') && !this.zone) {
      throw new SeedlineError('USAGE', `${info.qualifiedName} has naive datetime columns and no source time zone was given`, {
        table: info.qualifiedName,
        option: 'source-timezone',
        hint: 'pass --source-timezone with the IANA zone the legacy server wrote its local times in, e.g. Europe/Helsinki',
      });
    }
    const keyColumns = this.keyColumns(info);
    keyColumns.forEach((c) => keyBinding(c, info.qualifiedName)); // refuses an unpageable key before any transaction
    const choice = this.choice!;
    const maxValueBytes = this.options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    const ctx = { table: info.qualifiedName, maxValueBytes, ...(this.zone ? { zone: this.zone } : {}) };
    const doing = `reading ${info.qualifiedName}`;
    const tx = new sql.Transaction(this.pool!);
    let finished = false;
    try {
      await tx.begin(isolationLevel(choice) as sql.IIsolationLevel);
      const setup = await new sql.Request(tx).query(rangeSetupSql(this.lockTimeoutMs()));
      const startedAt = String((setup.recordset as unknown as unknown[][])[0]![0]);
      (this.rangeLog[info.qualifiedName] ??= []).push({ ...range, isolation: choice.level, startedAt });
      if (keyColumns.length === 0) {
        yield* this.readHeap(tx, heapStatement(info, columns, maxValueBytes), columns, ctx, options);
      } else {
        const layout = selectLayout(columns, keyColumns, maxValueBytes);
        let after = range.after;
        for (;;) {
          options.signal?.throwIfAborted();
          const asked = options.chunkSize?.rows ?? options.batchRows;
          const statement = pageStatement(info, columns, keyColumns, after, range.upTo, asked, maxValueBytes);
          const started = performance.now();
          const raw = (await this.request(tx, statement).query(statement.text)).recordset as unknown as unknown[][];
          options.chunkSize?.observe(asked, raw.length, performance.now() - started);
          if (raw.length === 0) break;
          const keys: KeyValue[] = raw.map((r) => r.slice(layout.keysAt).map(keyText));
          const rows = raw.map((r, i) => mapRow(columns, layout, r, { ...ctx, key: keys[i]! }));
          yield { rows, keys };
          if (raw.length < asked) break;
          after = keys.at(-1);
        }
      }
      await tx.commit();
      finished = true;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw this.fail(err, doing, info.qualifiedName);
    } finally {
      // Stopped early (consumer gone, error): end our read-only transaction, keep no locks.
      if (!finished) await tx.rollback().catch(() => {});
    }
  }

  /** Rows (and the key sum for one integer key column) in one statement, in the run's isolation. */
  async countRows(table: TableInfo): Promise<TableCount> {
    const info = this.mssqlTable(table);
    const statement = countStatement(info, this.keyColumns(info));
    const tx = new sql.Transaction(this.pool!);
    try {
      await tx.begin(isolationLevel(this.choice!) as sql.IIsolationLevel);
      await new sql.Request(tx).batch(rangeSetupSql(this.lockTimeoutMs()));
      const [row] = (await this.request(tx, statement).query(statement.text)).recordset as unknown as unknown[][];
      await tx.commit();
      const [rows, keySum] = row!;
      return { rows: Number(rows), ...(keySum !== null && keySum !== undefined ? { keySum: String(keySum) } : {}) };
    } catch (err) {
      await tx.rollback().catch(() => {});
      throw this.fail(err, `counting rows of ${info.qualifiedName}`, info.qualifiedName);
    }
  }

  /** A table without a primary key: one streamed pass with backpressure, not resumable mid-table. */
  private async *readHeap(tx: sql.Transaction, statement: Statement, columns: readonly MssqlColumn[], ctx: Parameters<typeof mapRow>[3], options: ReadOptions): AsyncGenerator<RowBatch> {
    const layout = selectLayout(columns, [], ctx.maxValueBytes);
    const request = this.request(tx, statement);
    const stream = request.toReadableStream({ highWaterMark: options.batchRows });
    void request.query(statement.text).catch(() => {}); // errors arrive through the stream
    let batch: (readonly unknown[])[] = [];
    let ended = false;
    try {
      for await (const row of stream) {
        batch.push(row as unknown[]);
        if (batch.length >= options.batchRows) {
          options.signal?.throwIfAborted();
          yield { rows: batch.map((r) => mapRow(columns, layout, r, ctx)), keys: batch.map(() => []) };
          batch = [];
        }
      }
      ended = true;
      if (batch.length) yield { rows: batch.map((r) => mapRow(columns, layout, r, ctx)), keys: batch.map(() => []) };
    } finally {
      if (!ended) {
        request.cancel(); // do not read the rest of the table just to throw it away
        stream.destroy();
      }
    }
  }

  private request(parent: sql.ConnectionPool | sql.Transaction, statement: Statement): sql.Request {
    const request = new sql.Request(parent as sql.ConnectionPool);
    request.arrayRowMode = true;
    for (const p of statement.params) request.input(p.name, p.type, p.value);
    return request;
  }

  /** Catalog statements: rows as objects. */
  private async catalog(text: string, params: Statement['params'] = []): Promise<Record<string, unknown>[]> {
    if (!this.pool) throw new Error('internal: MssqlSource.connect() was not called');
    const request = this.request(this.pool, { text, params });
    request.arrayRowMode = false;
    return (await request.query(text)).recordset as unknown as Record<string, unknown>[];
  }

  private keyColumns(info: MssqlTableInfo): MssqlColumn[] {
    return info.primaryKey.map((k) => info.columns.find((c) => c.name === k)!);
  }

  private mssqlTable(table: TableInfo): MssqlTableInfo {
    const info = this.tables.get(table.qualifiedName);
    if (!info) throw new Error(`internal: describeTable(${table.qualifiedName}) was not called before reading it`);
    return info;
  }

  private lockTimeoutMs(): number {
    return this.options.lockTimeoutMs ?? 10_000;
  }

  private async guard<T>(fn: () => Promise<T>, doing: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.fail(err, doing);
    }
  }

  private fail(err: unknown, doing: string, table?: string): SeedlineError {
    const { redacted, user, database } = this.conn;
    return mapMssqlError(err, { where: redacted, user, database, ...(table ? { table } : {}) }, doing);
  }
}
