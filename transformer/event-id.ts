import { createHash } from 'node:crypto';
import { SeedlineError } from '../common/errors.ts';

/**
 * Deterministic event ids: a UUID version 5 (RFC 9562: SHA-1 of namespace + name) of the
 * event's source table, source primary key and event type. Re-running a transform gives the
 * same ids, so consumers can de-duplicate replays.
 *
 * The name hashed is the JSON array `[table, primaryKey, type]` written without spaces, with
 * the primary key in its canonical JSON form (see `primaryKeyJson`), e.g.
 * `["Messages",42,"chat.message-sent"]` or `["Visits",[7,"2019-01-02"],"visits.profile-visited"]`.
 */

/** seedline's own namespace UUID. Never change it: every event id ever published depends on it. */
export const SEEDLINE_NAMESPACE = '64f7f3b6-8842-4f4b-9a7d-e2e86e60aece';

/** A legacy primary key: one column, or several for a composite key. */
export type PrimaryKeyPart = number | bigint | string;
export type PrimaryKey = PrimaryKeyPart | readonly PrimaryKeyPart[];

/**
 * Canonical JSON text of a primary key, as stored in `source.primary_key`: integers as plain
 * digits (bigints too, without losing precision), strings JSON-quoted, composite keys as an array.
 */
export function primaryKeyJson(pk: PrimaryKey): string {
  if (Array.isArray(pk)) return `[${(pk as readonly PrimaryKeyPart[]).map(partJson).join(',')}]`;
  return partJson(pk as PrimaryKeyPart);
}

function partJson(part: PrimaryKeyPart): string {
  if (typeof part === 'bigint') return part.toString();
  if (typeof part === 'number') {
    if (!Number.isSafeInteger(part)) {
      throw new SeedlineError('TRANSFORM_FAILED', `a primary key must be an integer or a string, got ${part}`);
    }
    return String(part);
  }
  if (typeof part === 'string') return JSON.stringify(part);
  throw new SeedlineError('TRANSFORM_FAILED', `a primary key must be an integer or a string, got ${typeof part}`);
}

/** The id of the event of `type` made from row `pk` of `table`. */
export function eventId(table: string, pk: PrimaryKey, type: string): string {
  return uuidV5(SEEDLINE_NAMESPACE, `[${JSON.stringify(table)},${primaryKeyJson(pk)},${JSON.stringify(type)}]`);
}

/** Same as `eventId`, for callers that already hold the primary key's canonical JSON. */
export function eventIdFromJson(table: string, pkJson: string, type: string): string {
  return uuidV5(SEEDLINE_NAMESPACE, `[${JSON.stringify(table)},${pkJson},${JSON.stringify(type)}]`);
}

const namespaceBytes = new Map<string, Buffer>();

/** RFC 9562 UUID version 5 of `name` (UTF-8) in `namespace`. */
export function uuidV5(namespace: string, name: string): string {
  let ns = namespaceBytes.get(namespace);
  if (!ns) {
    const hex = namespace.replace(/-/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${namespace}`);
    ns = Buffer.from(hex, 'hex');
    namespaceBytes.set(namespace, ns);
  }
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const h = hash.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
