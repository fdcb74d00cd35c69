import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { daysFromCivil, parseWallMicros, ZoneConverter } from './mssql-time.ts';
import { PG_ADMIN_URL } from './test-db.ts';

const micros = (ms: number, extra = 0) => BigInt(ms) * 1000n + BigInt(extra);

describe('wall clock text', () => {
  it('parses CONVERT style 126 text exactly, before 1970 and at the ends of the range', () => {
    expect(parseWallMicros('1970-01-01T00:00:00', 'x')).toBe(0n);
    expect(parseWallMicros('1969-12-31T23:59:59.999999', 'x')).toBe(-1n);
    expect(parseWallMicros('2021-03-28T03:30:00.1234567', 'x')).toBe(micros(Date.UTC(2021, 2, 28, 3, 30), 123456)); // 7th digit cut
    expect(parseWallMicros('9999-12-31T23:59:59.9999999', 'x')).toBe(micros(Date.UTC(9999, 11, 31, 23, 59, 59, 999), 999));
    expect(parseWallMicros('0001-01-01T00:00:00', 'x')).toBe(BigInt(daysFromCivil(1, 1, 1)) * 86_400_000_000n);
    expect(parseWallMicros('1900-01-01T00:00:00.003', 'x')).toBe(micros(Date.UTC(1900, 0, 1), 3000));
    expect(parseWallMicros('2000-02-29', 'x')).toBe(micros(Date.UTC(2000, 1, 29)));
    expect(parseWallMicros('2000-01-01T00:00:00Z', 'x')).toBe(micros(Date.UTC(2000, 0, 1)));
  });

  it('computes days of years Date.UTC gets wrong (0-99)', () => {
    const d = new Date(0);
    d.setUTCFullYear(50, 5, 15);
    d.setUTCHours(0, 0, 0, 0);
    expect(daysFromCivil(50, 6, 15) * 86_400_000).toBe(d.getTime());
  });

  it('refuses text that is not a date-time with SOURCE_QUERY', () => {
    expect(() => parseWallMicros('Mar 28 2021 3:30AM', 'dbo.T.c')).toThrow(expect.objectContaining({ code: 'SOURCE_QUERY' }));
  });
});

describe('ZoneConverter', () => {
  it('refuses an unknown zone (or a Windows name) with USAGE', () => {
    expect(() => new ZoneConverter('FLE Standard Time')).toThrow(expect.objectContaining({ code: 'USAGE', context: expect.objectContaining({ option: 'source-timezone' }) }));
  });

  it('resolves DST gaps and overlaps like PostgreSQL', () => {
    const z = new ZoneConverter('Europe/Helsinki');
    const at = (text: string) => z.toUtc(parseWallMicros(text, 'x'));
    expect(at('2021-01-15T12:00:00')).toBe(micros(Date.UTC(2021, 0, 15, 10)));
    expect(at('2021-07-15T12:00:00.000001')).toBe(micros(Date.UTC(2021, 6, 15, 9), 1));
    expect(at('2021-03-28T03:30:00')).toBe(micros(Date.UTC(2021, 2, 28, 1, 30))); // gap: offset before (+02)
    expect(at('2021-10-31T03:30:00')).toBe(micros(Date.UTC(2021, 9, 31, 1, 30))); // twice: offset after (+02)
    expect(at('9999-12-31T23:59:59.999999')).toBe(micros(Date.UTC(9999, 11, 31, 21, 59, 59, 999), 999));
    expect(new ZoneConverter('UTC').toUtc(-1n)).toBe(-1n);
  });

  it('agrees with PostgreSQL AT TIME ZONE on thousands of wall clocks, around every DST change too', async () => {
    const zones = ['Europe/Helsinki', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    const walls: string[] = [];
    for (let y = 1890; y <= 2040; y += 3) for (const m of [1, 3, 4, 7, 10, 11]) walls.push(`${y}-${String(m).padStart(2, '0')}-${String((y % 27) + 1).padStart(2, '0')}T0${y % 10}:${String(y % 60).padStart(2, '0')}:00`);
    for (const day of ['2021-03-28', '2021-10-31', '2021-03-14', '2021-11-07', '2021-04-04', '2021-10-03']) {
      for (let minute = 0; minute < 24 * 60; minute += 15) walls.push(`${day}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00`);
    }
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      for (const zone of zones) {
        const { rows } = await client.query<{ us: string }>(
          `SELECT (extract(epoch from (w::timestamp AT TIME ZONE $2)) * 1000000)::int8::text AS us FROM unnest($1::text[]) WITH ORDINALITY AS u(w, n) ORDER BY n`,
          [walls, zone],
        );
        const z = new ZoneConverter(zone);
        const ours = walls.map((w) => z.toUtc(parseWallMicros(w, 'x')).toString());
        const theirs = rows.map((r) => r.us);
        const diff = walls.map((w, i) => ({ w, ours: ours[i], pg: theirs[i] })).filter((d) => d.ours !== d.pg);
        expect({ zone, diff: diff.slice(0, 5) }).toEqual({ zone, diff: [] });
      }
    } finally {
      await client.end();
    }
  });
});
