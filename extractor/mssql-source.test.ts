import { describe, expect, it } from 'vitest';
import { COLUMNS_SQL, LIST_TABLES_SQL, PRIMARY_KEY_SQL, TABLE_SQL } from './mssql-catalog.ts';
import { DATABASE_STATE_SQL } from './mssql-consistency.ts';
import { withDeadline, type MssqlDriver, type MssqlTransaction } from './mssql-driver.ts';
import { mapMssqlError } from './mssql-errors.ts';
import { MssqlSource, type MssqlSourceOptions } from './mssql-source.ts';
import type { Param } from './mssql-sql.ts';

/**
 * MssqlSource over a recording fake of its narrow driver interface (mssql-driver.ts): what it
 * sends, on which connection, in which order. Not a database: the fake answers catalog and page
 * statements from a few rows, and refuses a rollback while a request is active, as mssql does.
 */

interface Column { name: string; base: string; maxLength: number; precision?: number; scale?: number; nullable?: boolean }
interface FakeTable { columns: Column[]; pk: string[]; rows: unknown[][]; estimatedRows?: number }

type Answer = (text: string, params: readonly Param[]) => unknown[] | undefined;

function fakeDriver(table: FakeTable, options: { lockTimeout?: number; modifiedAt?: (tx: number) => string; fail?: (text: string, call: number) => Error | undefined; answer?: Answer } = {}) {
  const calls: string[] = [];
  let txCount = 0;
  let queryCount = 0;
  const catalog = (text: string): unknown[] | undefined => {
    if (text === DATABASE_STATE_SQL) {
      return [{ name: 'Legacy', snapshotIsolationState: 1, readCommittedSnapshot: false, sourceDatabaseId: null, createdAt: '2020-01-01T00:00:00', updateability: 'READ_WRITE', version: '16.0', edition: 'Developer', serverName: 'SQL01\\PROD' }];
    }
    if (text === LIST_TABLES_SQL) return [{ schema: 'dbo', name: 'T' }];
    if (text === TABLE_SQL) return [{ objectId: 7, isView: 0, estimatedRows: table.estimatedRows ?? table.rows.length, modifiedAt: '2026-01-01T00:00:00' }];
    if (text === COLUMNS_SQL) return table.columns.map((c) => ({ precision: 0, scale: 0, nullable: true, collation: null, ...c }));
    if (text === PRIMARY_KEY_SQL) return table.pk.map((name) => ({ name, clustered: 1, descending: 0, indexName: 'PK_T' }));
    return undefined;
  };
  /** Key-ordered rows after the bound @a0 (single int key), TOP (n): enough of a table to page through. */
  const page = (text: string, params: readonly Param[]): unknown[][] => {
    const top = Number(/TOP \((\d+)\)/.exec(text)?.[1] ?? Infinity);
    const after = params.find((p) => p.name === 'a0')?.value;
    const keyAt = table.columns.length + table.columns.filter((c) => c.maxLength === -1).length;
    return table.rows.filter((r) => after === undefined || Number(r[0]) > Number(after)).slice(0, top).map((r) => [...r, ...table.columns.filter((c) => c.maxLength === -1).map(() => 1), r[0]].slice(0, keyAt + 1));
  };
  const run = (who: string, text: string, params: readonly Param[], timeoutMs?: number) => {
    calls.push(`${who}.query ${text}${timeoutMs ? ` [timeout ${timeoutMs}]` : ''}`);
    const err = options.fail?.(text, ++queryCount);
    if (err) throw err;
    return options.answer?.(text, params) ?? catalog(text) ?? page(text, params);
  };
  const driver: MssqlDriver = {
    async connect() {
      calls.push('connect');
    },
    async close() {
      calls.push('close');
    },
    async query(s, o = {}) {
      return run('pool', s.text, s.params, o.timeoutMs);
    },
    async batch(text) {
      calls.push(`pool.batch ${text}`);
      return [];
    },
    async begin(level) {
      const id = ++txCount;
      const who = `tx${id}`;
      calls.push(`${who}.begin ${level}`);
      let active = false;
      const refuseWhileActive = (what: string) => {
        if (active) {
          calls.push(`${who}.${what} REFUSED (EREQINPROG)`);
          throw Object.assign(new Error(`Can't ${what} transaction. There is a request in progress.`), { code: 'EREQINPROG' });
        }
      };
      const tx: MssqlTransaction = {
        async query(s, o = {}) {
          return run(who, s.text, s.params, o.timeoutMs);
        },
        async batch(text) {
          calls.push(`${who}.batch ${text}`);
          return [['2026-12-02T10:00:00.0000000', options.lockTimeout ?? 10_000, options.modifiedAt?.(id) ?? '2026-01-01T00:00:00']];
        },
        stream(s) {
          calls.push(`${who}.stream ${s.text}`);
          active = true;
          let cancelled = false;
          let release!: () => void;
          const ended = new Promise<void>((resolve) => (release = resolve)).then(() => {
            active = false;
            calls.push(`${who}.request ended`);
          });
          const rows = table.rows;
          return {
            async *[Symbol.asyncIterator]() {
              for (const r of rows) {
                if (cancelled) return;
                yield r;
              }
              release();
            },
            cancel() {
              calls.push(`${who}.cancel`);
              cancelled = true;
              setImmediate(release); // the attention is acknowledged later, as on a real connection
            },
            ended,
          };
        },
        async commit() {
          refuseWhileActive('commit');
          calls.push(`${who}.commit`);
        },
        async rollback() {
          refuseWhileActive('rollback');
          calls.push(`${who}.rollback`);
        },
      };
      return tx;
    },
  };
  return { driver, calls };
}

const intTable = (n: number, extra: Partial<FakeTable> = {}): FakeTable => ({
  columns: [{ name: 'Id', base: 'int', maxLength: 4, nullable: false }, { name: 'Name', base: 'nvarchar', maxLength: 40 }],
  pk: ['Id'],
  rows: Array.from({ length: n }, (_, i) => [i + 1, `n${i + 1}`]),
  ...extra,
});

async function open(fake: ReturnType<typeof fakeDriver>, options: Partial<MssqlSourceOptions> = {}) {
  const source = new MssqlSource({ url: 'mssql://reader:pw@db:1433/Legacy', driver: () => fake.driver, ...options });
  const snapshot = await source.connect();
  const table = await source.describeTable('dbo.T');
  return { source, snapshot, table };
}

async function readAll(gen: AsyncGenerator<{ rows: readonly (readonly unknown[])[] }>): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  for await (const b of gen) rows.push(...(b.rows as unknown[][]));
  return rows;
}

describe('session settings reach the page statements (issue 17 item 2)', () => {
  it('sends SET LOCK_TIMEOUT / DEADLOCK_PRIORITY as a plain batch on the range transaction, pages through sp_executesql after it', async () => {
    const fake = fakeDriver(intTable(3));
    const { source, snapshot, table } = await open(fake);
    expect(await readAll(source.readRange(table, {}, { batchRows: 10 }))).toHaveLength(3);
    const tx = fake.calls.filter((c) => c.startsWith('tx1.'));
    expect(tx[0]).toBe('tx1.begin SNAPSHOT');
    expect(tx[1]).toMatch(/^tx1\.batch SET NOCOUNT ON; SET LOCK_TIMEOUT 10000; SET DEADLOCK_PRIORITY LOW; SELECT .*@@LOCK_TIMEOUT/);
    expect(tx[2]).toMatch(/^tx1\.query SELECT TOP \(10\)/);
    expect(tx.at(-1)).toBe('tx1.commit');
    expect(fake.calls.some((c) => /\.query SET /.test(c))).toBe(false); // never through sp_executesql, where SET reverts
    // The manifest records the setting read back in the transaction.
    expect((snapshot.rangeTransactions as Record<string, unknown[]>)['dbo.T']).toEqual([{ isolation: 'SNAPSHOT', startedAt: '2026-12-02T10:00:00.0000000', lockTimeoutMs: 10_000 }]);
  });

  it('refuses to read when @@LOCK_TIMEOUT is not what was set', async () => {
    const fake = fakeDriver(intTable(3), { lockTimeout: -1 });
    const { source, table } = await open(fake);
    await expect(readAll(source.readRange(table, {}, { batchRows: 10 }))).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringMatching(/@@LOCK_TIMEOUT is -1/) });
    expect(fake.calls.some((c) => c.startsWith('tx1.query'))).toBe(false);
  });
});

describe('a stopped heap read ends its transaction (issue 17 item 5)', () => {
  it('cancels the request, waits for it to end, then rolls back: no EREQINPROG, the connection is released', async () => {
    const fake = fakeDriver({ ...intTable(50), pk: [] });
    const { source, table } = await open(fake);
    const gen = source.readRange(table, {}, { batchRows: 10 });
    expect((await gen.next()).value.rows).toHaveLength(10);
    await gen.return(undefined); // the consumer stops (Ctrl-C, an error downstream)
    const tail = fake.calls.filter((c) => c.startsWith('tx1.')).slice(-3);
    expect(tail).toEqual(['tx1.cancel', 'tx1.request ended', 'tx1.rollback']);
    expect(fake.calls.some((c) => c.includes('REFUSED'))).toBe(false);
  });
});

describe('bounded SNAPSHOT transactions (issue 17 item 3)', () => {
  it('commits a transaction older than the bound and goes on in a new one after the last key read, recording each', async () => {
    const fake = fakeDriver(intTable(5));
    const { source, snapshot, table } = await open(fake, { maxTransactionMs: 0 });
    expect((await readAll(source.readRange(table, {}, { batchRows: 2 }))).map((r) => r[0])).toEqual([1, 2, 3, 4, 5]);
    const begins = fake.calls.filter((c) => /\.begin|\.commit$/.test(c));
    expect(begins).toEqual(['tx1.begin SNAPSHOT', 'tx1.commit', 'tx2.begin SNAPSHOT', 'tx2.commit', 'tx3.begin SNAPSHOT', 'tx3.commit']);
    expect(((snapshot.rangeTransactions as Record<string, { after?: string[] }[]>)['dbo.T'] ?? []).map((t) => t.after)).toEqual([undefined, ['2'], ['4']]);
    expect(source.consistency(table, 1)).toMatch(/not one snapshot for the run.*at most 0 min/);
  });

  it('a version-store victim (3966) or deadlock (1205) goes on in a new transaction from the last key read; rows once each', async () => {
    const fake = fakeDriver(intTable(5), { fail: (text, n) => (n === 7 ? Object.assign(new Error('Transaction is rolled back when accessing version store.'), { code: 'EREQUEST', number: 3966 }) : undefined) });
    const { source, table } = await open(fake);
    expect((await readAll(source.readRange(table, {}, { batchRows: 2 }))).map((r) => r[0])).toEqual([1, 2, 3, 4, 5]);
    expect(fake.calls.filter((c) => /tx\d\.(begin|rollback|commit)/.test(c))).toEqual(['tx1.begin SNAPSHOT', 'tx1.rollback', 'tx2.begin SNAPSHOT', 'tx2.commit']);
  });

  it('DDL between two transactions of a run (sys.objects.modify_date moved since the catalog was read) stops the read: no silent mix', async () => {
    const fake = fakeDriver(intTable(5), { modifiedAt: (tx) => (tx >= 2 ? '2026-12-02T10:05:00' : '2026-01-01T00:00:00') });
    const { source, table } = await open(fake, { maxTransactionMs: 0 });
    const rows: unknown[] = [];
    await expect(
      (async () => {
        for await (const b of source.readRange(table, {}, { batchRows: 2 })) rows.push(...b.rows);
      })(),
    ).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringMatching(/dbo\.T was changed by DDL .*2026-12-02T10:05:00/) });
    expect(rows).toHaveLength(2);
    expect(fake.calls.find((c) => c.startsWith('tx1.batch'))).toMatch(/o\.modify_date, 126\) FROM sys\.objects AS o WHERE o\.object_id = 7\) AS modifiedAt$/);
  });

  it('3961 (DDL on the table since the transaction began) stops the range with the clear error, not a silent retry', async () => {
    const fake = fakeDriver(intTable(5), { fail: (text) => (text.startsWith('SELECT TOP') ? Object.assign(new Error('Snapshot isolation transaction failed ...'), { code: 'EREQUEST', number: 3961 }) : undefined) });
    const { source, table } = await open(fake);
    await expect(readAll(source.readRange(table, {}, { batchRows: 2 }))).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringMatching(/dbo\.T was changed by DDL/) });
    expect(fake.calls.filter((c) => c.endsWith('.begin SNAPSHOT'))).toHaveLength(1);
  });
});

describe('pages sized by bytes (issue 17 item 8)', () => {
  it('starts a table with large values at pageBytes / their average size from the sample', async () => {
    const table: FakeTable = { columns: [{ name: 'Id', base: 'int', maxLength: 4, nullable: false }, { name: 'Body', base: 'nvarchar', maxLength: -1 }], pk: ['Id'], rows: [[1, 'x']] };
    const fake = fakeDriver(table, { answer: (text) => (text.startsWith('SELECT AVG(') ? [[300]] : undefined) });
    const { source, table: t } = await open(fake, { pageBytes: 1000 });
    await readAll(source.readRange(t, {}, { batchRows: 1000 }));
    expect(fake.calls.find((c) => c.startsWith('pool.query SELECT AVG('))).toContain('ISNULL(CONVERT(float, DATALENGTH(t.[Body])), 0)');
    expect(fake.calls.find((c) => c.startsWith('tx1.query SELECT TOP'))).toMatch(/^tx1\.query SELECT TOP \(3\)/);
  });

  it('a heap table with large values is batched by bytes too', async () => {
    const heap: FakeTable = { columns: [{ name: 'Body', base: 'nvarchar', maxLength: -1 }], pk: [], rows: Array.from({ length: 7 }, () => ['x', 1]) };
    const fake = fakeDriver(heap, { answer: (text) => (text.startsWith('SELECT AVG(') ? [[300]] : undefined) });
    const { source, table } = await open(fake, { pageBytes: 1000 });
    const sizes: number[] = [];
    for await (const b of source.readRange(table, {}, { batchRows: 1000 })) sizes.push(b.rows.length);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('a table without large values asks for the rows it is told', async () => {
    const fake = fakeDriver(intTable(1));
    const { source, table } = await open(fake);
    await readAll(source.readRange(table, {}, { batchRows: 1000 }));
    expect(fake.calls.some((c) => c.includes('AVG('))).toBe(false);
    expect(fake.calls.find((c) => c.startsWith('tx1.query SELECT TOP'))).toMatch(/TOP \(1000\)/);
  });
});

describe('verify --against on big tables (issue 17 item 9)', () => {
  it('counts a big table range by range in one transaction, each statement under the statement timeout', async () => {
    const fake = fakeDriver(intTable(0, { estimatedRows: 12_000_000 }), {
      answer: (text) => (/ORDER BY t\.\[Id\]$/.test(text) && !text.startsWith('SELECT TOP') ? Array.from({ length: 300 }, (_, i) => [String((i + 1) * 40_000)]) : text.startsWith('SELECT CONVERT(varchar(20), COUNT_BIG') ? [['4000000', '8000002000000']] : undefined),
    });
    const { source, table } = await open(fake, { statementTimeoutMs: 30_000 });
    expect(await source.countRows(table)).toEqual({ rows: 12_000_000, keySum: '24000006000000' });
    const counts = fake.calls.filter((c) => c.includes('COUNT_BIG'));
    expect(counts).toHaveLength(3);
    expect(counts.every((c) => c.startsWith('tx1.query') && c.endsWith('[timeout 30000]'))).toBe(true);
    expect(counts[1]).toMatch(/WHERE \(t\.\[Id\] > @a0\) AND \(t\.\[Id\] <= @u0\)/);
    expect(fake.calls.filter((c) => c.startsWith('tx1.batch'))).toHaveLength(1);
  });

  it('enforces the whole statement’s time: cancels it at the deadline and reports a statement timeout', async () => {
    let cancelled = false;
    let reject!: (e: Error) => void;
    const running = new Promise<never>((_, r) => (reject = r));
    const err = await withDeadline(running, () => {
      cancelled = true;
      reject(Object.assign(new Error('Canceled.'), { code: 'ECANCEL' }));
    }, 5).catch((e: unknown) => e);
    expect(cancelled).toBe(true);
    expect(err).toMatchObject({ code: 'ETIMEOUT' });
    expect(mapMssqlError(err, { where: 'mssql://h:1433/Legacy', user: 'u', database: 'Legacy' }, 'counting rows of dbo.T').message).toMatch(/statement timeout/);
  });
});

describe('what the snapshot info tells the manifest', () => {
  it('the source identity, the key index read, what mappings lose, and what the statement timeout covers', async () => {
    const fake = fakeDriver({ columns: [{ name: 'Id', base: 'int', maxLength: 4, nullable: false }, { name: 'At', base: 'datetime2', maxLength: 8, precision: 27, scale: 7 }], pk: ['Id'], rows: [] });
    const { snapshot } = await open(fake);
    expect(snapshot.sourceIdentity).toEqual({ server: 'SQL01\\PROD', database: 'Legacy', createdAt: '2020-01-01T00:00:00' });
    expect(snapshot.keyIndexes).toEqual({ 'dbo.T': { index: 'PK_T', clustered: true, descending: [] } });
    expect(snapshot.typeNotes).toEqual({ 'dbo.T': { At: expect.stringMatching(/100 ns\) is cut/) } });
    expect(snapshot.statementTimeoutCovers).toMatch(/whole statement/);
  });
});

describe('each stream says the consistency its source gave (issue 17 item 6)', () => {
  it('a SQL Server table’s stream in the manifest does not claim one snapshot shared by all workers', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const protobuf = (await import('protobufjs')).default;
    const { DatasetWriter } = await import('../recordfile/index.ts');
    const { planTable } = await import('./table-job.ts');
    const { tableShape } = await import('./output-shape.ts');
    const dir = await mkdtemp(join(tmpdir(), 'seedline-mssql-consistency-'));
    try {
      const fake = fakeDriver(intTable(3));
      const { source, snapshot, table } = await open(fake);
      const dataset = await DatasetWriter.create(join(dir, 'dump'), { tool: 'seedline', version: 'test', stage: 'extract', source: { ...source.description }, startedAt: new Date().toISOString(), snapshot });
      const type = new protobuf.Type('T').add(new protobuf.Field('Id', 1, 'int32'));
      const protoPath = join(dir, 'T.proto');
      await writeFile(protoPath, 'syntax = "proto3";\nmessage T { int32 Id = 1; }\n');
      const shape = await tableShape({ table: table.qualifiedName, messageType: 'T', protoPath, excluded: [], masked: {} });
      const planned = await planTable(source, dataset, { info: table, mask: {}, stream: 'T', protoPath, messageType: 'T', type, shape }, {});
      const consistency = String(dataset.manifest.streams[planned.stream]!.info!.consistency);
      expect(consistency).not.toMatch(/shared by all workers/);
      expect(consistency).toMatch(/^SQL Server SNAPSHOT, not one snapshot for the run: dbo\.T was read as 1 key range/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the value size limit has a flag (issue 17 item 8)', () => {
  it('the flag the VALUE_TOO_LARGE error names exists, and reaches the SQL Server adapter', async () => {
    const { extractCommand } = await import('./cli.ts');
    const { openSource } = await import('./open-source.ts');
    const { columnFromCatalog } = await import('./mssql-catalog.ts');
    const { selectLayout } = await import('./mssql-sql.ts');
    const { mapRow } = await import('./mssql-values.ts');
    const body = [columnFromCatalog({ name: 'Body', base: 'nvarchar', maxLength: -1, precision: 0, scale: 0, nullable: true })];
    const err = (() => {
      try {
        mapRow(body, selectLayout(body, [], 10), [null, 11], { table: 'dbo.T', maxValueBytes: 10, key: ['1'] });
      } catch (e) {
        return e as { context: { option: string; hint: string } };
      }
      throw new Error('expected VALUE_TOO_LARGE');
    })();
    expect(extractCommand().options.map((o) => o.long)).toContain(`--${err.context.option}`);
    expect(err.context.hint).toContain(`--${err.context.option}`);
    const source = await openSource({ source: 'mssql://u:p@h:1433/Db', maxValueBytes: 2 * 1024 * 1024 });
    expect((source as unknown as { options: MssqlSourceOptions }).options.maxValueBytes).toBe(2 * 1024 * 1024);
  });
});

describe('verify --against opens SQL Server with the dump’s isolation choice (issue 17 item 9)', () => {
  it('passes allowReadCommitted through: from the flag, or as the dump was extracted', async () => {
    const { againstSourceOptions } = await import('./verify.ts');
    const { verifyCommand } = await import('./verify-cli.ts');
    expect(againstSourceOptions('mssql://h/Db', { allowReadCommitted: true }, {})).toEqual({ source: 'mssql://h/Db', allowReadCommitted: true });
    expect(againstSourceOptions('mssql://h/Db', { allowReadCommitted: false }, { allowReadCommitted: true })).toEqual({ source: 'mssql://h/Db', allowReadCommitted: true });
    expect(againstSourceOptions('mssql://h/Db', undefined, {})).toEqual({ source: 'mssql://h/Db' });
    expect(verifyCommand().options.map((o) => o.long)).toContain('--allow-read-committed');
  });
});
