import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type protobuf from 'protobufjs';
import { SeedlineError } from '../common/errors.ts';
import { SCHEMAS_DIR, loadProtos, lookupType } from '../common/protos.ts';
import { MASKED_FIELD_TYPES } from './masking.ts';
import type { ColumnKind, TableInfo } from './source.ts';
import { columnFields, fieldNames, protoIdentifier } from './proto-names.ts';
import { valueMessageDefinitions, valueMessageName, valueMessageProblem } from './value-messages.ts';

/**
 * The contract between a live table and its reviewed `.proto` (schemas/legacy/<Table>.proto,
 * message seedline.legacy.<Table>): checked before a single row is read, and generated
 * from the catalog for a human to review.
 */
export const LEGACY_SCHEMAS_DIR = join(SCHEMAS_DIR, 'legacy');
export const LEGACY_PACKAGE = 'seedline.legacy';

/** Protobuf field types that carry each kind exactly (the first is what generateProto writes). */
const FIELD_TYPES: Record<ColumnKind, readonly string[]> = {
  int32: ['int32', 'sint32', 'sfixed32', 'int64', 'sint64', 'sfixed64'],
  int64: ['int64', 'sint64', 'sfixed64'],
  bool: ['bool'],
  decimal: ['string'],
  float: ['float', 'double'],
  double: ['double'],
  string: ['string'],
  bytes: ['bytes'],
  uuid: ['string'],
  date: ['string'],
  timestamp: ['int64', 'sint64', 'sfixed64'],
  timestamptz: ['int64', 'sint64', 'sfixed64'],
  // Message fields (value-messages.ts), checked by shape.
  interval: [],
  array: [],
};

const KIND_NOTES: Partial<Record<ColumnKind, string>> = {
  decimal: 'exact decimal text',
  uuid: 'lowercase canonical',
  date: 'YYYY-MM-DD; other years ISO 8601 expanded (-0043-03-15 is 44 BC, +10000-01-01), or infinity / -infinity',
  timestamp: 'source time zone → UTC microseconds; infinity / -infinity: int64 max / min',
  timestamptz: 'UTC microseconds; infinity / -infinity: int64 max / min',
  interval: 'months, days, microseconds',
};

export interface LegacySchema {
  readonly protoPath: string;
  readonly messageType: string;
  readonly type: protobuf.Type;
}

/**
 * Loads the message of a table from `dir`: `<name>.proto`, message `seedline.legacy.<name>`,
 * where `name` is the table's proto name (proto-names.ts `tableProtoName`: `Members` for
 * dbo.Members). `qualifiedName` (`dbo.Members`) only makes the error for a missing file exact.
 */
export async function loadLegacySchema(tableName: string, dir = LEGACY_SCHEMAS_DIR, protoPath?: string, qualifiedName = tableName): Promise<LegacySchema> {
  const path = protoPath ?? join(dir, `${tableName}.proto`);
  if (!existsSync(path)) {
    throw new SeedlineError('SCHEMA_INVALID', `${path} does not exist: table ${qualifiedName} has no reviewed schema`, {
      file: path,
      table: qualifiedName,
      hint: `generate one with \`seedline schema ${shellWord(qualifiedName)} --source <url> --out ${shellWord(protoPath ? dirname(path) : dir)}\`, review it and commit it`,
    });
  }
  const messageType = `${LEGACY_PACKAGE}.${tableName}`;
  const root = await loadProtos([path]);
  return { protoPath: path, messageType, type: lookupType(root, messageType, [path]) };
}

/** `dbo.Members` as it is; anything a shell would split or expand in single quotes. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface Drift {
  readonly column: string;
  readonly problem: string;
}

/** Every difference between the table and its message; empty when they match. */
export function findDrift(table: TableInfo, type: protobuf.Type, excluded: readonly string[] = [], masked: readonly string[] = []): Drift[] {
  const drift: Drift[] = [];
  const byColumn = columnFields(type);
  const fields = new Map(type.fieldsArray.map((f) => [f.name, f]));
  for (const c of table.columns) {
    const f = byColumn.get(c.name);
    if (f) fields.delete(f.name);
    if (!f) {
      drift.push({ column: c.name, problem: `column ${c.name} (${c.sqlType}) has no field in the .proto` });
      continue;
    }
    if (c.kind === null) continue; // reported as UNSUPPORTED_TYPE, with its own hint
    if (valueMessageName(c) !== null && !masked.includes(c.name)) {
      // A message field has presence of its own: NULL is an absent field, `optional` or not.
      const problem = valueMessageProblem(c, f);
      if (problem) drift.push({ column: c.name, problem: `column ${c.name} is ${c.sqlType}: ${problem}` });
      continue;
    }
    // A masked column carries its hash: hex text or the raw digest, whatever the SQL type.
    const allowed = masked.includes(c.name) ? MASKED_FIELD_TYPES : FIELD_TYPES[c.kind];
    if (f.repeated || f.map || !allowed.includes(f.type)) {
      const found = f.map ? 'a map' : f.repeated ? `repeated ${f.type}` : f.type;
      const what = masked.includes(c.name) ? 'masked in the config' : c.sqlType;
      drift.push({ column: c.name, problem: `column ${c.name} is ${what}: expected a ${allowed[0]} field, the .proto has ${found}` });
      continue;
    }
    const optional = isOptional(f);
    // A NOT NULL column in an optional field loses nothing; the reverse would turn NULL into ''/0.
    if (c.nullable && !optional) {
      drift.push({ column: c.name, problem: `column ${c.name} is nullable: field ${f.name} must be \`optional\` so NULL stays distinct from ${f.type === 'string' ? "''" : 'its default'}` });
    }
  }
  for (const f of fields.values()) {
    drift.push({
      column: f.name,
      problem: excluded.includes(f.name)
        ? `column ${f.name} is excluded in the config, but the .proto still has field ${f.name} (give the table a .proto without it)`
        : `field ${f.name} has no column in the table (dropped or renamed?)`,
    });
  }
  return drift;
}

/** SCHEMA_DRIFT naming the table, the .proto and every column that differs. */
export function assertNoDrift(table: TableInfo, schema: LegacySchema, excluded: readonly string[] = [], masked: readonly string[] = []): void {
  const drift = findDrift(table, schema.type, excluded, masked);
  if (drift.length === 0) return;
  throw new SeedlineError(
    'SCHEMA_DRIFT',
    `${table.qualifiedName} no longer matches ${schema.protoPath}: ${drift.map((d) => d.problem).join('; ')}`,
    {
      table: table.qualifiedName,
      column: drift[0]!.column,
      file: schema.protoPath,
      hint: 'review the change; update the .proto (seedline schema shows what the table looks like now) and the transforms that read it',
    },
  );
}

export interface GenerateProtoOptions {
  /** The message name (proto-names.ts `tableProtoName`); default: the table name as an identifier. */
  readonly messageName?: string;
  /** The zone naive timestamps are read in (--source-timezone), named in their fields' comments when known. */
  readonly sourceTimezone?: string;
}

/** A starting `.proto` for a table, one field per column, the SQL type as a comment. */
export function generateProto(table: TableInfo, options: GenerateProtoOptions = {}): string {
  const messageName = options.messageName ?? protoIdentifier(table.name, 'table');
  const nested = valueMessageDefinitions(table.columns);
  const names = fieldNames(
    table.columns.map((c) => c.name),
    table.columns.flatMap((c) => valueMessageName(c) ?? []),
  );
  const renamed = names.some((n, i) => n !== table.columns[i]!.name);
  const lines = [
    `// Legacy table ${oneLine(table.qualifiedName)}. One field per column, named ${renamed ? 'as the column, or, where its name is no identifier, with json_name = the column\'s name' : 'exactly as the column'}.`,
    '// Generated by `seedline schema` from the catalog: review it before committing.',
    'syntax = "proto3";',
    '',
    `package ${LEGACY_PACKAGE};`,
    '',
    `message ${messageName} {`,
    ...nested,
  ];
  table.columns.forEach((c, i) => {
    const name = names[i]!;
    const pk = table.primaryKey.includes(c.name) ? ', primary key' : '';
    const comment = `// ${oneLine(c.sqlType)}${c.nullable ? ' NULL' : ' NOT NULL'}${pk}${c.note ? `, ${oneLine(c.note)}` : ''}`;
    if (c.kind === null) {
      lines.push(`  // ${oneLine(c.name)} = ${i + 1}: UNSUPPORTED (${oneLine(c.sqlType)}); leave it out or cast it in a view`);
      return;
    }
    const zone = c.kind === 'timestamp' && options.sourceTimezone ? ` (${options.sourceTimezone})` : '';
    const note = KIND_NOTES[c.kind] ? `, ${KIND_NOTES[c.kind]!.replace('source time zone', `source time zone${zone}`)}` : '';
    const message = valueMessageName(c);
    // A message field has presence without `optional`.
    const type = message ?? FIELD_TYPES[c.kind][0];
    const jsonName = name !== c.name ? ` [json_name = ${protoString(c.name)}]` : '';
    lines.push(`  ${c.nullable && message === null ? 'optional ' : ''}${type} ${name} = ${i + 1}${jsonName}; ${comment}${note}`);
  });
  lines.push('}', '');
  return lines.join('\n');
}

/** Text for a `//` comment: one line. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** A protobuf string literal (UTF-8 as it is; quotes, backslashes and control characters escaped). */
function protoString(text: string): string {
  return `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`).replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

function isOptional(f: protobuf.Field): boolean {
  return Boolean(f.options?.proto3_optional) || (f.partOf !== null && f.partOf.oneof.length === 1 && f.partOf.name === `_${f.name}`);
}
