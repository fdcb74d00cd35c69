import { describe, expect, it } from 'vitest';
import { columnFromCatalog } from './mssql-catalog.ts';
import { selectLayout } from './mssql-sql.ts';
import { ZoneConverter } from './mssql-time.ts';
import { mapRow, mapValue } from './mssql-values.ts';
import { keyText } from './mssql-types.ts';

const col = (base: string, maxLength = 4, precision = 0, scale = 0) => columnFromCatalog({ name: 'c', base, maxLength, precision, scale, nullable: true });
const ctx = { table: 'dbo.T', zone: new ZoneConverter('Europe/Helsinki') };
const map = (base: string, raw: unknown, maxLength?: number) => mapValue(col(base, maxLength), raw, ctx);

describe('tedious values → the shapes of the type mapping', () => {
  it('keeps decimals and money as the server’s text, and refuses a lossy JS number', () => {
    expect(map('decimal', '12345678901234567890123456.123456789012')).toBe('12345678901234567890123456.123456789012');
    expect(map('money', '922337203685477.5807')).toBe('922337203685477.5807');
    expect(() => map('decimal', 0.1 + 0.2)).toThrow(/converted on the server/);
  });

  it('passes bigint strings through and rejects inexact numbers', () => {
    expect(map('bigint', '-9223372036854775808')).toBe('-9223372036854775808');
    expect(map('bigint', 42)).toBe('42');
    expect(map('bigint', 9007199254740993n)).toBe('9007199254740993');
    expect(() => map('bigint', 2 ** 60)).toThrow(/inexact/);
  });

  it('lower-cases tedious’ upper-case GUIDs', () => {
    expect(map('uniqueidentifier', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  });

  it('keeps NULL distinct from empty', () => {
    expect(map('nvarchar', null)).toBeNull();
    expect(map('nvarchar', '')).toBe('');
    expect(map('varbinary', Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    expect(map('bit', false)).toBe(false);
    expect(map('int', 0)).toBe(0);
  });

  it('maps integers, bits, floats, bytes and rowversion', () => {
    expect([map('tinyint', 255), map('smallint', -32768), map('int', 2147483647)]).toEqual([255, -32768, 2147483647]);
    expect(map('bit', true)).toBe(true);
    expect(map('real', 0.1)).toBe(Math.fround(0.1));
    expect(map('float', 1.7976931348623157e308)).toBe(1.7976931348623157e308);
    expect(map('timestamp', Buffer.from('00000000000007d1', 'hex'))).toEqual(Buffer.from('00000000000007d1', 'hex'));
    expect(map('varbinary', '0x00FF10')).toEqual(Buffer.from([0, 255, 16]));
  });

  it('reads dates as YYYY-MM-DD, from text or from a UTC-midnight Date', () => {
    expect(map('date', '0001-01-01')).toBe('0001-01-01');
    expect(map('date', new Date(Date.UTC(2021, 2, 28)))).toBe('2021-03-28');
  });

  it('converts naive datetimes from the source zone, from text (µs) or a useUTC Date (the wall clock as if UTC)', () => {
    expect(map('datetime2', '2021-01-15T12:00:00.123456', 8)).toBe(String(BigInt(Date.UTC(2021, 0, 15, 10)) * 1000n + 123456n));
    expect(map('datetime', new Date(Date.UTC(2021, 6, 15, 12, 0, 0, 3)))).toBe(String(BigInt(Date.UTC(2021, 6, 15, 9, 0, 0, 3)) * 1000n));
    expect(map('smalldatetime', '1900-01-01T00:00:00')).toBe(String(BigInt(Date.UTC(1899, 11, 31, 22, 20, 11)) * 1000n)); // Helsinki mean time +1:39:49 before 1921
    expect(() => mapValue(col('datetime'), '2021-01-01T00:00:00', { table: 'dbo.T' })).toThrow(/no source time zone/);
  });

  it('takes datetimeoffset as the UTC wall clock the server switched it to, or a Date instant', () => {
    expect(map('datetimeoffset', '1969-12-31T23:59:59.9999990')).toBe('-1');
    expect(map('datetimeoffset', new Date(Date.UTC(2021, 9, 31, 0, 30, 0, 500)))).toBe(String(BigInt(Date.UTC(2021, 9, 31, 0, 30, 0, 500)) * 1000n));
  });

  it('turns driver key values into key text', () => {
    expect([keyText(5), keyText('9223372036854775807'), keyText(true), keyText(false), keyText('O’Brien')]).toEqual(['5', '9223372036854775807', '1', '0', 'O’Brien']);
  });
});

describe('mapRow', () => {
  const columns = [columnFromCatalog({ name: 'Id', base: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false }), columnFromCatalog({ name: 'Body', base: 'nvarchar', maxLength: -1, precision: 0, scale: 0, nullable: true })];
  const layout = selectLayout(columns, [], 100);

  it('maps a row in column order, NULL (max) values with NULL length stay NULL', () => {
    expect(mapRow(columns, layout, [1, 'hi', 4], { table: 'dbo.T', maxValueBytes: 100 })).toEqual([1, 'hi']);
    expect(mapRow(columns, layout, [2, null, null], { table: 'dbo.T', maxValueBytes: 100 })).toEqual([2, null]);
  });

  it('refuses a value the server withheld for its size, naming table, column and key', () => {
    expect(() => mapRow(columns, layout, [3, null, 5_000_000], { table: 'dbo.T', maxValueBytes: 100, key: ['3'] })).toThrow(
      expect.objectContaining({ code: 'VALUE_TOO_LARGE', context: expect.objectContaining({ table: 'dbo.T', column: 'Body' }) }),
    );
  });
});
