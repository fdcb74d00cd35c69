import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream, readManifest } from '../recordfile/index.ts';
import { summary } from './cli.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { loadLegacySchema } from './legacy-schema.ts';
import { loneSurrogateFixer } from './lone-surrogates.ts';
import { PostgresSource } from './postgres-source.ts';
import type { ColumnValue, Source } from './source.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';
import { verifyDump } from './verify.ts';

const HALF_EMOJI = '\uD83D'; // the high half of 😀, alone

describe('why: protobufjs writes a lone surrogate that no strict reader accepts', () => {
  it('encodes, then the bytes are not UTF-8', () => {
    const type = protobuf.parse('syntax = "proto3"; message M { string s = 1; }').root.lookupType('M');
    const bytes = type.encode({ s: `a${HALF_EMOJI}b` }).finish();
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(2))).toThrow();
  });

  it('the fixer replaces lone halves only, and counts values per column', () => {
    const fix = loneSurrogateFixer([
      { name: 'A', sqlType: 'text', nullable: true, kind: 'string' },
      { name: 'B', sqlType: 'text', nullable: true, kind: 'string' },
      { name: 'N', sqlType: 'int', nullable: false, kind: 'int32' },
    ]);
    const counts = {};
    const row: ColumnValue[] = [`x${HALF_EMOJI}y\uDE00`, 'ok 😀', 1];
    fix(row, counts);
    expect(row).toEqual(['x\uFFFDy\uFFFD', 'ok 😀', 1]);
    expect(counts).toEqual({ A: 1 });
  });
});

describe('extract with lone surrogates in legacy text', () => {
  let db: TempDb;
  let tmp: string;
  beforeAll(async () => {
    db = await createTempDb();
    await db.sql(SKELETON_SCHEMA_SQL);
    await db.sql(`INSERT INTO dbo."Messages" SELECT g, 1, 2, 'hi ' || g, '2012-01-01', NULL, false, false FROM generate_series(1, 300) g`);
    tmp = await mkdtemp(join(tmpdir(), 'seedline-surrogate-'));
  });
  afterAll(async () => {
    await db?.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('writes U+FFFD, counts the values in the manifest and the summary, and the dump decodes', async () => {
    // PostgreSQL text cannot hold a lone surrogate (SQL Server nvarchar can): a real source
    // whose every 50th Body gets half an emoji, as tedious would hand it over.
    const openSource = (o: ExtractOptions): Source => {
      const real = new PostgresSource({ url: o.source, sourceTimezone: 'UTC' });
      return Object.assign(Object.create(real) as Source, {
        // No binary COPY path: the rows this test doctors are the row path's (as SQL Server's would be).
        readEncoded: undefined,
        async *readRange(...args: Parameters<Source['readRange']>) {
          for await (const b of real.readRange(...args)) {
            const rows = b.rows.map((r) => (Number(r[0]) % 50 === 0 ? r.map((v, i) => (i === 3 ? `${v} ${HALF_EMOJI}` : v)) : r));
            yield { rows, keys: b.keys };
          }
        },
      });
    };
    const out = join(tmp, 'dump');
    const result = await extract({ source: db.url, tables: ['dbo.Messages'], out, sourceTimezone: 'UTC', progress: 'off', batchRows: 64, openSource });
    expect(result.tables[0]!.loneSurrogatesReplaced).toEqual({ Body: 6 });
    expect((await readManifest(out)).streams.Messages!.info!.loneSurrogatesReplaced).toEqual({ Body: 6 });
    expect(summary(result)).toMatch(/U\+FFFD in Body 6 values/);
    expect((await verifyDump(out, { progress: 'off' })).ok).toBe(true);
    const { type } = await loadLegacySchema('Messages');
    const bodies: string[] = [];
    for await (const b of decodeStream(out, 'Messages', (x) => (type.decode(x) as unknown as { Body: string }).Body)) bodies.push(...b);
    expect(bodies[49]).toBe('hi 50 \uFFFD');
    expect(bodies[50]).toBe('hi 51');
  });
});
