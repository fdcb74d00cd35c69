import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { SCHEMAS_DIR, loadProtos, lookupType } from '../common/protos.ts';
import { streamOf, type Manifest } from '../recordfile/index.ts';

/**
 * A dump is decoded with its own schemas: the .proto copy each stream names in the manifest
 * (`schemas/<Table>.proto`), not the repository's. Extract allows a table's own .proto (the
 * per-table "proto" config), whose field numbers may differ, and masks columns (Email hashed
 * to bytes): read with the repository's .proto such a dump decoded with fields swapped, or as
 * "damaged". The repository's .proto stays what the MODULES expect (legacy-rows.ts mirrors
 * it): every column a module uses must be in the dump's message, with a compatible type.
 */
export interface DumpTable {
  readonly table: string;
  /** Absolute path of the dump's copy of the table's .proto. */
  readonly protoFile: string;
  readonly messageType: string;
  /** Columns the dump's manifest says were masked (hashed): never written to rejects. */
  readonly masked: readonly string[];
}

/** Where the row message of a legacy table is defined, by convention. */
export function legacySchema(table: string): { file: string; messageType: string } {
  return { file: `${SCHEMAS_DIR}legacy/${table}.proto`, messageType: `seedline.legacy.${table}` };
}

export function dumpTable(dump: string, manifest: Manifest, table: string): DumpTable {
  const stream = streamOf(manifest, table, dump);
  const masked = stream.info?.['masked'];
  return {
    table,
    protoFile: join(dump, stream.protoFile),
    messageType: stream.messageType,
    masked: masked && typeof masked === 'object' ? Object.keys(masked) : [],
  };
}

const typeCache = new Map<string, Promise<protobuf.Type>>();

/**
 * The dump's message type of a table, cached by the file's text (every part of a table shares
 * it; a dump extracted again at the same path with another .proto is not mistaken for the old).
 */
export async function dumpType(source: DumpTable): Promise<protobuf.Type> {
  const text = await readFile(source.protoFile, 'utf8').catch(() => '');
  const key = `${source.protoFile}\0${source.messageType}\0${text}`;
  let type = typeCache.get(key);
  if (!type) {
    type = loadType(source.protoFile, source.messageType);
    typeCache.set(key, type);
    type.catch(() => typeCache.delete(key));
  }
  return type;
}

async function loadType(file: string, messageType: string): Promise<protobuf.Type> {
  try {
    return lookupType(await loadProtos([file]), messageType, [file]);
  } catch (err) {
    throw new SeedlineError('SCHEMA_INVALID', `${file}: cannot load ${messageType} from the dump's own schema: ${messageOf(err)}`, {
      file,
      hint: 'the dump is incomplete or was edited; extract it again',
    });
  }
}

/** What a field holds as a row value (legacy-rows.ts): the unit of compatibility. */
function valueKind(field: protobuf.Field): string {
  field.resolve();
  if (field.repeated) return `repeated ${field.type}`;
  if (field.map) return `map ${field.type}`;
  if (field.resolvedType && 'values' in field.resolvedType) return 'number'; // an enum: its number
  if (field.resolvedType) return `message ${field.type}`;
  if (['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'].includes(field.type)) return 'int64';
  if (['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'float', 'double'].includes(field.type)) return 'number';
  return field.type; // string, bytes, bool
}

function describe(field: protobuf.Field): string {
  return `${field.options?.['proto3_optional'] === true ? 'optional ' : ''}${field.type}`;
}

/**
 * Checks that every column in `columns` (the ones a module or lookup uses) is in the dump's
 * message with a type the module can take: the same kind of value (number, int64 as bigint,
 * string, bytes, bool), and never NULL where the module expects a value. Names the table, the
 * column, what the module expects and what the dump holds. `columns` null: every column of
 * the repository's .proto.
 */
export async function checkColumns(dump: string, source: DumpTable, columns: readonly string[] | null, user: string): Promise<void> {
  const expectedSchema = legacySchema(source.table);
  const expectedType = lookupType(await loadProtos([expectedSchema.file]), expectedSchema.messageType, [expectedSchema.file]);
  const actual = await dumpType(source);
  for (const column of columns ?? expectedType.fieldsArray.map((f) => f.name)) {
    const want = expectedType.fields[column];
    if (!want) {
      throw new SeedlineError('TRANSFORM_FAILED', `${user} uses column ${source.table}.${column}, which ${expectedSchema.file} does not define`, {
        table: source.table,
        column,
        hint: 'fix the column list of the module (or lookup)',
      });
    }
    const have = actual.fields[column];
    const mismatch = !have
      ? 'has no such field'
      : valueKind(have) !== valueKind(want)
        ? `holds ${describe(have)}`
        : have.options?.['proto3_optional'] === true && want.options?.['proto3_optional'] !== true
          ? `holds ${describe(have)} (may be NULL)`
          : null;
    if (mismatch) {
      const masked = source.masked.includes(column) ? ' (masked by extract)' : '';
      throw new SeedlineError(
        'SCHEMA_INVALID',
        `${dump}: ${user} needs ${source.table}.${column} as ${describe(want)}; the dump's ${source.protoFile} ${mismatch}${masked}`,
        {
          file: source.protoFile,
          table: source.table,
          column,
          hint: have
            ? `extract ${source.table} without masking or retyping ${column}, or run without the modules that use it (--module)`
            : `extract ${source.table} with column ${column} (not excluded), or run without the modules that use it (--module)`,
        },
      );
    }
  }
}

