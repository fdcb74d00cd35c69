import type sql from 'mssql';
import { SeedlineError } from '../common/errors.ts';

/**
 * `mssql://user:password@host:1433/database?encrypt=true&trustServerCertificate=false&applicationIntent=ReadOnly`
 * → the mssql driver's config. The password goes only into the returned config; `redacted`
 * is what messages and manifests show.
 */
export interface MssqlConnection {
  readonly config: sql.config;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** `mssql://host:port/database`: no user, no password. */
  readonly redacted: string;
  readonly readOnlyIntent: boolean;
}

export interface MssqlConnectionOptions {
  readonly connectTimeoutMs?: number;
  /** Per statement (mssql requestTimeout). */
  readonly statementTimeoutMs?: number;
  /** Pool size: connections reading in parallel. */
  readonly concurrency?: number;
}

/** Query parameters understood in the URL (case-insensitive), and nothing else. */
const PARAMS = ['encrypt', 'trustservercertificate', 'applicationintent', 'instancename', 'multisubnetfailover', 'domain', 'servername'] as const;

export function mssqlConnection(url: string, options: MssqlConnectionOptions = {}): MssqlConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usage('the source is not a URL (expected mssql://user:password@host:1433/database)');
  }
  if (u.protocol !== 'mssql:' && u.protocol !== 'sqlserver:') throw usage(`the source has scheme ${u.protocol}, expected mssql:// or sqlserver://`);
  const q = new Map<string, string>();
  for (const [k, v] of u.searchParams) {
    const key = k.toLowerCase();
    if (!(PARAMS as readonly string[]).includes(key)) throw usage(`unknown source URL parameter ${k} (known: encrypt, trustServerCertificate, applicationIntent, instanceName, multiSubnetFailover, domain, serverName)`);
    q.set(key, v);
  }
  const host = u.hostname || 'localhost';
  const port = u.port ? Number(u.port) : 1433;
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw usage('the source URL names no database (mssql://user:password@host:1433/Database)');
  const user = decodeURIComponent(u.username);
  const password = u.password ? decodeURIComponent(u.password) : (process.env.MSSQL_PASSWORD ?? '');
  const intent = (q.get('applicationintent') ?? 'ReadWrite').toLowerCase();
  if (intent !== 'readonly' && intent !== 'readwrite') throw usage(`applicationIntent must be ReadOnly or ReadWrite, got ${q.get('applicationintent')}`);
  const encrypt = q.get('encrypt') ?? 'true';
  if (!['true', 'false', 'strict'].includes(encrypt)) throw usage(`encrypt must be true, false or strict, got ${encrypt}`);
  const domain = q.get('domain');
  const instanceName = q.get('instancename');
  const serverName = q.get('servername');
  const config: sql.config = {
    server: host,
    database,
    ...(instanceName ? {} : { port }),
    ...(domain ? { authentication: { type: 'ntlm', options: { domain, userName: user, password } } } : { user, password }),
    connectionTimeout: options.connectTimeoutMs ?? 15_000,
    requestTimeout: options.statementTimeoutMs ?? 60_000, // the CLI's default (open-source.ts DEFAULT_STATEMENT_TIMEOUT_MS)
    arrayRowMode: true,
    pool: { min: 0, max: Math.max(1, options.concurrency ?? 1), idleTimeoutMillis: 30_000 },
    options: {
      appName: 'seedline extract',
      encrypt: encrypt === 'strict' ? ('strict' as unknown as boolean) : encrypt === 'true',
      trustServerCertificate: bool(q.get('trustservercertificate'), false, 'trustServerCertificate'),
      readOnlyIntent: intent === 'readonly',
      multiSubnetFailover: bool(q.get('multisubnetfailover'), false, 'multiSubnetFailover'),
      useUTC: true,
      abortTransactionOnError: true,
      enableArithAbort: true,
      ...(instanceName ? { instanceName } : {}),
      ...(serverName ? { serverName } : {}),
    },
  };
  return { config, host, port, database, user, redacted: `mssql://${host}:${port}/${database}`, readOnlyIntent: intent === 'readonly' };
}

function bool(v: string | undefined, fallback: boolean, name: string): boolean {
  if (v === undefined) return fallback;
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  throw usage(`${name} must be true or false, got ${v}`);
}

function usage(message: string): SeedlineError {
  // Never echo the URL: it may hold a password.
  return new SeedlineError('USAGE', message, { option: 'source', hint: 'write the source as mssql://user:password@host:1433/Database?encrypt=true' });
}
