import { join } from 'node:path';
import protobuf from 'protobufjs';
import { SeedlineError, messageOf } from './errors.ts';
import { PACKAGE_ROOT } from './package-root.ts';

/** The repository's `schemas/` directory. */
export const SCHEMAS_DIR = join(PACKAGE_ROOT, 'schemas') + '/';

const roots = new Map<string, Promise<protobuf.Root>>();

/**
 * Loads .proto files (cached per file set). Field names are kept exactly as written
 * (`keepCase`), so a legacy column `SentAt` is field `SentAt`, not `sentAt`.
 */
export function loadProtos(files: readonly string[]): Promise<protobuf.Root> {
  const cacheKey = [...files].sort().join('\n');
  let root = roots.get(cacheKey);
  if (!root) {
    root = new protobuf.Root().load([...files], { keepCase: true }).catch((err: unknown) => {
      roots.delete(cacheKey);
      throw new SeedlineError('SCHEMA_INVALID', `cannot load ${files.join(', ')}: ${messageOf(err)}`, {
        file: files[0],
      });
    });
    roots.set(cacheKey, root);
  }
  return root;
}

/** Looks up a message type, naming the files searched when it is missing. */
export function lookupType(root: protobuf.Root, name: string, files: readonly string[]): protobuf.Type {
  try {
    return root.lookupType(name);
  } catch {
    throw new SeedlineError('SCHEMA_INVALID', `message type ${name} is not defined in ${files.join(', ')}`, {
      file: files[0],
    });
  }
}

export const ENVELOPE_PROTO = `${SCHEMAS_DIR}events/envelope.proto`;
export const ENVELOPE_TYPE = 'seedline.events.Event';

/** The decoded shape of the event envelope (schemas/events/envelope.proto). */
export interface EventEnvelope {
  id: string;
  type: string;
  /** int64: a Long after decoding; a number, string or Long when encoding. */
  occurred_at: protobuf.Long | number | string;
  key: string;
  payload: Uint8Array;
  source: { table: string; primary_key: string } | null | undefined;
  payload_type: string;
}

export async function envelopeType(): Promise<protobuf.Type> {
  return lookupType(await loadProtos([ENVELOPE_PROTO]), ENVELOPE_TYPE, [ENVELOPE_PROTO]);
}

/** int64 values decode as Long; this turns them into bigint without losing precision. */
export function int64ToBigInt(value: protobuf.Long | number | string | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'string') return BigInt(value);
  return BigInt(value.toString());
}
