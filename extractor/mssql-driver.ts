import sql from 'mssql';
import type { Statement } from './mssql-sql.ts';

/**
 * The narrow part of the driver (mssql 12 / tedious 19) the SQL Server adapter uses, declared
 * here so that what the adapter sends — which call, which text, in which order — is visible
 * and can be recorded in a unit test. `mssqlDriver` is the one real implementation.
 *
 * Driver facts this interface is shaped by (read in node_modules):
 * - `request.query()` always runs through `sp_executesql` (tedious `execSql`), parameters or
 *   not; a SET option set inside it reverts when it returns. `request.batch()` is a plain SQL
 *   batch (`execSqlBatch`): its SET options stay in force for the session.
 * - tedious' request timeout stops at the first response packet: it limits the time to the
 *   first row, not the statement. `query` here enforces the whole statement's time itself.
 * - mssql refuses `rollback()`/`commit()` with EREQINPROG while a request of the transaction is
 *   active; a cancelled request is over only when its query promise settles (the connection is
 *   released to the transaction just before).
 */
export interface MssqlRunner {
  /** One statement through sp_executesql; rows as arrays (or objects). Cancelled after `timeoutMs` in all. */
  query(statement: Statement, options?: { readonly objects?: boolean; readonly timeoutMs?: number }): Promise<unknown[]>;
  /** A plain SQL batch: session SET options sent in it stay in force on the connection. Rows as arrays. */
  batch(text: string): Promise<unknown[][]>;
}

/** The rows of one streamed statement, pulled with backpressure. */
export interface MssqlRowStream extends AsyncIterable<unknown[]> {
  /** Stops the statement on the server (TDS attention). */
  cancel(): void;
  /** Settles when the request is over on its connection, after a cancel too: only then may its transaction end. */
  readonly ended: Promise<void>;
}

export interface MssqlTransaction extends MssqlRunner {
  stream(statement: Statement, highWaterMark: number): MssqlRowStream;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface MssqlDriver extends MssqlRunner {
  connect(): Promise<void>;
  close(): Promise<void>;
  begin(level: 'SNAPSHOT' | 'READ COMMITTED'): Promise<MssqlTransaction>;
}

export type MssqlDriverFactory = (config: sql.config) => MssqlDriver;

/**
 * Runs `run` and calls `cancel` when it has not settled after `ms`; the cancelled statement's
 * error then becomes an ETIMEOUT naming the limit (what mapMssqlError calls a statement timeout).
 */
export async function withDeadline<T>(run: Promise<T>, cancel: () => void, ms: number | undefined): Promise<T> {
  if (!ms) return run;
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    cancel();
  }, ms);
  try {
    return await run;
  } catch (err) {
    if (fired) throw Object.assign(new Error(`Timeout: the statement ran longer than the statement timeout of ${ms} ms and was cancelled`), { code: 'ETIMEOUT', cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The real driver: one mssql ConnectionPool. */
export function mssqlDriver(config: sql.config): MssqlDriver {
  const pool = new sql.ConnectionPool(config);
  pool.on('error', () => {}); // a connection dropped while idle: the next request reports it
  const runner = (parent: () => sql.ConnectionPool | sql.Transaction): MssqlRunner => ({
    async query(statement, options = {}) {
      const request = newRequest(parent(), statement);
      request.arrayRowMode = !options.objects;
      const result = await withDeadline(request.query(statement.text), () => request.cancel(), options.timeoutMs);
      return (result.recordset ?? []) as unknown as unknown[];
    },
    async batch(text) {
      const request = new sql.Request(parent() as sql.ConnectionPool);
      request.arrayRowMode = true;
      return ((await request.batch(text)).recordset ?? []) as unknown as unknown[][];
    },
  });
  return {
    ...runner(() => pool),
    async connect() {
      await pool.connect();
    },
    async close() {
      await pool.close();
    },
    async begin(level) {
      const tx = new sql.Transaction(pool);
      await tx.begin(level === 'SNAPSHOT' ? sql.ISOLATION_LEVEL.SNAPSHOT : sql.ISOLATION_LEVEL.READ_COMMITTED);
      return {
        ...runner(() => tx),
        stream(statement, highWaterMark) {
          const request = newRequest(tx, statement);
          request.arrayRowMode = true;
          const readable = request.toReadableStream({ highWaterMark });
          // Errors arrive through the stream; the promise settles once the connection is free.
          const ended = request.query(statement.text).then(
            () => {},
            () => {},
          );
          return {
            [Symbol.asyncIterator]: () => readable[Symbol.asyncIterator]() as AsyncIterator<unknown[]>,
            cancel() {
              request.cancel();
              readable.destroy();
            },
            ended,
          };
        },
        commit: () => tx.commit(),
        rollback: () => tx.rollback(),
      };
    },
  };
}

function newRequest(parent: sql.ConnectionPool | sql.Transaction, statement: Statement): sql.Request {
  const request = new sql.Request(parent as sql.ConnectionPool);
  for (const p of statement.params) request.input(p.name, p.type, p.value);
  return request;
}
