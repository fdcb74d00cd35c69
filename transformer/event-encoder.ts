import Long from 'long';
import type protobuf from 'protobufjs';
import { SeedlineError } from '../common/errors.ts';
import { SCHEMAS_DIR, envelopeType, loadProtos, lookupType } from '../common/protos.ts';
import { eventIdFromJson, writeEventId } from './event-id.ts';
import type { EventDraft, EventModule } from './module.ts';
import { ScratchWriter, compileEncoder, type CompiledEncoder } from './proto-writer.ts';

/** The .proto file of a module's payloads. */
export function payloadProtoPath(module: EventModule): string {
  return `${SCHEMAS_DIR}events/${module.schema}`;
}

/** What the envelope of one event type needs, worked out at its first event. */
interface TypePlan {
  readonly module: EventModule;
  readonly payloadTypeName: string;
  readonly payloadType: protobuf.Type;
  /** Hand-compiled payload encoder (null: that type goes through protobufjs). */
  readonly compiled: CompiledEncoder | null;
  /** Field 2 (type) and field 7 (payload_type), tag and length included: the same bytes on every event. */
  readonly typeField: Buffer;
  readonly payloadTypeField: Buffer;
}

/**
 * Turns a module's event draft into envelope bytes (schemas/events/envelope.proto): checks the
 * draft against what the module declared, encodes the payload with its message type, derives
 * the deterministic id. A draft that does not fit is a bug in the module: TRANSFORM_FAILED.
 */
export class EventEncoder {
  private readonly envelope: protobuf.Type;
  private readonly payloadTypes: ReadonlyMap<string, protobuf.Type>;
  /** Event type → hand-compiled payload encoder (null: that type goes through protobufjs). */
  private readonly compiled = new Map<string, CompiledEncoder | null>();
  /** Event type → its plan, for the module that emits it. */
  private readonly plans = new Map<string, TypePlan>();
  /** Table → field 1 of Source (the table name), tag and length included. */
  private readonly tableFields = new Map<string, Buffer>();
  private readonly writer = new ScratchWriter();

  private constructor(envelope: protobuf.Type, payloadTypes: ReadonlyMap<string, protobuf.Type>) {
    this.envelope = envelope;
    this.payloadTypes = payloadTypes;
    for (const [eventType, type] of payloadTypes) this.compiled.set(eventType, compileEncoder(type));
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

  /**
   * The envelope bytes (a new buffer the caller keeps). Written field by field into a reused
   * scratch buffer, byte for byte what `envelope.encode({...}).finish()` gives (the test
   * compares both); payload types with fields the hand writer does not handle go through
   * protobufjs.
   */
  encode(module: EventModule, table: string, pkJson: string, draft: EventDraft): Uint8Array {
    return this.encodeInScratch(module, table, pkJson, draft).copy(0);
  }

  /**
   * The same bytes as `encode`, as a view of the encoder's scratch buffer: valid only until the
   * next call. For a caller that copies them at once, it saves a copy per event.
   */
  encodeView(module: EventModule, table: string, pkJson: string, draft: EventDraft): Uint8Array {
    const w = this.encodeInScratch(module, table, pkJson, draft);
    return w.buf.subarray(0, w.pos);
  }

  private encodeInScratch(module: EventModule, table: string, pkJson: string, draft: EventDraft): ScratchWriter {
    const w = this.writer;
    w.pos = 0;
    this.encodeInto(w, module, table, pkJson, draft);
    return w;
  }

  /** The same bytes as `encode`, written at `w.pos` of a caller's writer (a generation worker's batch). */
  encodeInto(w: ScratchWriter, module: EventModule, table: string, pkJson: string, draft: EventDraft): void {
    let plan = this.plans.get(draft.type);
    if (plan === undefined || plan.module !== module) plan = this.planFor(module, table, pkJson, draft.type);
    if (typeof draft.occurredAt !== 'bigint') {
      throw fail(module, table, pkJson, `occurredAt must be a bigint of microseconds, got ${typeof draft.occurredAt}`);
    }
    if (typeof draft.key !== 'string' || draft.key === '') {
      throw fail(module, table, pkJson, `key must be a non-empty string, got ${JSON.stringify(draft.key)}`);
    }
    // Fields in number order, as protobufjs writes them; proto3 defaults ("", 0) are skipped.
    w.ensure(38);
    w.buf[w.pos++] = 0x0a; // 1: id, 36 ASCII bytes
    w.buf[w.pos++] = 36;
    w.pos = writeEventId(w.buf, w.pos, table, pkJson, draft.type);
    w.raw(plan.typeField);
    if (draft.occurredAt !== 0n) {
      w.tag(3, 0);
      w.int64(draft.occurredAt);
    }
    w.tag(4, 2);
    w.string(draft.key);
    const payloadStart = w.pos;
    w.tag(5, 2);
    const compiled = plan.compiled;
    if (compiled) {
      const mark = w.fork();
      const problem = compiled(draft.payload, w);
      if (problem !== null) throw fail(module, table, pkJson, `payload of ${draft.type} does not fit ${plan.payloadTypeName}: ${problem}`);
      if (w.ldelim(mark) === 0) w.pos = payloadStart; // an empty payload is the bytes default: not written
    } else {
      const payload = toProtobufValues(draft.payload) as Record<string, unknown>;
      const problem = plan.payloadType.verify(payload);
      if (problem) throw fail(module, table, pkJson, `payload of ${draft.type} does not fit ${plan.payloadTypeName}: ${problem}`);
      const bytes = plan.payloadType.encode(payload).finish();
      if (bytes.length > 0) w.bytes(bytes);
      else w.pos = payloadStart;
    }
    w.tag(6, 2); // source: a message, written even when empty
    const source = w.fork();
    let tableField = this.tableFields.get(table);
    if (tableField === undefined) this.tableFields.set(table, (tableField = stringField(1, table)));
    w.raw(tableField);
    if (pkJson !== '') {
      w.tag(2, 2);
      w.string(pkJson);
    }
    w.ldelim(source);
    w.raw(plan.payloadTypeField);
  }

  /** The plan of `type` as `module` emits it; TRANSFORM_FAILED when the module does not declare it. */
  private planFor(module: EventModule, table: string, pkJson: string, type: string): TypePlan {
    const payloadTypeName = module.emits[type];
    const payloadType = this.payloadTypes.get(type);
    if (payloadTypeName === undefined || !payloadType) {
      throw fail(module, table, pkJson, `event type '${type}' is not in the module's emits (${Object.keys(module.emits).join(', ')})`);
    }
    const plan: TypePlan = {
      module,
      payloadTypeName,
      payloadType,
      compiled: this.compiled.get(type) ?? null,
      typeField: stringField(2, type),
      payloadTypeField: stringField(7, payloadTypeName),
    };
    this.plans.set(type, plan);
    return plan;
  }

  /** The same envelope through protobufjs alone: the reference `encode` is checked against. */
  encodeWithProtobufjs(module: EventModule, table: string, pkJson: string, draft: EventDraft): Uint8Array {
    const payloadType = this.payloadTypes.get(draft.type)!;
    return this.envelope
      .encode({
        id: eventIdFromJson(table, pkJson, draft.type),
        type: draft.type,
        occurred_at: bigintToLong(draft.occurredAt),
        key: draft.key,
        payload: payloadType.encode(toProtobufValues(draft.payload) as Record<string, unknown>).finish(),
        source: { table, primary_key: pkJson },
        payload_type: module.emits[draft.type],
      })
      .finish();
  }
}

/** A string field with its tag, as ScratchWriter writes it; nothing for "" (the proto3 default). */
function stringField(id: number, value: string): Buffer {
  if (value === '') return Buffer.alloc(0);
  const w = new ScratchWriter(Buffer.allocUnsafe(16));
  w.tag(id, 2);
  w.string(value);
  return w.copy(0);
}

function fail(module: EventModule, table: string, pkJson: string, what: string): SeedlineError {
  return new SeedlineError('TRANSFORM_FAILED', `module ${module.name}, ${table} row ${pkJson}: ${what}`, {
    module: module.name,
    table,
    hint: `fix transformer/modules/${module.name}.ts`,
  });
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
