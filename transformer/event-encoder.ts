import Long from 'long';
import type protobuf from 'protobufjs';
import { SeedlineError } from '../common/errors.ts';
import { SCHEMAS_DIR, envelopeType, loadProtos, lookupType } from '../common/protos.ts';
import { eventIdFromJson } from './event-id.ts';
import type { EventDraft, EventModule } from './module.ts';

/** The .proto file of a module's payloads. */
export function payloadProtoPath(module: EventModule): string {
  return `${SCHEMAS_DIR}events/${module.schema}`;
}

/**
 * Turns a module's event draft into envelope bytes (schemas/events/envelope.proto): checks the
 * draft against what the module declared, encodes the payload with its message type, derives
 * the deterministic id. A draft that does not fit is a bug in the module: TRANSFORM_FAILED.
 */
export class EventEncoder {
  private readonly envelope: protobuf.Type;
  private readonly payloadTypes: ReadonlyMap<string, protobuf.Type>;

  private constructor(envelope: protobuf.Type, payloadTypes: ReadonlyMap<string, protobuf.Type>) {
    this.envelope = envelope;
    this.payloadTypes = payloadTypes;
  }

  /** Loads the envelope and every payload type the modules declare (SCHEMA_INVALID if one is missing). */
  static async create(modules: readonly EventModule[]): Promise<EventEncoder> {
    const payloadTypes = new Map<string, protobuf.Type>();
    for (const module of modules) {
      const file = payloadProtoPath(module);
      const root = await loadProtos([file]);
      for (const [eventType, messageType] of Object.entries(module.emits)) {
        payloadTypes.set(eventType, lookupType(root, messageType, [file]));
      }
    }
    return new EventEncoder(await envelopeType(), payloadTypes);
  }

  payloadType(eventType: string): protobuf.Type | undefined {
    return this.payloadTypes.get(eventType);
  }

  encode(module: EventModule, table: string, pkJson: string, draft: EventDraft): Uint8Array {
    const where = { module: module.name, table, hint: `fix transformer/modules/${module.name}.ts` };
    const fail = (what: string) =>
      new SeedlineError('TRANSFORM_FAILED', `module ${module.name}, ${table} row ${pkJson}: ${what}`, where);
    const payloadTypeName = module.emits[draft.type];
    const payloadType = this.payloadTypes.get(draft.type);
    if (payloadTypeName === undefined || !payloadType) {
      throw fail(`event type '${draft.type}' is not in the module's emits (${Object.keys(module.emits).join(', ')})`);
    }
    if (typeof draft.occurredAt !== 'bigint') throw fail(`occurredAt must be a bigint of microseconds, got ${typeof draft.occurredAt}`);
    if (typeof draft.key !== 'string' || draft.key === '') throw fail(`key must be a non-empty string, got ${JSON.stringify(draft.key)}`);
    const payload = toProtobufValues(draft.payload) as Record<string, unknown>;
    const problem = payloadType.verify(payload);
    if (problem) throw fail(`payload of ${draft.type} does not fit ${payloadTypeName}: ${problem}`);
    return this.envelope
      .encode({
        id: eventIdFromJson(table, pkJson, draft.type),
        type: draft.type,
        occurred_at: bigintToLong(draft.occurredAt),
        key: draft.key,
        payload: payloadType.encode(payload).finish(),
        source: { table, primary_key: pkJson },
        payload_type: payloadTypeName,
      })
      .finish();
  }
}

/** bigint → Long, recursively (protobufjs encodes int64 from Long, not from bigint). */
function toProtobufValues(value: unknown): unknown {
  if (typeof value === 'bigint') return bigintToLong(value);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(toProtobufValues);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = toProtobufValues(v);
  return out;
}

export function bigintToLong(value: bigint): Long {
  const bits = BigInt.asUintN(64, value);
  return Long.fromBits(Number(bits & 0xffffffffn), Number(bits >> 32n), false);
}
