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
  const num = e.number ?? e.originalError?.info?.number;
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
  if (code === 'ELOGIN') {
    return wrap('SOURCE_AUTH', `${place.where} refused the login of "${place.user}": ${text}`, 'check the user, password and database in the source URL');
  }
  if (num === 976 || num === 978) {
    return wrap('SOURCE_CONNECT', `${place.where}: the replica is not readable for this connection: ${text}`,
      'add applicationIntent=ReadOnly to the source URL for a readable secondary, or point it at the primary');
  }
  if (code === 'ETIMEOUT' && /request|statement/i.test(`${doing} ${text}`) && !/connect/i.test(text)) {
    return wrap('SOURCE_QUERY', `${place.where}: a statement ran into the statement timeout while ${doing}`,
      'lower --batch-rows so each statement is shorter, or raise the statement timeout');
  }
  if (code === 'ETLS' || /certificate|self[- ]signed|SSL|TLS/i.test(text)) {
    return wrap('SOURCE_CONNECT', `${place.where}: the TLS handshake failed: ${text}`,
      'give the server a trusted certificate, or add trustServerCertificate=true to the source URL if you trust this network', 'source');
  }
  if (code === 'ESOCKET' || code === 'ETIMEOUT' || code === 'EINSTLOOKUP' || code === 'ECONNCLOSED' || NETWORK_CODES.has(code) || NETWORK_CODES.has(socket)) {
    return wrap('SOURCE_CONNECT', `cannot reach ${place.where}: ${socket || code}: ${text}`,
      'check the host, port (or instanceName) in the source URL, that SQL Server listens on TCP, and that no firewall is in the way');
  }
  if (num === 208) {
    return wrap('TABLE_NOT_FOUND', `${place.where}: ${text}${place.table ? ` (table ${place.table})` : ''}`, 'check the table name and schema (dbo.Members)');
  }
  if (num === 229 || num === 230 || num === 262 || num === 297) {
    return wrap('SOURCE_QUERY', `${place.where}: user "${place.user}" may not read while ${doing}: ${text}`,
      `GRANT SELECT on the tables (or db_datareader) to "${place.user}"`);
  }
  if (num === 1222) {
    return wrap('SOURCE_QUERY', `${place.where}: waited longer than LOCK_TIMEOUT for a lock while ${doing}`,
      'run again when the schema change or maintenance holding the lock has finished');
  }
  if (num === 3952 || num === 3951) {
    return wrap('SOURCE_ISOLATION', `${place.where}: SNAPSHOT isolation was refused while ${doing}: ${text}`,
      'turn ALLOW_SNAPSHOT_ISOLATION on for the database, or use allowReadCommitted', 'allow-read-committed');
  }
  if (num === 3961) {
    return wrap('SOURCE_QUERY', `${place.where}: ${place.table ?? 'a table'} was altered during the SNAPSHOT transaction while ${doing}`,
      'run again (with --resume) once the schema change has finished');
  }
  if (num === 1205) {
    return wrap('SOURCE_QUERY', `${place.where}: chosen as deadlock victim while ${doing}`, 'run again with --resume; seedline runs at low deadlock priority on purpose');
  }
  if (code === 'ECANCEL') {
    return wrap('INTERRUPTED', `${place.where}: the statement was cancelled while ${doing}`, 'run again with --resume to continue');
  }
  return wrap('SOURCE_QUERY', `${place.where}: ${doing} failed: ${text}${num ? ` (error ${num})` : code ? ` (${code})` : ''}`,
    'run again with --verbose for the driver details');
}
