import protobuf from 'protobufjs';
import { columnFields } from './proto-names.ts';
import { valueMessageName } from './value-messages.ts';
import { maskValue } from './masking.ts';
import type { ColumnInfo, ColumnKind, ColumnValue, TableInfo } from './columns.ts';

/**
 * How each column lands in its table's protobuf message, said without protobufjs and
 * without SQL: what an adapter needs to write a record's bytes itself (Source.readEncoded)
 * instead of handing out JS values for rowEncoder. The bytes must be exactly rowEncoder's,
 * so every rule here mirrors what protobufjs does with the values of the type mapping
 * (tested byte for byte in encoded-read.test.ts).
 */

/** The scalar field types the drift check allows for some column kind (legacy-schema.ts). */
export const LAYOUT_FIELD_TYPES = ['int32', 'sint32', 'sfixed32', 'int64', 'sint64', 'sfixed64', 'bool', 'float', 'double', 'string', 'bytes'] as const;
export type LayoutFieldType = (typeof LAYOUT_FIELD_TYPES)[number];

export interface FieldLayout {
  /** Index of the column in `TableInfo.columns`. */
  readonly column: number;
  readonly name: string;
  readonly kind: ColumnKind;
  /** Field number and type in the .proto. */
  readonly id: number;
  readonly type: LayoutFieldType;
  /**
   * protobufjs leaves a non-optional field out when its value is the default for the JS
   * value it got: 0 (int32 kind as a number), false, '', empty bytes, +0.0 (not -0.0).
   * int64 values arrive as decimal strings and are always written, "0" included.
   * A NULL is left out either way.
   */
  readonly omitDefault: boolean;
  /** For kind `array`: how each element is carried. */
  readonly arrayOf?: ColumnInfo['arrayOf'];
  /** For a message field (interval, arrays; value-messages.ts): the row path's encoding of its value. */
  readonly encodeMessage?: (value: object) => Uint8Array;
  /** The masked value (a hash) replaces the column's; the field is then string or bytes. */
  readonly mask?: (value: Exclude<ColumnValue, null>) => string | Buffer;
}

export interface RecordLayout {
  /** In field-number order: the order protobufjs writes them, so the order to write them in. */
  readonly fields: readonly FieldLayout[];
}

/** 64-bit kinds arrive as decimal strings, and protobufjs writes a long given as text even when it is "0". */
const ALWAYS_WRITTEN_KINDS: readonly ColumnKind[] = ['int64', 'timestamp', 'timestamptz'];

/**
 * The layout of `table`'s records in `type`, or null when a field is of a shape this
 * module does not describe (then read rows and use rowEncoder). Call after the drift check.
 */
export function recordLayout(table: TableInfo, type: protobuf.Type, mask: Readonly<Record<string, string>> = {}): RecordLayout | null {
  // protobufjs works out field presence (proto3 `optional`, editions' features) when it first
  // builds the type's encoder: have it built, so hasPresence below is what the encoder uses.
  type.encode({});
  const fields: FieldLayout[] = [];
  const byColumn = columnFields(type);
  for (let i = 0; i < table.columns.length; i++) {
    const c: ColumnInfo = table.columns[i]!;
    const f = byColumn.get(c.name);
    if (!f || c.kind === null || f.repeated || f.map) return null;
    const method = mask[c.name];
    if (valueMessageName(c) !== null && method === undefined) {
      const message = f.resolve().resolvedType;
      if (!(message instanceof protobuf.Type)) return null;
      // protobufjs writes a message field as present whenever a value is given, empty or not.
      fields.push({ column: i, name: c.name, kind: c.kind, id: f.id, type: 'bytes', omitDefault: false, ...(c.arrayOf ? { arrayOf: c.arrayOf } : {}), encodeMessage: (v) => message.encode(v).finish() });
      continue;
    }
    if (!(LAYOUT_FIELD_TYPES as readonly string[]).includes(f.type)) return null;
    const field: FieldLayout = {
      column: i,
      name: c.name,
      kind: c.kind,
      id: f.id,
      type: f.type as LayoutFieldType,
      // Masked values are 64 hex characters or 32 bytes: never a default.
      omitDefault: !f.hasPresence && method === undefined && !ALWAYS_WRITTEN_KINDS.includes(c.kind),
      ...(method !== undefined ? { mask: (v: Exclude<ColumnValue, null>) => maskValue(v, f.type === 'bytes') } : {}),
    };
    fields.push(field);
  }
  if (type.fieldsArray.length !== fields.length) return null; // a field without a column: drift, reported elsewhere
  fields.sort((a, b) => a.id - b.id);
  return { fields };
}
