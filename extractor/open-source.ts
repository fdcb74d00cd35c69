import { PostgresSource } from './postgres-source.ts';
import type { Source } from './source.ts';
import { parseSourceUrl } from './source-url.ts';

export interface OpenSourceOptions {
  readonly source: string;
  readonly sourceTimezone?: string;
  readonly concurrency?: number;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  /** Longest wait for a table's lock (PostgreSQL: the ACCESS SHARE taken at the start, and every statement's). */
  readonly lockTimeoutMs?: number;
  /** MS SQL only: read with READ COMMITTED when the database does not allow SNAPSHOT. */
  readonly allowReadCommitted?: boolean;
  /** MS SQL only: a single larger value is refused before the driver buffers it. */
  readonly maxValueBytes?: number;
}

/** Per statement: one keyset page normally takes 1-2 s; a minute means the server is in trouble. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * A TRUNCATE or ALTER TABLE on a production table normally holds its lock for well under a
 * second; 30 s rides out a slow one without leaving a dump waiting on a stuck session.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * The adapter for a source URL, chosen by its scheme: postgres:// or mssql:// (sqlserver://).
 * The MS SQL driver is loaded only when asked for: it costs ~30 MB and 0.4 s on every start.
 */
export async function openSource(options: OpenSourceOptions): Promise<Source> {
  const url = parseSourceUrl(options.source);
  const common = {
    url: options.source,
    ...(options.sourceTimezone !== undefined ? { sourceTimezone: options.sourceTimezone } : {}),
    concurrency: Math.max(1, options.concurrency ?? 1),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    statementTimeoutMs: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
  };
  if (url.dialect === 'mssql') {
    const { MssqlSource } = await import('./mssql-source.ts');
    return new MssqlSource({
      ...common,
      ...(options.allowReadCommitted ? { allowReadCommitted: true } : {}),
      ...(options.maxValueBytes !== undefined ? { maxValueBytes: options.maxValueBytes } : {}),
    });
  }
  return new PostgresSource(common);
}
