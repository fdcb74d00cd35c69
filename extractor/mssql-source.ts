import { SeedlineError } from '../common/errors.ts';
import { assertSupported } from './postgres-catalog.ts';
import type { KeyRange, KeyValue, ReadOptions, RowBatch, SnapshotInfo, Source, TableCount, TableInfo, TableRef } from './source.ts';
import { describeMssqlTable, listMssqlTables, type CatalogQuery } from './mssql-catalog.ts';
import { mssqlConnection, type MssqlConnection } from './mssql-config.ts';
import { DATABASE_STATE_SQL, chooseIsolation, databaseState, rangeSetupSql, streamConsistency, type IsolationChoice } from './mssql-consistency.ts';
import { mssqlDriver, type MssqlDriver, type MssqlDriverFactory, type MssqlTransaction } from './mssql-driver.ts';
import { mapMssqlError, retryableInNewTransaction } from './mssql-errors.ts';
import { countStatement, heapStatement, largeValueBytesStatement, pageStatement, pickSplits, rangesFromSplits, samplePercent, sampleStatement, selectLayout, sumsKey, type Param } from './mssql-sql.ts';
import { ZoneConverter } from './mssql-time.ts';
import { keyBinding, keyText, type MssqlColumn, type MssqlTableInfo } from './mssql-types.ts';
import { mapRow } from './mssql-values.ts';
import { RangeTransactions, type OpenTransaction } from './mssql-range-tx.ts';

export interface MssqlSourceOptions {
  /** `mssql://user:password@host:1433/Database?encrypt=true&applicationIntent=ReadOnly`. */
  readonly url: string;
  /** IANA zone the naive datetime columns are in; required to read such a column. */
  readonly sourceTimezone?: string;
  /** Connections (one range transaction each) reading in parallel. */
  readonly concurrency?: number;
  readonly connectTimeoutMs?: number;
  /** Per statement, the whole statement (not only the time to its first row). */
  readonly statementTimeoutMs?: number;
  /** SET LOCK_TIMEOUT: never queue long behind a lock (and block everyone queued behind us). */
  readonly lockTimeoutMs?: number;
  /** Read with READ COMMITTED when the database does not allow SNAPSHOT (recorded in the snapshot info). */
  readonly allowReadCommitted?: boolean;
  /** A larger (max)/text/image/xml/spatial value is refused (VALUE_TOO_LARGE) before tedious buffers it. */
  readonly maxValueBytes?: number;
  /** A range transaction older than this is committed and a new one begun at the next page (tempdb's version store). */
  readonly maxTransactionMs?: number;
  /** Bytes of large values one page should hold: bounds the rows per page of tables with large columns. */
  readonly pageBytes?: number;
  /** The driver (tests pass a recording fake of the narrow interface); default mssql. */
  readonly driver?: MssqlDriverFactory;
}

export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;
/** Five minutes: long enough that renewals cost nothing, short enough to keep tempdb's version store small. */
export const DEFAULT_MAX_TRANSACTION_MS = 5 * 60_000;
export const DEFAULT_PAGE_BYTES = 8 * 1024 * 1024;
/** verify --source counts a big table in ranges of about this many rows, each one statement. */
export const COUNT_ROWS_PER_STATEMENT = 5_000_000;
/** New transactions one range may begin in a row after a deadlock or a version-store victim error. */
const MAX_RETRIES = 3;

/**
 * SQL Server adapter (mssql / tedious, through the narrow MssqlDriver). SQL Server cannot share
 * a snapshot between connections, so each key range is read in its own transactions (SNAPSHOT
 * when the database allows it), each at most `maxTransactionMs` old, and every one is recorded
 * in the snapshot info, which the manifest keeps. Statements and value mapping are pure
 * functions (mssql-sql.ts, mssql-types.ts, mssql-values.ts); this file only runs them.
 */
export class MssqlSource implements Source {
  readonly dialect = 'mssql' as const;
  readonly description: Source['description'];
  private readonly conn: MssqlConnection;
  private readonly options: MssqlSourceOptions;
  private driver: MssqlDriver | null = null;
  private choice: IsolationChoice | null = null;
  private zone: ZoneConverter | undefined;
  private readonly tables = new Map<string, MssqlTableInfo>();
  /** Begins and records every range transaction (the log is live in the snapshot info). */
  private readonly ranges: RangeTransactions;
  /** Per table: what a column's mapping loses (live, for the manifest). */
  private readonly typeNotes: Record<string, Record<string, string>> = {};
  /** Per table: the primary key index the reads follow. */
  private readonly keyIndexes: Record<string, { index: string; clustered: boolean; descending: string[] }> = {};
  /** Per table: rows a page may hold so its large values stay near `pageBytes`. */
  private readonly pageRows = new Map<string, Promise<number>>();

  constructor(options: MssqlSourceOptions) {
    this.options = options;
    this.conn = mssqlConnection(options.url, {
      concurrency: options.concurrency ?? 1,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
    });
    const { host, port, database } = this.conn;
    this.description = { dialect: 'mssql', host, port, database };
    this.ranges = new RangeTransactions(this.lockTimeoutMs(), this.conn.redacted);
  }

  async connect(): Promise<SnapshotInfo> {
    if (this.options.sourceTimezone !== undefined) this.zone = new ZoneConverter(this.options.sourceTimezone);
    const driver = (this.options.driver ?? mssqlDriver)(this.conn.config);
    try {
      await driver.connect();
    } catch (err) {
      await driver.close().catch(() => {});
      throw this.fail(err, 'connecting');
    }
    this.driver = driver;
    try {
      const [row] = await this.catalog(DATABASE_STATE_SQL);
      const state = databaseState(row!);
      this.choice = chooseIsolation(state, this.options.allowReadCommitted ?? false);
      this.ranges.use(driver, this.choice);
      return {
        isolation: this.choice.level,
        mode: this.choice.mode,
        consistency: this.choice.consistency,
        sharedByAllWorkers: this.choice.sharedByAllWorkers,
        readOnlyIntent: this.conn.readOnlyIntent,
        allowReadCommitted: this.options.allowReadCommitted ?? false,
        lockTimeoutMs: this.lockTimeoutMs(),
        maxTransactionSeconds: this.maxTransactionMs() / 1000,
        statementTimeoutMs: this.statementTimeoutMs(),
        statementTimeoutCovers: 'the whole statement (seedline cancels it; tedious alone would time only the first row)',
        serverVersion: state.version,
        edition: state.edition,
        // What the dump is of: verify --source can refuse another database.
        sourceIdentity: { server: state.serverName ?? this.conn.host, database: state.name, createdAt: state.createdAt },
        rangeTransactions: this.ranges.log,
        keyIndexes: this.keyIndexes,
        typeNotes: this.typeNotes,
      };
    } catch (err) {
      await this.close();
      throw this.fail(err, 'checking the database’s isolation settings');
    }
  }

  /** What this table's stream can promise, for the manifest (each stream says its own). */
  consistency(table: TableInfo, ranges: number): string {
    return this.choice ? streamConsistency(this.choice, table.qualifiedName, ranges, this.maxTransactionMs()) : 'unknown (the source was not connected)';
  }

  async close(): Promise<void> {
    const driver = this.driver;
    this.driver = null;
    await driver?.close().catch(() => {});
  }

  async listTables(): Promise<TableRef[]> {
    return this.guard(() => listMssqlTables((t, p) => this.catalog(t, p)), 'listing tables');
  }

  async describeTable(qualifiedName: string): Promise<TableInfo> {
    const query: CatalogQuery = (t, p) => this.catalog(t, p);
    const info = await this.guard(() => describeMssqlTable(query, qualifiedName, this.conn.redacted), `reading the catalog of ${qualifiedName}`);
    this.tables.set(info.qualifiedName, info);
    const notes = Object.fromEntries(info.columns.filter((c) => c.note).map((c) => [c.name, c.note!]));
    if (Object.keys(notes).length) this.typeNotes[info.qualifiedName] = notes;
    if (info.keyIndex) {
      this.keyIndexes[info.qualifiedName] = {
        index: info.keyIndex,
        clustered: info.clusteredKey,
        descending: info.primaryKey.filter((_, i) => info.keyDescending?.[i]),
      };
    }
    return info;
  }

  async planRanges(table: TableInfo, parts: number): Promise<KeyRange[]> {
    const info = this.mssqlTable(table);
    if (parts <= 1 || info.primaryKey.length === 0) return [{}];
    const keyColumns = this.keyColumns(info);
    const statement = sampleStatement(info, keyColumns, samplePercent(info.estimatedRows));
    const rows = await this.guard(async () => (await this.driver!.query(statement, { timeoutMs: this.statementTimeoutMs() })) as unknown[][], `sampling keys of ${info.qualifiedName}`);
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
    const maxValueBytes = this.maxValueBytes();
    const ctx = { table: info.qualifiedName, maxValueBytes, ...(this.zone ? { zone: this.zone } : {}) };
    const doing = `reading ${info.qualifiedName}`;
    if (keyColumns.length === 0) {
      yield* this.readHeap(info, columns, ctx, options);
      return;
    }
    const layout = selectLayout(columns, keyColumns, maxValueBytes);
    let open: OpenTransaction | null = null;
    try {
      const rowsByBytes = await this.rowsPerPage(info, columns);
      let after = range.after;
      let retries = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        if (open && performance.now() - open.openedAt >= this.maxTransactionMs()) {
          // Bounded life: the version store in tempdb keeps rows for the oldest open snapshot.
          const old: OpenTransaction = open;
          open = null;
          await old.tx.commit();
        }
        open ??= await this.ranges.begin(info, after, range.upTo);
        const asked = Math.max(1, Math.min(options.chunkSize?.rows ?? options.batchRows, rowsByBytes));
        const statement = pageStatement(info, columns, keyColumns, after, range.upTo, asked, maxValueBytes);
        const started = performance.now();
        let raw: unknown[][];
        try {
          raw = (await open.tx.query(statement, { timeoutMs: this.statementTimeoutMs() })) as unknown[][];
        } catch (err) {
          // A deadlock or version-store victim: go on in a new transaction from the last key read.
          if (options.signal?.aborted || !retryableInNewTransaction(err) || retries >= MAX_RETRIES) throw err;
          retries++;
          const failed: OpenTransaction = open;
          open = null;
          await failed.tx.rollback().catch(() => {});
          continue;
        }
        retries = 0;
        options.chunkSize?.observe(asked, raw.length, performance.now() - started);
        if (raw.length === 0) break;
        const keys: KeyValue[] = raw.map((r) => r.slice(layout.keysAt).map(keyText));
        const rows = raw.map((r, i) => mapRow(columns, layout, r, { ...ctx, key: keys[i]! }));
        yield { rows, keys };
        if (raw.length < asked) break;
        after = keys.at(-1);
      }
      const last = open;
      open = null;
      await last?.tx.commit();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw this.fail(err, doing, info.qualifiedName);
    } finally {
      // Stopped early (consumer gone, error): end our read-only transaction, keep no locks.
      if (open) await open.tx.rollback().catch(() => {});
    }
  }

  /**
   * Rows (and the key sum for one integer key column), in the run's isolation, in one
   * transaction. A big table is counted key range by key range: a COUNT sends nothing until
   * it is done, so one statement over the whole table would run into the statement timeout.
   */
  async countRows(table: TableInfo): Promise<TableCount> {
    const info = this.mssqlTable(table);
    const keyColumns = this.keyColumns(info);
    const doing = `counting rows of ${info.qualifiedName}`;
    const parts = keyColumns.length > 0 ? Math.ceil(info.estimatedRows / COUNT_ROWS_PER_STATEMENT) : 1;
    const ranges = await this.planRanges(table, parts);
    let tx: MssqlTransaction | null = null;
    try {
      tx = await this.driver!.begin(this.choice!.level);
      await tx.batch(rangeSetupSql(this.lockTimeoutMs()));
      let rows = 0n;
      let keySum = 0n;
      for (const range of ranges) {
        const [row] = (await tx.query(countStatement(info, keyColumns, range), { timeoutMs: this.statementTimeoutMs() })) as unknown[][];
        rows += BigInt(String(row![0]));
        if (row![1] !== null && row![1] !== undefined) keySum += BigInt(String(row![1]));
      }
      const done = tx;
      tx = null;
      await done.commit();
      return { rows: Number(rows), ...(sumsKey(keyColumns) ? { keySum: String(keySum) } : {}) };
    } catch (err) {
      throw this.fail(err, doing, info.qualifiedName);
    } finally {
      if (tx) await tx.rollback().catch(() => {});
    }
  }

  /**
   * A table without a primary key: one streamed statement with backpressure, in one
   * transaction (not resumable mid-table). Stopped early, the request is cancelled and its end
   * awaited before the rollback: mssql refuses a rollback while a request runs (EREQINPROG),
   * and a transaction never ended keeps its connection, so closing the pool would wait forever.
   */
  private async *readHeap(info: MssqlTableInfo, columns: readonly MssqlColumn[], ctx: Parameters<typeof mapRow>[3], options: ReadOptions): AsyncGenerator<RowBatch> {
    const layout = selectLayout(columns, [], ctx.maxValueBytes);
    // Rows held at once (the stream's buffer, then one batch): bounded by bytes too.
    const batchRows = Math.max(1, Math.min(options.batchRows, await this.guard(() => this.rowsPerPage(info, columns), `sampling ${info.qualifiedName}`)));
    const open = await this.guard(() => this.ranges.begin(info, undefined, undefined), `reading ${info.qualifiedName}`);
    const stream = open.tx.stream(heapStatement(info, columns, ctx.maxValueBytes), batchRows);
    let ended = false;
    let committed = false;
    try {
      let batch: (readonly unknown[])[] = [];
      for await (const row of stream) {
        batch.push(row);
        if (batch.length >= batchRows) {
          options.signal?.throwIfAborted();
          yield { rows: batch.map((r) => mapRow(columns, layout, r, ctx)), keys: batch.map(() => []) };
          batch = [];
        }
      }
      ended = true;
      if (batch.length) yield { rows: batch.map((r) => mapRow(columns, layout, r, ctx)), keys: batch.map(() => []) };
      await open.tx.commit();
      committed = true;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw this.fail(err, `reading ${info.qualifiedName}`, info.qualifiedName);
    } finally {
      if (!ended) {
        stream.cancel(); // do not read the rest of the table just to throw it away
        await stream.ended;
      }
      if (!committed) await open.tx.rollback().catch(() => {});
    }
  }

  /** Rows per page for a table with large values, from their average size in the split sample. */
  private rowsPerPage(info: MssqlTableInfo, columns: readonly MssqlColumn[]): Promise<number> {
    let rows = this.pageRows.get(info.qualifiedName);
    if (!rows) {
      const statement = largeValueBytesStatement(info, columns, samplePercent(info.estimatedRows));
      rows = statement
        ? this.driver!.query(statement, { timeoutMs: this.statementTimeoutMs() }).then((r) => {
            const avg = Number((r as unknown[][])[0]?.[0] ?? 0);
            return avg > 0 ? Math.max(1, Math.floor((this.options.pageBytes ?? DEFAULT_PAGE_BYTES) / avg)) : Number.MAX_SAFE_INTEGER;
          })
        : Promise.resolve(Number.MAX_SAFE_INTEGER);
      this.pageRows.set(info.qualifiedName, rows);
    }
    return rows;
  }

  /** Catalog statements: rows as objects. */
  private async catalog(text: string, params: readonly Param[] = []): Promise<Record<string, unknown>[]> {
    if (!this.driver) throw new Error('internal: MssqlSource.connect() was not called');
    return (await this.driver.query({ text, params }, { objects: true, timeoutMs: this.statementTimeoutMs() })) as Record<string, unknown>[];
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

  private statementTimeoutMs(): number {
    return Number(this.conn.config.requestTimeout);
  }

  private maxTransactionMs(): number {
    return this.options.maxTransactionMs ?? DEFAULT_MAX_TRANSACTION_MS;
  }

  private maxValueBytes(): number {
    return this.options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
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
