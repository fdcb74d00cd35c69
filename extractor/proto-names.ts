import type protobuf from 'protobufjs';
import type { TableRef } from './columns.ts';

/**
 * Names in a generated .proto for tables and columns whose SQL names are no protobuf
 * identifiers (`"Order Details"`, `"Unit Price"`, `"1st"`, `"Größe"`): valid, stable (the same
 * catalog gives the same names) and unchanged for names that already are identifiers, so the
 * reviewed schemas of ordinary tables stay as they were. A renamed column keeps its SQL name
 * as the field's `json_name`, which the extractor reads to find the column (legacy-schema.ts
 * `columnFields`) and which protobuf's JSON mapping prints.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Letters NFKD does not take apart into a base letter and marks. */
const SPELLED_OUT: Readonly<Record<string, string>> = { ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', ø: 'o', Ø: 'O', œ: 'oe', Œ: 'OE', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', þ: 'th', Þ: 'TH' };

/** `Order Details` → `Order_Details`, `Größe` → `Grosse`, `1st` → `_1st`; an identifier stays as it is. */
export function protoIdentifier(name: string, fallback = 'unnamed'): string {
  if (IDENTIFIER.test(name)) return name;
  const ascii = name
    .replace(/[ßẞæÆøØœŒłŁđĐþÞ]/g, (ch) => SPELLED_OUT[ch]!)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '');
  const id = ascii.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (id === '') return fallback;
  return /^[0-9]/.test(id) ? `_${id}` : id;
}

/**
 * protoc refuses two fields of a proto3 message whose JSON names (underscores dropped, the
 * next letter capitalized) are equal; this key is stricter (case too), so a suffix is added
 * wherever protoc might object.
 */
function jsonKey(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/**
 * A field name per column, in column order: the column's identifier, `_2`, `_3`… after it when
 * an earlier column (or one of `taken`, the nested message names) already has it.
 */
export function fieldNames(columns: readonly string[], taken: readonly string[] = []): string[] {
  const used = new Set(taken.map(jsonKey));
  return columns.map((column) => {
    const base = protoIdentifier(column, 'column');
    let name = base;
    for (let n = 2; used.has(jsonKey(name)); n++) name = `${base}_${n}`;
    used.add(jsonKey(name));
    return name;
  });
}

/**
 * The message, file and stream name of a table: its identifier, or `<schema>_<table>` when
 * another table of the database (`all`) has the same identifier (`public.store` and
 * `ho2.store` are `public_store` and `ho2_store`; compared without case, for file systems
 * that ignore it).
 */
export function tableProtoName(table: TableRef, all: readonly TableRef[]): string {
  const id = protoIdentifier(table.name, 'table');
  const clash = all.some((t) => t.schema !== table.schema && protoIdentifier(t.name, 'table').toLowerCase() === id.toLowerCase());
  return clash ? `${protoIdentifier(table.schema, 'schema')}_${id}` : id;
}

/**
 * Column name → its field: the field whose `json_name` is the column's SQL name (a column
 * whose name is no identifier, proto-names.ts), else the field of the column's name.
 */
export function columnFields(type: protobuf.Type): Map<string, protobuf.Field> {
  const out = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    const column = (f.options?.json_name as string | undefined) ?? f.name;
    if (!out.has(column)) out.set(column, f);
  }
  for (const f of type.fieldsArray) if (!out.has(f.name)) out.set(f.name, f);
  return out;
}
