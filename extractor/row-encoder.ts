import type protobuf from 'protobufjs';
import { columnFields } from './proto-names.ts';
import type { ColumnInfo, ColumnValue } from './source.ts';

/**
 * Turns one row (values in column order, already in the shape of the type mapping)
 * into the bytes of its legacy message. A NULL leaves the optional field absent; an empty
 * string or 0 is written as present, so a reader can tell them apart.
 */
export function rowEncoder(columns: readonly ColumnInfo[], type: protobuf.Type): (row: readonly ColumnValue[]) => Uint8Array {
  // Each column's field (its name, or json_name = the column's name; checked by findDrift before any row is read).
  const byColumn = columnFields(type);
  const names = columns.map((c) => byColumn.get(c.name)?.name ?? c.name);
  return (row) => {
    const message: Record<string, ColumnValue> = {};
    for (let i = 0; i < names.length; i++) {
      const v = row[i];
      if (v !== null && v !== undefined) message[names[i]!] = v;
    }
    return type.encode(message).finish();
  };
}
