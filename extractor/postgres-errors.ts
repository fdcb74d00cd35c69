import { SeedlineError, messageOf } from '../common/errors.ts';

/** What an error from `pg` or the network means for the user: one message, one hint. */
export interface PgErrorPlace {
  /** `postgres://host:port/database`, never with credentials. */
  readonly where: string;
  readonly user: string;
  readonly database: string;
  readonly table?: string;
}

interface PgLikeError {
  code?: string;
  message?: string;
  severity?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/**
 * Maps a driver / network error to a SeedlineError. SQLSTATE codes:
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export function mapPgError(err: unknown, place: PgErrorPlace, doing: string): SeedlineError {
  if (err instanceof SeedlineError) return err;
  const e = (err ?? {}) as PgLikeError;
  const code = e.code ?? '';
  const text = messageOf(err);
  const ctx = (hint: string) => ({ ...(place.table ? { table: place.table } : {}), hint });
  const wrap = (c: ConstructorParameters<typeof SeedlineError>[0], message: string, hint: string) =>
    new SeedlineError(c, message, ctx(hint), { cause: err });

  if (code === '28P01' || /password authentication failed/i.test(text)) {
    return wrap('SOURCE_AUTH', `${place.where}: password authentication failed for user "${place.user}"`,
      'check the user and password in the source URL (or PGPASSWORD)');
  }
  if (code === '28000') {
    return wrap('SOURCE_AUTH', `${place.where} refused user "${place.user}": ${text}`,
      'check the user name in the source URL, and that pg_hba.conf lets it connect from this host');
  }
  if (/SASL|client password must be a string/i.test(text)) {
    return wrap('SOURCE_AUTH', `${place.where} asks for a password for user "${place.user}" and none was given`,
      'put the password in the source URL (postgres://user:password@host/db) or in PGPASSWORD');
  }
  if (code === '3D000') {
    return wrap('SOURCE_CONNECT', `${place.where}: database "${place.database}" does not exist`,
      'check the database name at the end of the source URL (psql -l lists them)');
  }
  // Before the network check: the server's message says "statement timeout" too.
  if (code === '57014') {
    return wrap('SOURCE_QUERY', `${place.where}: a statement ran into the statement timeout while ${doing}`,
      'leave --batch-rows out (statements then adapt to 1-2 s), lower it, or raise --statement-timeout');
  }
  // Before the network check too: "canceling statement due to lock timeout".
  if (code === '55P03') {
    return wrap('SOURCE_LOCKED', `${place.where}: ${place.table ? `${place.table}: ` : ''}a lock wait ran into the lock timeout while ${doing} (someone holds an exclusive lock)`,
      'run again when the schema change or maintenance holding the lock has finished, or raise --lock-timeout');
  }
  if (NETWORK_CODES.has(code) || /timeout|terminated unexpectedly|Connection terminated/i.test(text)) {
    return wrap('SOURCE_CONNECT', `cannot reach ${place.where}: ${code || text}`,
      'check the host and port in the source URL, that the server is running, and that no firewall is in the way');
  }
  if (code === '57P03') {
    return wrap('SOURCE_CONNECT', `${place.where} is not accepting connections yet: ${text}`, 'wait until the server has started, then run again');
  }
  if (code === '53300') {
    return wrap('SOURCE_CONNECT', `${place.where} has no free connection slots: ${text}`, 'lower --concurrency or try when the server is less busy');
  }
  if (code === '42P01') {
    return wrap('TABLE_NOT_FOUND', `${place.where}: ${text}${place.table ? ` (table ${place.table})` : ''}`, 'check the table name');
  }
  if (code === '42501') {
    return wrap('SOURCE_QUERY', `${place.where}: user "${place.user}" may not read while ${doing}: ${text}`,
      `GRANT SELECT on the tables to "${place.user}", or use a user that may read them`);
  }
  return wrap('SOURCE_QUERY', `${place.where}: ${doing} failed: ${text}${code ? ` (SQLSTATE ${code})` : ''}`,
    'run again with --verbose for the driver details');
}
