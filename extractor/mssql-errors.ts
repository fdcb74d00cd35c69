import { SeedlineError, messageOf } from '../common/errors.ts';
import { redactCredentials } from './source-url.ts';

/** Where a SQL Server error happened, for the message: never with credentials. */
export interface MssqlErrorPlace {
  /** `mssql://host:port/database`. */
  readonly where: string;
  readonly user: string;
  readonly database: string;
  readonly table?: string;
}

/** The fields of mssql's ConnectionError / RequestError (and tedious' originals) we look at. */
interface MssqlLikeError {
  code?: string;
  number?: number;
  originalError?: { code?: string; message?: string; info?: { number?: number }; cause?: { code?: string } };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/**
 * Maps an mssql / tedious / network error to a SeedlineError. SQL Server error numbers:
 * https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors
 */
export function mapMssqlError(err: unknown, place: MssqlErrorPlace, doing: string): SeedlineError {
  if (err instanceof SeedlineError) return err;
  const e = (err ?? {}) as MssqlLikeError;
  const code = e.code ?? e.originalError?.code ?? '';
  const num = errorNumber(err);
  const socket = e.originalError?.cause?.code ?? (/\b(E[A-Z]{4,})\b/.exec(messageOf(err))?.[1] ?? '');
  const text = redactCredentials(messageOf(err));
  const wrap = (c: ConstructorParameters<typeof SeedlineError>[0], message: string, hint: string, option?: string) =>
    new SeedlineError(c, message, { ...(place.table ? { table: place.table } : {}), ...(option ? { option } : {}), hint }, { cause: err });

  if (num === 18456 || num === 18452 || (code === 'ELOGIN' && /login failed/i.test(text) && !/database/i.test(text))) {
    return wrap('SOURCE_AUTH', `${place.where}: login failed for user "${place.user}"`,
      'check the user and password in the source URL (or MSSQL_PASSWORD); SQL Server logins need mixed-mode authentication');
  }
  if (num === 4060 || (code === 'ELOGIN' && /cannot open database/i.test(text))) {
    return wrap('SOURCE_CONNECT', `${place.where}: cannot open database "${place.database}" as "${place.user}"`,
      'check the database name at the end of the source URL, and that the login has a user in it');
  }
  // Server error numbers first: a server message may contain any word (a table named SslCertificates).
  if (num !== undefined) {
    const known = SERVER_ERRORS[num];
    if (known) {
      const table = place.table ?? 'a table';
      const [c, message, hint, option] = known({ ...place, table, doing, text, user: place.user });
      return wrap(c, `${place.where}: ${message}`, hint, option);
    }
  }
  if (code === 'ELOGIN') {
    return wrap('SOURCE_AUTH', `${place.where} refused the login of "${place.user}": ${text}`, 'check the user, password and database in the source URL');
  }
  if (code === 'ETIMEOUT' && /request|statement/i.test(`${doing} ${text}`) && !/connect/i.test(text)) {
    return wrap('SOURCE_QUERY', `${place.where}: a statement ran into the statement timeout while ${doing}`,
      'lower --batch-rows so each statement is shorter, or raise --statement-timeout');
  }
  // TLS: only for a connection-level failure (no server error number), judged on the driver's text.
  const connectionLevel = code === 'ETLS' || code === 'ESOCKET' || code === 'ECONNCLOSED' || code === '' || code === 'ETIMEOUT';
  if (connectionLevel && /unsupported protocol|no protocols available|wrong version number|tlsv1 alert protocol version/i.test(text)) {
    return wrap('SOURCE_CONNECT', `${place.where}: the server and Node share no TLS version: ${text}`,
      'the server speaks only TLS 1.0/1.1 (SQL Server 2012/2014 without the TLS 1.2 update): install the update so it speaks TLS 1.2 (best), ' +
        'or, only on a network you trust, allow TLS 1.0 with NODE_OPTIONS=--tls-min-v1.0', 'source');
  }
  if (code === 'ETLS' || (connectionLevel && /certificate|self[- ]signed|SSL|TLS/i.test(text))) {
    return wrap('SOURCE_CONNECT', `${place.where}: the TLS handshake failed: ${text}`,
      'give the server a trusted certificate, or add trustServerCertificate=true to the source URL if you trust this network', 'source');
  }
  if (code === 'ESOCKET' || code === 'ETIMEOUT' || code === 'EINSTLOOKUP' || code === 'ECONNCLOSED' || NETWORK_CODES.has(code) || NETWORK_CODES.has(socket)) {
    return wrap('SOURCE_CONNECT', `cannot reach ${place.where}: ${socket || code}: ${text}`,
      'check the host, port (or instanceName) in the source URL, that SQL Server listens on TCP, and that no firewall is in the way');
  }
  if (code === 'ECANCEL') {
    return wrap('INTERRUPTED', `${place.where}: the statement was cancelled while ${doing}`, 'run again with --resume to continue');
  }
  if (code === 'EREQINPROG') {
    return wrap('SOURCE_QUERY', `${place.where}: a statement was still running on the connection while ${doing} (${text})`,
      'this is a bug in the SQL Server adapter (a request not awaited before the next one); please report it; run again with --resume');
  }
  if (code === 'EABORT') {
    return wrap('SOURCE_QUERY', `${place.where}: the transaction was rolled back by the server while ${doing} (an earlier error aborted it)`,
      'run again with --resume; with --verbose the first error is shown');
  }
  return wrap('SOURCE_QUERY', `${place.where}: ${doing} failed: ${text}${num ? ` (error ${num})` : code ? ` (${code})` : ''}`,
    'run again with --verbose for the driver details');
}

/** The SQL Server error number of an mssql / tedious error, if the server sent one. */
export function errorNumber(err: unknown): number | undefined {
  const e = (err ?? {}) as MssqlLikeError;
  return e.number ?? e.originalError?.info?.number;
}

/**
 * Errors after which a new transaction, started at the last key already read, can go on:
 * the version store chose our old transaction as its victim (3966, 3967), a deadlock chose
 * us (1205). Not 3961 (DDL on the table since the transaction began): the DDL may have been
 * a TRUNCATE or a type change, and going on silently would mix two tables in one stream;
 * the run stops, and `--resume` continues after the last committed part, the schema checked again.
 */
export function retryableInNewTransaction(err: unknown): boolean {
  const n = errorNumber(err);
  return n === 3966 || n === 3967 || n === 1205;
}

interface Facts {
  readonly where: string;
  readonly user: string;
  readonly database: string;
  readonly table: string;
  readonly doing: string;
  readonly text: string;
}
type Mapped = [ConstructorParameters<typeof SeedlineError>[0], string, string, string?];

const outOfSpace = (f: Facts): Mapped => [
  'SOURCE_QUERY', `the server is out of space while ${f.doing}: ${f.text}`,
  'a read-only extract still needs tempdb (sorts, the version store) and log space on the server: ask the DBA to free or grow it, then run again with --resume',
];
const versionStore = (f: Facts): Mapped => [
  'SOURCE_QUERY', `the version store in tempdb is full or shrinking while ${f.doing}: ${f.text}`,
  'SNAPSHOT readers keep row versions in tempdb for as long as their transaction lives; seedline restarts its transaction every few minutes, ' +
    'but a busy server can still fill tempdb: ask the DBA to grow tempdb, extract at a quieter time or from a database snapshot, then run again with --resume',
];
const conversion = (f: Facts): Mapped => [
  'SOURCE_QUERY', `a value of ${f.table} could not be converted on the server while ${f.doing}: ${f.text}`,
  'this is a bug in the SQL Server adapter’s key or value conversion; please report it with the column types of the table',
];
const busy = (f: Facts): Mapped => [
  'SOURCE_CONNECT', `the database is not available right now while ${f.doing}: ${f.text}`, 'Azure SQL is moving or throttling the database: retry in a minute, with --resume',
];
const memoryOptimized = (f: Facts): Mapped => [
  'SOURCE_ISOLATION', `${f.table} is a memory-optimized table, which cannot be read in this isolation while ${f.doing}: ${f.text}`,
  'leave the table out of this run, or extract it from a database snapshot or with allowReadCommitted (memory-optimized tables read as SNAPSHOT then)',
  'allow-read-committed',
];

/** Server error numbers (https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors). */
const SERVER_ERRORS: Record<number, (f: Facts) => Mapped> = {
  976: (f) => ['SOURCE_CONNECT', `the replica is not readable for this connection: ${f.text}`, 'add applicationIntent=ReadOnly to the source URL for a readable secondary, or point it at the primary'],
  978: (f) => SERVER_ERRORS[976]!(f),
  208: (f) => ['TABLE_NOT_FOUND', `${f.text}${f.table !== 'a table' ? ` (table ${f.table})` : ''}`, 'check the table name and schema (dbo.Members)'],
  207: (f) => ['SCHEMA_DRIFT', `${f.table} has no longer the columns seedline read from the catalog: ${f.text}`, 'the table was changed: compare it with its .proto (seedline schema), review the change, then run again'],
  229: (f) => ['SOURCE_QUERY', `user "${f.user}" may not read while ${f.doing}: ${f.text}`, `GRANT SELECT on the tables (or db_datareader) to "${f.user}"`],
  230: (f) => SERVER_ERRORS[229]!(f),
  262: (f) => SERVER_ERRORS[229]!(f),
  297: (f) => SERVER_ERRORS[229]!(f),
  916: (f) => ['SOURCE_QUERY', `login "${f.user}" cannot access database "${f.database}" while ${f.doing}: ${f.text}`, `ask the DBA for a user in the database for this login (CREATE USER ... FOR LOGIN) with db_datareader`],
  1222: (f) => ['SOURCE_QUERY', `waited longer than LOCK_TIMEOUT for a lock while ${f.doing}`, 'run again when the schema change or maintenance holding the lock has finished'],
  3951: (f) => ['SOURCE_ISOLATION', `SNAPSHOT isolation was refused while ${f.doing}: ${f.text}`, 'turn ALLOW_SNAPSHOT_ISOLATION on for the database, or use allowReadCommitted', 'allow-read-committed'],
  3952: (f) => SERVER_ERRORS[3951]!(f),
  3956: (f) => ['SOURCE_ISOLATION', `SNAPSHOT isolation is still being turned on for the database (ALTER DATABASE not finished) while ${f.doing}`, 'wait until ALTER DATABASE ... SET ALLOW_SNAPSHOT_ISOLATION ON has finished (it waits for open transactions), then run again', 'allow-read-committed'],
  3961: (f) => [
    'SOURCE_QUERY',
    `${f.table} was changed by DDL (ALTER TABLE, ALTER INDEX ... REBUILD, TRUNCATE, a partition switch) after this SNAPSHOT transaction began, while ${f.doing}; ` +
      'SQL Server does not let a SNAPSHOT transaction read an object modified since its start (error 3961)',
    'the parts already written are kept: once the maintenance job or schema change has finished, run again with --resume (it continues after the last committed part and checks the table against its .proto again)',
  ],
  3959: versionStore,
  3966: versionStore,
  3967: versionStore,
  1205: (f) => ['SOURCE_QUERY', `chosen as deadlock victim while ${f.doing}`, 'run again with --resume; seedline runs at low deadlock priority on purpose'],
  1105: outOfSpace,
  9002: outOfSpace,
  701: (f) => ['SOURCE_QUERY', `the server has too little memory to run the statement while ${f.doing}: ${f.text}`, 'lower --batch-rows (or --concurrency) and run again with --resume; ask the DBA about the server’s memory'],
  596: (f) => ['INTERRUPTED', `the session was killed on the server (KILL by an administrator or the resource governor) while ${f.doing}`, 'ask who stopped it; run again with --resume'],
  41332: memoryOptimized,
  41333: memoryOptimized,
  40613: busy,
  40501: busy,
  242: conversion,
  517: conversion,
  8115: conversion,
};
