import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDrift, generateProto } from './legacy-schema.ts';
import { mssqlKind } from './mssql-types.ts';
import { columnFields, fieldNames, protoIdentifier, tableProtoName } from './proto-names.ts';
import { protocErrors } from './protoc.ts';
import type { ColumnInfo, TableInfo } from './source.ts';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'seedline-names-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('names in a generated .proto', () => {
  it('an identifier stays as it is; anything else becomes one, the same every time', () => {
    for (const name of ['Members', 'UserName', '_x', 'a1']) expect(protoIdentifier(name)).toBe(name);
    expect(protoIdentifier('Order Details')).toBe('Order_Details');
    expect(protoIdentifier('Unit Price')).toBe('Unit_Price');
    expect(protoIdentifier('1st')).toBe('_1st');
    expect(protoIdentifier('Größe')).toBe('Grosse'); // ö → o, ß → ss
    expect(protoIdentifier('zip code')).toBe('zip_code');
    expect(protoIdentifier('Price ($)')).toBe('Price');
    expect(protoIdentifier('Ærø straße')).toBe('AEro_strasse');
    expect(protoIdentifier('名前')).toBe('unnamed');
    expect(protoIdentifier('名前', 'column')).toBe('column');
  });

  it('fields whose names (or JSON names) would clash get a suffix, nested message names included', () => {
    expect(fieldNames(['zip code', 'zip_code', 'ZipCode', 'zipcode', 'Interval', '名', '名'], ['Interval'])).toEqual([
      'zip_code',
      'zip_code_2',
      'ZipCode_3', // ZipCode_2 would be zip_code_2 in JSON
      'zipcode_4',
      'Interval_2',
      'column',
      'column_2',
    ]);
  });

  it('two schemas with the same table name get distinct names; a unique name stays bare', () => {
    const all = [
      { schema: 'public', name: 'store' },
      { schema: 'ho2', name: 'store' },
      { schema: 'dbo', name: 'Members' },
    ];
    expect(tableProtoName(all[0]!, all)).toBe('public_store');
    expect(tableProtoName(all[1]!, all)).toBe('ho2_store');
    expect(tableProtoName(all[2]!, all)).toBe('Members');
  });
});

const col = (name: string, sqlType: string, kind: ColumnInfo['kind'], nullable = true, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name, sqlType, kind, nullable, ...extra });

/** A PostgreSQL-shaped and an MS SQL-shaped catalog full of awkward names: what describeTable hands the generator. */
const TABLES: TableInfo[] = [
  {
    schema: 'public',
    name: 'Order Details',
    qualifiedName: 'public.Order Details',
    primaryKey: ['Order ID', '1st'],
    estimatedRows: 0,
    columns: [
      col('Order ID', 'integer', 'int32', false),
      col('1st', 'text', 'string', false),
      col('Unit Price', 'numeric(10,2)', 'decimal'),
      col('Größe', 'smallint', 'int32'),
      col('zip code', 'text', 'string'),
      col('zip_code', 'text', 'string'),
      col('Interval', 'interval', 'interval'),
      col('tags "quoted" \\ back', 'text[]', 'array', true, { arrayOf: 'string' }),
      col('message', 'jsonb', 'string'),
      col('string', 'mood', 'string', true, { note: "enum labels 'a', 'b'" }),
      col('odd\nline', 'point', null),
    ],
  },
  {
    schema: 'dbo',
    name: 'Employee Territories',
    qualifiedName: 'dbo.Employee Territories',
    primaryKey: ['EmployeeID'],
    estimatedRows: 0,
    columns: [
      col('EmployeeID', 'int', mssqlKind('int'), false),
      col('Territory ID', 'nvarchar(20)', mssqlKind('nvarchar')),
      col('Photo', 'image', mssqlKind('image')),
      col('Hired At', 'datetime', mssqlKind('datetime')),
      col('Salary', 'money', mssqlKind('money')),
      col('RowVersion', 'timestamp', mssqlKind('timestamp')),
      col('Größe', 'decimal(9,2)', mssqlKind('decimal')),
      col('Id', 'uniqueidentifier', mssqlKind('uniqueidentifier')),
    ],
  },
];

describe('generateProto: files protoc accepts, for both dialects’ catalogs', () => {
  it('awkward table and column names compile with protoc and map back to every column', async () => {
    const files: string[] = [];
    for (const table of TABLES) {
      const name = tableProtoName(table, TABLES);
      const text = generateProto(table, { messageName: name, sourceTimezone: 'Europe/Helsinki' });
      await writeFile(join(tmp, `${name}.proto`), text);
      files.push(`${name}.proto`);
      // protobufjs reads it too, and every column finds its field again (json_name = the SQL name).
      const type = protobuf.parse(text, { keepCase: true }).root.lookupType(`seedline.legacy.${name}`);
      const supported = { ...table, columns: table.columns.filter((c) => c.kind !== null) };
      expect(findDrift(supported, type)).toEqual([]);
      expect([...columnFields(type).keys()].slice(0, supported.columns.length)).toEqual(supported.columns.map((c) => c.name));
    }
    expect(files).toEqual(['Order_Details.proto', 'Employee_Territories.proto']);
    expect(protocErrors(tmp, files)).toBe('');
    const text = generateProto(TABLES[0]!, { messageName: 'Order_Details' });
    expect(text).toContain('optional string Unit_Price = 3 [json_name = "Unit Price"]; // numeric(10,2) NULL');
    expect(text).toContain('optional int32 Grosse = 4 [json_name = "Größe"];');
    expect(text).toContain('Interval Interval_2 = 7 [json_name = "Interval"];');
    expect(text).toContain('StringArray tags_quoted_back = 8 [json_name = "tags \\"quoted\\" \\\\ back"];');
    expect(text).toContain('  // odd line = 11: UNSUPPORTED (point)');
  });

  it('a .proto the old generator wrote (names with spaces) is what protoc refuses: the check is real', async () => {
    await writeFile(join(tmp, 'old.proto'), 'syntax = "proto3";\nmessage Order Details {\n  optional string zip code = 1;\n}\n');
    expect(protocErrors(tmp, ['old.proto'])).toMatch(/old\.proto:2/);
  });
});
