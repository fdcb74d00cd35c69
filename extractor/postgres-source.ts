import pg from 'pg';
import { SeedlineError } from '../common/errors.ts';
import { assertSupported, BINARY_ARRAY_ELEMENTS, describePgTable, listPgTables, quoteIdent, type PgTableInfo } from './postgres-catalog.ts';
import { BINARY_TYPES, epochMicros, quoteLiteral } from './pg-binary-fields.ts';
import { decodeArray, decodeInterval, isoDate } from './pg-values.ts';
import { copyPage, copyPlan, copyStatement } from './postgres-copy-page.ts';
import { mapPgError } from './postgres-errors.ts';
import { lockPgTables, lockWaitError } from './postgres-locks.ts';
import { bindLiteral, bindParameters, keysetSelect, wideColumnsBytes, type KeysetPage } from './postgres-keyset.ts';
import type { RecordLayout } from './record-layout.ts';
import type { ColumnInfo, ColumnValue, EncodedBatch, KeyRange, KeyValue, ReadOptions, RowBatch, SnapshotInfo, Source, TableCount, TableInfo, TableRef } from './source.ts';
import { parseSourceUrl, type ParsedSourceUrl } from './source-url.ts';

export interface PostgresSourceOptions {
  readonly url: string;
  /** IANA zone the naive `timestamp` columns are in; required to read such a column. */
  readonly sourceTimezone?: string;
  /** Connections reading in parallel, all in the same exported snapshot. */
  readonly concurrency?: number;
  readonly connectTimeoutMs?: number;
  /** Per statement: a keyset page must finish within it. */
  readonly statementTimeoutMs?: number;
  /** Never queue behind an exclusive lock (and block everyone queued behind us). */
  readonly lockTimeoutMs?: number;
}

/**
 * A keyset page of a table with unbounded columns stops at this many bytes of them (plus the
 * row that crosses it), whatever rows per page the sizer asks: 20 values of 50 MB come one
 * page each, not 1 GB at once. Above the sizer's own byte bounds (1 MB of rows, 4 MB encoded),
 * so ordinary pages are never cut by it.
 */
export const PAGE_MAX_BYTES = 8 * 1024 * 1024;

/** Names the SQL cursors of readHeap (one per pass; closed when it ends). */
let heapCursors = 0;

/** Every value arrives as PostgreSQL's own text: the driver parses nothing in JS. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/**
 * PostgreSQL adapter. One READ ONLY REPEATABLE READ transaction per connection; the first
 * exports its snapshot and the others import it, so every worker sees the same data.
 * Values are turned into their exact text on the server (numeric, timestamps as
 * microseconds) and only reshaped in JS (see `convert`).
 */
export class PostgresSource implements Source {
  readonly dialect = 'postgres' as const;
  readonly description: Source['description'];
  private readonly url: ParsedSourceUrl;
  private readonly options: PostgresSourceOptions;
  private readonly idle: pg.Client[] = [];
  private readonly waiting: ((client: pg.Client) => void)[] = [];
  private readonly all: pg.Client[] = [];
  private snapshotId: string | null = null;
  /**
   * Whether pages may be read with COPY … (FORMAT binary) (readEncoded): not on PGlite (one
   * backend shared by every connection), nor on a SQL_ASCII database, whose text may not be
   * UTF-8 (the row path decodes it with replacement characters; bytes copied would differ).
   */
  private binaryCopy = false;
  private readonly tables = new Map<string, PgTableInfo>();
  /** The source zone is no time-zone abbreviation (checkTimezone): see copyPlan. */
  private zoneIsName = false;

  constructor(options: PostgresSourceOptions) {
    this.options = options;
    this.url = parseSourceUrl(options.url);
    const { host, port, database } = this.url;
    this.description = { dialect: 'postgres', host, port, database };
  }

  async connect(): Promise<SnapshotInfo> {
    const leader = await this.open();
    try {
      // The system identifier (pg_control_system) tells clusters apart, the name databases in one:
      // verify --source refuses another database than the dump's own.
      const { rows } = await leader.query<{ id: string; standby: string; version: string; full: string; encoding: string; system: string | null; db: string }>(
        `SELECT pg_export_snapshot() AS id, pg_is_in_recovery() AS standby, current_setting('server_version') AS version,
                version() AS full, current_setting('server_encoding') AS encoding, current_database() AS db,
                CASE WHEN has_function_privilege('pg_control_system()', 'execute') THEN (SELECT system_identifier::text FROM pg_control_system()) END AS system`,
      );
      this.snapshotId = rows[0]!.id;
      this.binaryCopy = !rows[0]!.full.includes('PGlite') && rows[0]!.encoding !== 'SQL_ASCII';
      if (this.options.sourceTimezone !== undefined) await this.checkTimezone(leader, this.options.sourceTimezone);
      this.idle.push(leader);
      return {
        isolation: 'repeatable read, read only',
        exportedSnapshot: this.snapshotId,
        sharedByAllWorkers: true,
        standby: rows[0]!.standby === 't',
        serverVersion: rows[0]!.version,
        sourceIdentity: { systemIdentifier: rows[0]!.system, database: rows[0]!.db },
      };
    } catch (err) {
      await this.close();
      throw this.fail(err, 'starting the snapshot');
    }
  }

  async close(): Promise<void> {
    const clients = this.all.splice(0);
    this.idle.length = 0;
    await Promise.all(clients.map((c) => c.query('ROLLBACK').catch(() => {}).then(() => c.end()).catch(() => {})));
  }

  async listTables(): Promise<TableRef[]> {
    return this.withClient((c) => listPgTables(c), 'listing tables');
  }

  async describeTable(qualifiedName: string): Promise<TableInfo> {
    const info = await this.withClient(async (c) => {
      try {
        return await describePgTable(c, qualifiedName, this.url.redacted);
      } catch (err) {
        throw (await lockWaitError(err, this.options.url, qualifiedName, this.options.lockTimeoutMs ?? 10_000, 'a lock to read its catalog')) ?? err;
      }
    }, `reading the catalog of ${qualifiedName}`);
    this.tables.set(info.qualifiedName, info);
    return info;
  }

  async planRanges(table: TableInfo, parts: number): Promise<KeyRange[]> {
    const info = this.pgTable(table);
    if (parts <= 1 || info.primaryKey.length === 0) return [{}];
    // A sample of the keys (a few % of the pages, not a second scan) gives the split points.
    const percent = Math.min(100, Math.max(0.01, (20_000 / Math.max(1, info.estimatedRows)) * 100));
    const keys = info.primaryKey.map((k) => `t.${quoteIdent(k)}`);
    const sql =
      `SELECT ${keys.map((k) => `${k}::text`).join(', ')} FROM ${this.from(info)}` +
      `${percent < 100 ? ` TABLESAMPLE SYSTEM (${percent.toFixed(4)})` : ''} ORDER BY ${keys.join(', ')}`;
    const rows = await this.withClient(async (c) => (await c.query({ text: sql, rowMode: 'array' })).rows as string[][], `sampling keys of ${info.qualifiedName}`);
    const splits: KeyValue[] = [];
    for (let i = 1; i < parts; i++) {
      const key = rows[Math.floor((i * rows.length) / parts)];
      if (key && (splits.length === 0 || key.join('\0') !== splits.at(-1)!.join('\0'))) splits.push(key);
    }
    const ranges: KeyRange[] = [];
    let after: KeyValue | undefined;
    for (const upTo of splits) {
      ranges.push(after ? { after, upTo } : { upTo });
      after = upTo;
    }
    ranges.push(after ? { after } : {});
    return ranges;
  }

  async *readRange(table: TableInfo, range: KeyRange, options: ReadOptions): AsyncGenerator<RowBatch> {
    const info = this.readable(table);
    const hasNaive = info.columns.some((c) => c.kind === 'timestamp');
    const select = info.columns.map((c) => selectExpression(c, hasNaive ? '$1' : '', info.baseTypes[c.name]!, info.castTypes[c.name]!)).join(', ');
    const params: unknown[] = hasNaive ? [this.options.sourceTimezone] : [];
    if (info.primaryKey.length === 0) {
      // DECLARE takes no bind parameters: the zone as a literal.
      const heapSelect = info.columns.map((c) => selectExpression(c, hasNaive ? quoteLiteral(this.options.sourceTimezone!) : '', info.baseTypes[c.name]!, info.castTypes[c.name]!)).join(', ');
      const client = await this.acquire();
      try {
        yield* this.readHeap(client, info, `SELECT ${heapSelect} FROM ${this.from(info)}`, options);
      } finally {
        this.release(client);
      }
      return;
    }
    const width = info.columns.length;
    const fetch = async (client: pg.Client, page: KeysetPage) => {
      const values = [...params];
      const sql = keysetSelect(info, select, page, bindParameters(values));
      const raw = (await client.query({ text: sql, values, rowMode: 'array' })).rows as (string | null)[][];
      return { raw, keys: raw.map((r) => r.slice(width) as string[]) };
    };
    // Converted after the next page was asked for: the server works while this runs.
    const size = (page: { raw: (string | null)[][] }) => page.raw.reduce((n, r) => n + rowLength(r), 0);
    for await (const { raw, keys } of this.keysetPages(info, range, options, fetch, size)) yield { rows: convertPage(info, raw, keys), keys };
  }

  /**
   * The binary COPY path: each keyset page is one `COPY (SELECT …) TO STDOUT (FORMAT binary)`
   * whose tuples become record bytes as they arrive (postgres-copy-page.ts). COPY takes no
   * bind parameters, so the key values are inlined as literals cast to their exact type.
   */
  readEncoded(table: TableInfo, range: KeyRange, options: ReadOptions, layout: RecordLayout): AsyncGenerator<EncodedBatch> | null {
    if (!this.binaryCopy) return null;
    const info = this.readable(table);
    // A heap table is one long pass: the row path's cursor reads it.
    if (info.primaryKey.length === 0) return null;
    const plan = copyPlan(info, layout, this.options.sourceTimezone, this.zoneIsName);
    if (!plan) return null;
    return this.keysetPages(info, range, options, (client, page) => {
      const sql = copyStatement(plan, keysetSelect(info, plan.select, page, bindLiteral));
      return copyPage(client, sql, plan, info.qualifiedName, page.limit);
    }, (page) => page.bytes.length);
  }

  /**
   * A range page by page in key order, one page ahead: the server runs the next statement
   * while the consumer writes this one. `fetch` runs one page's statement.
   */
  private async *keysetPages<T extends { readonly keys: readonly KeyValue[] }>(
    info: PgTableInfo,
    range: KeyRange,
    options: ReadOptions,
    fetch: (client: pg.Client, page: KeysetPage) => Promise<T>,
    sizeOf: (batch: T) => number,
  ): AsyncGenerator<T> {
    const client = await this.acquire();
    try {
      const sizer = options.chunkSize;
      // Wide columns: pages are cut by bytes on the server too, so a short page is no end.
      const wide = wideColumnsBytes(info);
      const bytesCap = wide ? { maxBytes: PAGE_MAX_BYTES, wide } : {};
      let asked = options.batchRows;
      const page = (after: KeyValue | undefined): Promise<T> => {
        asked = sizer?.rows ?? options.batchRows;
        const limit = asked;
        const started = performance.now();
        return fetch(client, { ...(after ? { after } : {}), ...(range.upTo ? { upTo: range.upTo } : {}), limit, ...bytesCap }).then(
          (batch) => {
            sizer?.observe(limit, batch.keys.length, performance.now() - started);
            return batch;
          },
          (err: unknown) => {
            throw this.fail(err, `reading ${info.qualifiedName}`, info.qualifiedName);
          },
        );
      };
      let next: Promise<T> | null = page(range.after);
      try {
        while (next) {
          const batch: T = await next;
          next = null;
          options.signal?.throwIfAborted();
          if (batch.keys.length === 0) return;
          const more = batch.keys.length === asked || wide !== null;
          // A page of huge values is not read ahead: two of them at once would double the memory.
          const huge = wide !== null && sizeOf(batch) >= PAGE_MAX_BYTES;
          if (more && !huge) {
            next = page(batch.keys.at(-1));
            // Handled when awaited; until then, a failure must not count as unhandled (and end the process).
            next.catch(() => {});
          }
          yield batch;
          if (more && huge) next = page(batch.keys.at(-1));
        }
      } finally {
        // Never hand the connection on with a statement of ours still running on it.
        await (next as Promise<T> | null)?.catch(() => {});
      }
    } finally {
      this.release(client);
    }
  }

  /** The table as the caller reads it (maybe fewer columns: left out in the config), checked readable. */
  private readable(table: TableInfo): PgTableInfo {
    const info: PgTableInfo = { ...this.pgTable(table), columns: table.columns };
    assertSupported(info);
    if (info.columns.some((c) => c.kind === 'timestamp') && this.options.sourceTimezone === undefined) {
      throw new SeedlineError('USAGE', `${info.qualifiedName} has naive timestamp columns and no source time zone was given`, {
        table: info.qualifiedName,
        option: 'source-timezone',
        hint: 'pass --source-timezone with the zone the legacy server wrote its local times in, e.g. Europe/Helsinki',
      });
    }
    return info;
  }

  /**
   * Every connection of the run, opened now, takes the locks (postgres-locks.ts): a worker
   * opened later would queue its first read behind a TRUNCATE that waits for the leader's
   * lock, and time out. A lock already held is granted again at once, waiters or not.
   */
  async lockTables(tables: readonly TableInfo[], lockTimeoutMs: number): Promise<void> {
    const infos = tables.map((t) => this.pgTable(t));
    try {
      while (this.all.length < Math.max(1, this.options.concurrency ?? 1)) this.idle.push(await this.open());
      for (const client of [...this.all]) await lockPgTables(client, infos, lockTimeoutMs, this.options.url);
    } catch (err) {
      throw this.fail(err, 'locking the tables');
    }
  }

  async countRows(table: TableInfo): Promise<TableCount> {
    const info = this.pgTable(table);
    const key = info.primaryKey.length === 1 ? info.columns.find((c) => c.name === info.primaryKey[0]) : undefined;
    const summable = key?.kind === 'int32' || key?.kind === 'int64';
    // numeric: a sum of bigints must not overflow.
    const sql = `SELECT count(*)::text AS rows${summable ? `, coalesce(sum(t.${quoteIdent(key!.name)}::numeric), 0)::text AS keysum` : ''} FROM ${this.from(info)}`;
    const row = await this.withClient(async (c) => (await c.query<{ rows: string; keysum?: string }>(sql)).rows[0]!, `counting ${info.qualifiedName}`);
    return { rows: Number(row.rows), ...(row.keysum !== undefined ? { keySum: row.keysum } : {}) };
  }

  /**
   * A table without a primary key: one pass with a server-side cursor, not resumable mid-table.
   * An SQL cursor (DECLARE, then FETCH n): each FETCH is a statement of its own, so the
   * statement timeout bounds each fetch, not the whole pass with the time spent writing between
   * fetches (a protocol-level portal, read without a Sync, kept one timer running for the pass).
   * A fetch cannot be cut by bytes on the server as a keyset page is, so with columns of
   * unbounded size each fetch asks for as many rows as fit PAGE_MAX_BYTES at the largest row of
   * the fetch before (heapFetchRows; the first asks for one).
   */
  private async *readHeap(client: pg.Client, info: PgTableInfo, sql: string, options: ReadOptions): AsyncGenerator<RowBatch> {
    const cursor = `seedline_heap_${++heapCursors}`;
    const wide = wideColumnsBytes(info) !== null;
    let largestRow: number | undefined;
    let declared = false;
    try {
      try {
        await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`);
        declared = true;
      } catch (err) {
        throw this.fail(err, `reading ${info.qualifiedName}`, info.qualifiedName);
      }
      for (;;) {
        options.signal?.throwIfAborted();
        let raw: (string | null)[][];
        const rows = heapFetchRows(options.chunkSize?.rows ?? options.batchRows, wide, largestRow);
        const started = performance.now();
        try {
          raw = (await client.query({ text: `FETCH FORWARD ${rows} FROM ${cursor}`, rowMode: 'array' })).rows as (string | null)[][];
        } catch (err) {
          throw this.fail(err, `reading ${info.qualifiedName}`, info.qualifiedName);
        }
        // The fetch size adapts as a keyset page's does (1-2 s per statement).
        options.chunkSize?.observe(rows, raw.length, performance.now() - started);
        if (raw.length === 0) return;
        if (wide) largestRow = raw.reduce((n, r) => Math.max(n, rowLength(r)), 0);
        yield { rows: convertPage(info, raw, null), keys: raw.map(() => []) };
      }
    } finally {
      // Fails only in a transaction already aborted (which ends the run anyway).
      if (declared) await client.query(`CLOSE ${cursor}`).catch(() => {});
    }
  }

  private pgTable(table: TableInfo): PgTableInfo {
    const info = this.tables.get(table.qualifiedName);
    if (!info) throw new Error(`internal: describeTable(${table.qualifiedName}) was not called before reading it`);
    return info;
  }

  private from(info: PgTableInfo): string {
    return `${quoteIdent(info.schema)}.${quoteIdent(info.name)} AS t`;
  }

  /** Opens one connection inside the run's snapshot. */
  private async open(): Promise<pg.Client> {
    const o = this.options;
    const client = new pg.Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
      statement_timeout: o.statementTimeoutMs ?? 120_000,
      lock_timeout: o.lockTimeoutMs ?? 10_000,
      application_name: 'seedline extract',
      types: TEXT_TYPES,
    });
    // A connection dropped while idle must not crash the process; the next query reports it.
    client.on('error', () => {});
    try {
      await client.connect();
      this.all.push(client);
      // Formats the text conversions rely on, whatever the server's defaults.
      // standard_conforming_strings: a backslash in a key literal (binary COPY path) is just a backslash.
      await client.query(
        "SET datestyle = 'ISO, YMD'; SET bytea_output = 'hex'; SET extra_float_digits = 1; SET TimeZone = 'UTC'; SET standard_conforming_strings = on",
      );
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (this.snapshotId) await client.query(`SET TRANSACTION SNAPSHOT '${this.snapshotId.replace(/'/g, "''")}'`);
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      throw this.fail(err, 'connecting');
    }
  }

  private async checkTimezone(client: pg.Client, zone: string): Promise<void> {
    // pg_timezone_names only: AT TIME ZONE also takes POSIX strings like '+3', whose sign is inverted.
    // Every value arrives as text (TEXT_TYPES): the boolean is 't' or 'f'.
    const { rows } = await client.query<{ abbrev: string }>(
      'SELECT EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE lower(abbrev) = lower($1)) AS abbrev FROM pg_timezone_names WHERE name = $1',
      [zone],
    );
    this.zoneIsName = rows.length > 0 && rows[0]!.abbrev === 'f';
    if (!rows.length) {
      throw new SeedlineError('USAGE', `--source-timezone ${zone} is not a time zone this server knows`, {
        option: 'source-timezone',
        hint: 'use an IANA zone name such as Europe/Helsinki or UTC',
      });
    }
    if (!this.zoneIsName) await refuseAbbreviationWithRules(client, zone);
  }

  private async acquire(): Promise<pg.Client> {
    if (this.all.length === 0) throw new Error('internal: PostgresSource.connect() was not called');
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.length < Math.max(1, this.options.concurrency ?? 1)) return this.open();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(client: pg.Client): void {
    if (!this.all.includes(client)) return;
    const next = this.waiting.shift();
    if (next) next(client);
    else this.idle.push(client);
  }

  private async withClient<T>(fn: (client: pg.Client) => Promise<T>, doing: string): Promise<T> {
    const client = await this.acquire();
    try {
      return await fn(client);
    } catch (err) {
      throw this.fail(err, doing);
    } finally {
      this.release(client);
    }
  }

  private fail(err: unknown, doing: string, table?: string): SeedlineError {
    const { redacted, user, database } = this.url;
    return mapPgError(err, { where: redacted, user, database, ...(table ? { table } : {}) }, doing);
  }
}

/**
 * Where a zone's name is also an abbreviation (CET, EET, MET, WET), AT TIME ZONE takes the
 * abbreviation's fixed offset, not the IANA zone's rules: CET would be +1 in summer too.
 * Refused, naming the Region/City zone to use; names whose rules are that fixed offset all
 * year (UTC, GMT, EST, ...) are fine. The zone's offsets come from the session's TimeZone,
 * which always reads a name as a zone.
 */
async function refuseAbbreviationWithRules(client: pg.Client, zone: string): Promise<void> {
  const results = (await client.query(
    `SET LOCAL TimeZone = ${quoteLiteral(zone)};
     SELECT (SELECT extract(epoch from utc_offset)::int FROM pg_timezone_abbrevs WHERE lower(abbrev) = lower(${quoteLiteral(zone)}) LIMIT 1) AS fixed,
            extract(timezone from '2021-01-15 12:00+00'::timestamptz)::int AS winter, extract(timezone from '2021-07-15 12:00+00'::timestamptz)::int AS summer;
     SET LOCAL TimeZone = 'UTC'`,
  )) as unknown as pg.QueryResult<{ fixed: string; winter: string; summer: string }>[];
  const row = results[1]!.rows[0]!;
  if (row.fixed === row.winter && row.fixed === row.summer) return;
  const instead = ZONE_FOR_ABBREVIATION[zone.toUpperCase()];
  throw new SeedlineError('USAGE', `--source-timezone ${zone} is also a time-zone abbreviation, which PostgreSQL reads as the fixed offset ${Number(row.fixed) / 3600}h all year, while the zone ${zone} has summer time`, {
    option: 'source-timezone',
    hint: `name the zone by region and city, e.g. ${instead ? `${instead} (what the IANA database makes ${zone} a link to) or ` : ''}the city the legacy server was in`,
  });
}

/** IANA tzdata 2024b links these names to these zones. */
const ZONE_FOR_ABBREVIATION: Readonly<Record<string, string>> = { CET: 'Europe/Brussels', MET: 'Europe/Brussels', EET: 'Europe/Athens', WET: 'Europe/Lisbon' };

/** SQL for a bytea value as base64 text without encode's line breaks (decoded by Buffer.from(…, 'base64')). */
function base64(bytea: string): string {
  return `translate(encode(${bytea}, 'base64'), chr(10), '')`;
}

/** The select-list expression that gives a column's exact text in the shape of its kind. */
function selectExpression(c: ColumnInfo, tzParam: string, base: string, castType: string): string {
  const q = quoteIdent(c.name);
  switch (c.kind) {
    case 'decimal':
      return `${q}::numeric::text`;
    case 'timestamp':
      // The wall-clock time is read in the source's zone; extract(epoch) is exact numeric (PG 14+),
      // 'Infinity' for an infinite timestamp (convert checks the range, naming the row).
      return `trunc(extract(epoch from (${q} AT TIME ZONE ${tzParam}::text)) * 1000000)::text`;
    case 'timestamptz':
      return `trunc(extract(epoch from ${q}) * 1000000)::text`;
    // The binary send format, as the COPY path gets it: one decoder for both paths (pg-values.ts).
    case 'interval':
      return `interval_send(${q})`;
    case 'array':
      // In base64 as bytea is (below): an array of large values is as large as they are.
      return base64(`array_send(${q}::${BINARY_ARRAY_ELEMENTS[base] ? castType : 'text[]'})`);
    case 'string':
      // As the COPY path reads it: the cast to text (inet's keeps the /32 its output leaves out).
      return (BINARY_TYPES as readonly string[]).includes(base) ? q : `${q}::text`;
    case 'bytes':
      // Base64, not bytea_output's hex: 4/3 of the value on the wire and as a JS string, not
      // twice, and Node decodes it without the UTF-16 copy of the string it makes for hex (a
      // 50 MB value took 100 MB of string plus 200 MB while decoded). Without encode's line
      // breaks, which would send Node's decoder down a path that copies the string again.
      return base64(q);
    default:
      return q;
  }
}

/**
 * Rows a cursor fetch of a table without a primary key asks for. Without columns of unbounded
 * size: what the sizer says. With them: one row first (nothing is known of their size), then
 * as many as fit PAGE_MAX_BYTES at the largest row of the fetch before (its text: base64 for
 * bytea, 4/3 of the bytes), at least one: 20 values of 50 MB come one fetch each, not 1 GB at
 * once. A fetch of small rows followed by large ones is not bounded by this (the sizes come
 * after the rows); the next fetch after it is.
 */
export function heapFetchRows(sizerRows: number, wide: boolean, largestRowBefore: number | undefined): number {
  if (!wide) return sizerRows;
  if (largestRowBefore === undefined) return 1;
  return Math.max(1, Math.min(sizerRows, Math.floor(PAGE_MAX_BYTES / Math.max(1, largestRowBefore))));
}

/** Characters of a raw row's texts: its size as received. */
function rowLength(row: readonly (string | null)[]): number {
  let n = 0;
  for (const v of row) n += v?.length ?? 0;
  return n;
}

/**
 * A page's rows converted, each raw row let go as soon as it is: a page of large values holds
 * one row both as text and as values, not all of them (the page array is the driver's result).
 */
function convertPage(info: PgTableInfo, raw: (string | null)[][], keys: readonly KeyValue[] | null): ColumnValue[][] {
  const rows: ColumnValue[][] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    rows[i] = convertRow(info, raw[i]!, keys ? keys[i]! : []);
    (raw as unknown[])[i] = null;
  }
  return rows;
}

/** Server text → the JS value of the type mapping (NULL stays null, '' stays ''). */
function convertRow(info: PgTableInfo, raw: readonly (string | null)[], key: KeyValue): ColumnValue[] {
  const columns = info.columns;
  const out: ColumnValue[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const v = raw[i] ?? null;
    out[i] = v === null ? null : convert(columns[i]!, v, info, key);
  }
  return out;
}

function convert(c: ColumnInfo, v: string, info: PgTableInfo, key: KeyValue): ColumnValue {
  switch (c.kind!) {
    case 'int32':
    case 'double':
      return Number(v);
    case 'float':
      return Math.fround(Number(v)); // the float4's own value, not the double nearest its text
    case 'bool':
      return v === 't';
    case 'bytes':
      return Buffer.from(v, 'base64'); // selectExpression: base64 without line breaks
    case 'uuid':
      return v.toLowerCase();
    case 'date':
      return isoDate(v);
    case 'timestamp':
    case 'timestamptz':
      return epochMicros(v, info.qualifiedName, c.name, key);
    case 'interval':
      return decodeInterval(Buffer.from(v.slice(2), 'hex'), 0);
    case 'array': {
      const bytes = Buffer.from(v, 'base64');
      return decodeArray(bytes, 0, bytes.length, c.arrayOf!, () => `${info.qualifiedName}.${c.name}`);
    }
    default:
      return v; // int64, decimal, string: already exact text
  }
}
