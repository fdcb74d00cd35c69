import protobuf from 'protobufjs';
import { expect } from 'vitest';
import { generateProto } from './legacy-schema.ts';
import { protoIdentifier } from './proto-names.ts';
import { rowMasker } from './masking.ts';
import type { PostgresSource } from './postgres-source.ts';
import { recordLayout } from './record-layout.ts';
import { rowEncoder } from './row-encoder.ts';
import type { ColumnValue, KeyRange, KeyValue, TableInfo } from './source.ts';

/** Test support: a table read both ways — the row path (readRange + rowEncoder) and the binary COPY path (readEncoded). */

/** A .proto for `table`: the generated one, with some fields' types and `optional` changed. */
export function protoType(table: TableInfo, change: (proto: string) => string = (p) => p): protobuf.Type {
  const root = protobuf.parse(change(generateProto(table)), { keepCase: true }).root;
  return root.lookupType(`seedline.legacy.${protoIdentifier(table.name)}`);
}

export interface Read {
  readonly records: string[];
  readonly keys: KeyValue[];
  readonly pages: number[];
}

export async function readRows(source: PostgresSource, table: TableInfo, type: protobuf.Type, mask: Record<string, string> = {}, range: KeyRange = {}, batchRows = 3): Promise<Read> {
  const encode = rowEncoder(table.columns, type);
  const masker = rowMasker(table, mask, type);
  const out: Read = { records: [], keys: [], pages: [] };
  for await (const b of source.readRange(table, range, { batchRows })) {
    for (const r of b.rows) {
      const row = [...r] as ColumnValue[];
      masker?.(row);
      out.records.push(Buffer.from(encode(row)).toString('hex'));
    }
    out.keys.push(...b.keys);
    out.pages.push(b.rows.length);
  }
  return out;
}

export async function readEncoded(source: PostgresSource, table: TableInfo, type: protobuf.Type, mask: Record<string, string> = {}, range: KeyRange = {}, batchRows = 3): Promise<Read> {
  const layout = recordLayout(table, type, mask);
  expect(layout).not.toBeNull();
  const pages = source.readEncoded(table, range, { batchRows }, layout!);
  expect(pages).not.toBeNull();
  const out: Read = { records: [], keys: [], pages: [] };
  for await (const b of pages!) {
    let start = 0;
    for (const end of b.ends) {
      out.records.push(b.bytes.subarray(start, end).toString('hex'));
      start = end;
    }
    out.keys.push(...b.keys);
    out.pages.push(b.ends.length);
  }
  return out;
}

