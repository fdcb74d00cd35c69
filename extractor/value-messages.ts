import type protobuf from 'protobufjs';
import type { ArrayElementKind, ColumnInfo } from './columns.ts';

/**
 * The small messages a column is carried in when no scalar keeps it exactly: an interval
 * (months, days and microseconds are separate on the server: a month is not 30 days, a day
 * not always 24 hours) and an array. Generated inside each table's message that needs them,
 * so every .proto stands alone; the drift check compares their shape field by field.
 *
 * Arrays: `values` holds every element in row-major order. A NULL element is the field
 * type's default there ('' / 0 / false / empty bytes) and its 0-based index is in
 * `null_indexes`. `dims` (length per dimension) is written only for 2+ dimensions,
 * `lower_bounds` only when one is not 1 (PostgreSQL's default). A NULL array leaves the
 * field absent; an empty array is present with no values.
 */
type FieldSpec = readonly [name: string, type: string, id: number, repeated: boolean];

const INTERVAL: readonly FieldSpec[] = [
  ['months', 'int32', 1, false],
  ['days', 'int32', 2, false],
  ['microseconds', 'int64', 3, false],
];

const ELEMENT_FIELD_TYPE: Record<ArrayElementKind, string> = {
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  float: 'float',
  double: 'double',
  string: 'string',
  bytes: 'bytes',
};

function arrayFields(element: ArrayElementKind): readonly FieldSpec[] {
  return [
    ['values', ELEMENT_FIELD_TYPE[element], 1, true],
    ['null_indexes', 'int32', 2, true],
    ['dims', 'int32', 3, true],
    ['lower_bounds', 'int32', 4, true],
  ];
}

/** The message type name a column's field has, or null for a scalar column. */
export function valueMessageName(c: Pick<ColumnInfo, 'kind' | 'arrayOf'>): string | null {
  if (c.kind === 'interval') return 'Interval';
  if (c.kind === 'array' && c.arrayOf) return `${c.arrayOf[0]!.toUpperCase()}${c.arrayOf.slice(1)}Array`;
  return null;
}

function fieldsOf(c: Pick<ColumnInfo, 'kind' | 'arrayOf'>): readonly FieldSpec[] {
  return c.kind === 'interval' ? INTERVAL : arrayFields(c.arrayOf!);
}

/** The nested message definitions the columns need (each once), indented for a table's message. */
export function valueMessageDefinitions(columns: readonly ColumnInfo[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of columns) {
    const name = valueMessageName(c);
    if (name === null || seen.has(name)) continue;
    seen.add(name);
    const about =
      c.kind === 'interval'
        ? 'an interval exactly as the server keeps it'
        : `an array: every element in row-major order; a NULL element is the default here and its 0-based index is in null_indexes; dims only for 2+ dimensions, lower_bounds only when one is not 1`;
    lines.push(`  // ${about}`, `  message ${name} {`);
    for (const [field, type, id, repeated] of fieldsOf(c)) lines.push(`    ${repeated ? 'repeated ' : ''}${type} ${field} = ${id};`);
    lines.push('  }');
  }
  return lines;
}

/** What differs between the field's message and the one the column needs; null when they match. */
export function valueMessageProblem(c: ColumnInfo, f: protobuf.Field): string | null {
  const want = valueMessageName(c)!;
  const found = f.repeated ? `repeated ${f.type}` : f.type;
  if (f.repeated || f.map || f.type.split('.').pop() !== want) return `expected a ${want} message field, the .proto has ${found}`;
  const type = f.resolve().resolvedType as protobuf.Type | null;
  if (!type || !('fieldsArray' in type)) return `${f.type} is not a message`;
  const specs = fieldsOf(c);
  if (type.fieldsArray.length !== specs.length) return `message ${f.type} must have exactly the fields ${specs.map((s) => s[0]).join(', ')}`;
  for (const [name, ftype, id, repeated] of specs) {
    const g = type.fields[name];
    if (!g || g.type !== ftype || g.id !== id || g.repeated !== repeated) {
      return `message ${f.type} must have \`${repeated ? 'repeated ' : ''}${ftype} ${name} = ${id}\``;
    }
  }
  return null;
}
