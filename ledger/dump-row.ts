import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import type protobuf from 'protobufjs';
import { ProtoReader } from '../common/proto-reader.ts';
import { loadProtos, lookupType } from '../common/protos.ts';
import { readPartBatches, streamOf, type Manifest, type PartEntry } from '../recordfile/index.ts';
import { primaryKeyJson } from '../transformer/event-id.ts';
import { protobufjsRowDecode, rowToJson } from '../transformer/legacy-rows.ts';
import { MODULES } from '../transformer/modules/index.ts';

/** One row of a dump as extracted (masked columns stay as the extract masked them). */
export interface DumpRow {
  readonly file: string;
  readonly record: number;
  readonly row: Record<string, unknown>;
}

/**
 * Finds a row by its primary key: only the parts whose key range (manifest) can hold it are
 * read, and a part is read only up to the row (extract writes a range in key order).
 * `key`: one value per key column, as text. Null when the dump has no such row.
 */
export async function findDumpRow(dump: string, manifest: Manifest, table: string, key: readonly string[], pkJson: string): Promise<DumpRow | null> {
  const stream = streamOf(manifest, table, dump);
  const columns = (stream.info?.['primaryKey'] as string[] | undefined) ?? [];
  // A dump without key columns in its manifest: the key as the module reading the table computes it.
  const module = MODULES.find((m) => m.reads.includes(table));
  if (columns.length === 0 && !module) {
    throw new SeedlineError('USAGE', `${table} has no primary key in the dump's manifest and no module reads it: its rows cannot be traced by key`, { table, file: join(dump, 'manifest.json') });
  }
  const matches =
    columns.length > 0
      ? (row: Record<string, unknown>) => columns.every((c, i) => String(row[c]) === key[i])
      : (row: Record<string, unknown>) => primaryKeyJson(module!.primaryKey(row, table)) === pkJson;
  if (columns.length > 0 && columns.length !== key.length) {
    throw new SeedlineError('USAGE', `${table}'s primary key is (${columns.join(', ')}): give ${columns.length} value${columns.length === 1 ? '' : 's'} separated by commas, got '${key.join(',')}'`, { table, option: '<key>' });
  }
  const type = lookupType(await loadProtos([join(dump, stream.protoFile)]), stream.messageType, [stream.protoFile]);
  const decode = protobufjsRowDecode(type);
  const peek = columns.length > 0 ? keyPeeker(type, columns) : null;
  for (const part of stream.parts) {
    if (!mayHold(part, key)) continue;
    let record = 0;
    for await (const batch of readPartBatches(join(dump, part.file))) {
      for (const bytes of batch) {
        // Most rows are told apart by their key fields alone, without decoding their texts.
        if (peek === null || peek(bytes, key)) {
          const row = decode(bytes);
          if (matches(row)) return { file: part.file, record, row: rowToJson(row) };
        }
        record++;
      }
    }
  }
  return null;
}

const INTEGER_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64']);

/**
 * A test of the key fields straight on the record bytes, when every key column is an integer
 * or a string field: true when they hold `key` (then the row is decoded and checked).
 * Null when a key column is of another type (every row is decoded then).
 */
function keyPeeker(type: protobuf.Type, columns: readonly string[]): ((bytes: Buffer, key: readonly string[]) => boolean) | null {
  const fields = columns.map((c) => type.fields[c]);
  if (fields.some((f) => !f || (!INTEGER_TYPES.has(f.type) && f.type !== 'string'))) return null;
  const ids = fields.map((f) => f!.id);
  const reader = new ProtoReader();
  return (bytes, key) => {
    const r = reader.reset(bytes);
    let matched = 0;
    while (r.pos < r.end) {
      const tag = r.uint32();
      const at = ids.indexOf(tag >>> 3);
      if (at < 0) {
        r.skip(tag & 7);
        continue;
      }
      let value: string;
      if ((tag & 7) === 0) {
        r.varint64();
        value = BigInt.asIntN(64, (BigInt(r.hi) << 32n) | BigInt(r.lo)).toString();
        if (fields[at]!.type.startsWith('uint')) value = ((BigInt(r.hi) << 32n) | BigInt(r.lo)).toString();
      } else {
        const end = r.bytesEnd();
        value = bytes.toString('utf8', r.pos, end);
        r.pos = end;
      }
      if (value !== key[at]) return false;
      matched++;
    }
    // A key field left out holds its default (0 or ''): let the full decode judge.
    return matched === ids.length || key.some((k) => k === '0' || k === '');
  };
}

/** Whether a part's key range (first/last key, one value per column) can hold `key`. */
function mayHold(part: PartEntry, key: readonly string[]): boolean {
  const range = part.keyRange as { first?: unknown[]; last?: unknown[] } | undefined;
  if (!Array.isArray(range?.first) || !Array.isArray(range?.last)) return true;
  return compareKeys(range.first.map(String), key) <= 0 && compareKeys(key, range.last.map(String)) <= 0;
}

/** Column by column: integers by value, anything else as text. */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (INTEGER.test(x) && INTEGER.test(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

const INTEGER = /^-?\d+$/;
