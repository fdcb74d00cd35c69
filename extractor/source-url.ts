import { SeedlineError } from '../common/errors.ts';

/** A source URL taken apart. The password never leaves this object except to the driver. */
export interface ParsedSourceUrl {
  readonly dialect: 'postgres' | 'mssql';
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** For messages and manifests: `postgres://host:port/database`, no user, no password. */
  readonly redacted: string;
}

const DIALECTS: Record<string, { dialect: 'postgres' | 'mssql'; port: number }> = {
  'postgres:': { dialect: 'postgres', port: 5432 },
  'postgresql:': { dialect: 'postgres', port: 5432 },
  'mssql:': { dialect: 'mssql', port: 1433 },
  'sqlserver:': { dialect: 'mssql', port: 1433 },
};

export function parseSourceUrl(url: string, option = 'source'): ParsedSourceUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Never echo the string: it may hold a password.
    throw new SeedlineError('USAGE', `--${option} is not a URL (expected postgres://user:password@host:5432/database)`, {
      option,
      hint: 'write the source as postgres://user:password@host:port/database',
    });
  }
  const d = DIALECTS[u.protocol];
  if (!d) {
    throw new SeedlineError('USAGE', `--${option} has scheme ${u.protocol} (expected postgres:// or mssql://)`, {
      option,
      hint: 'write the source as postgres://user:password@host:port/database',
    });
  }
  const host = u.hostname || 'localhost';
  const port = u.port ? Number(u.port) : d.port;
  const user = decodeURIComponent(u.username) || process.env.PGUSER || process.env.USER || 'postgres';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || (d.dialect === 'postgres' ? user : 'master');
  return { dialect: d.dialect, host, port, database, user, redacted: `${d.dialect}://${host}:${port}/${database}` };
}

/** Replaces any `user:password@` in free text (driver messages) with `***@`. */
export function redactCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1***@');
}
