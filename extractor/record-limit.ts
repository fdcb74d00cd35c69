import type protobuf from 'protobufjs';
import { SeedlineError } from '../common/errors.ts';
import { formatBytes } from '../common/progress.ts';
import { DEFAULT_MAX_RECORD_BYTES } from '../recordfile/index.ts';
import type { ColumnInfo, ColumnValue, KeyValue, TableInfo } from './source.ts';

/**
 * The writer's side of the reader's limit: a record over DEFAULT_MAX_RECORD_BYTES (64 MiB)
 * would be written, and then refused by `verify` and every reader (framing.ts treats a
 * longer length as corruption). So extract refuses it first, naming table, key and column,
 * before the record reaches a part. The limit is not raised: a legacy value of 64 MB is a
 * file stored in a row, better left out ("exclude") or hashed ("mask") than sent as one event.
 */
export const MAX_RECORD_BYTES = DEFAULT_MAX_RECORD_BYTES;

/** Row path: the row's values as read, to name the largest column. */
export function recordTooLarge(info: TableInfo, key: KeyValue | undefined, bytes: number, row: readonly ColumnValue[]): SeedlineError {
  let largest = 0;
  for (let i = 1; i < row.length; i++) if (valueBytes(row[i]!) > valueBytes(row[largest]!)) largest = i;
  return tooLarge(info, key, bytes, info.columns[largest]!);
}

/** Encoded path: the record's bytes, decoded to name the largest field. */
export function encodedTooLarge(info: TableInfo, key: KeyValue | undefined, record: Uint8Array, type: protobuf.Type): SeedlineError {
  const message = type.decode(record) as unknown as Record<string, unknown>;
  let largest: ColumnInfo = info.columns[0]!;
  let most = -1;
  for (const column of info.columns) {
    const v = message[column.name] as ColumnValue | undefined;
    const n = v === undefined || v === null ? 0 : valueBytes(v);
    if (n > most) [largest, most] = [column, n];
  }
  return tooLarge(info, key, record.length, largest);
}

function tooLarge(info: TableInfo, key: KeyValue | undefined, bytes: number, column: ColumnInfo): SeedlineError {
  const where = key && key.length ? `the row with ${info.primaryKey.map((k, i) => `${k} = ${key[i]}`).join(', ')}` : 'a row';
  return new SeedlineError('VALUE_TOO_LARGE', `${info.qualifiedName}: ${where} makes a record of ${formatBytes(bytes)}, over the ${formatBytes(MAX_RECORD_BYTES)} any reader accepts; its largest column is ${column.name}`, {
    table: info.qualifiedName,
    column: column.name,
    hint: `leave ${column.name} out ("exclude" in the config file) or hash it ("mask": {"${column.name}": "sha256"}); nothing of this row was written`,
  });
}

function valueBytes(v: ColumnValue): number {
  if (v === null) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'object') return (v as Uint8Array).length;
  return 8;
}
