import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Options } from 'amqplib';
import type protobuf from 'protobufjs';
import { SeedlineError } from '../../common/errors.ts';
import { SCHEMAS_DIR, loadProtos, type EventEnvelope } from '../../common/protos.ts';
import type { SeedEvent } from './envelope.ts';

export type ContentType = 'protobuf' | 'json';

export const CONTENT_TYPES: Record<ContentType, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** One AMQP publish: what `channel.publish(exchange, routingKey, content, options)` takes. */
export interface OutgoingMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/** Turns an event's payload into the message body. */
export type BodyEncoder = (event: EventEnvelope) => Buffer;

/** The payload bytes as they are: no copy, no re-encoding. */
export const protobufBody: BodyEncoder = (event) => asBuffer(event.payload);

/**
 * On the wire (docs/design.md): routing key = type; persistent; mandatory (so unroutable events
 * come back and are counted); message_id, type, timestamp (whole seconds, as AMQP wants)
 * and the rest of the envelope as headers, so a consumer needs no protobuf to route or trace.
 */
export function toMessage(event: EventEnvelope, runId: string, contentType: ContentType, body: BodyEncoder): OutgoingMessage {
  const micros = String(event.occurred_at);
  return new ReusableMessage(runId, contentType).set(event, Number(micros), micros, event.source?.table ?? '', event.source?.primary_key ?? '', body(event));
}

/**
 * One message object per slot of the publisher's window, filled again for every event the
 * slot carries: the properties and headers objects are allocated once, not per event. The
 * same properties and headers, in the same order, as `toMessage` (amqplib encodes them when
 * `publish` is called and keeps no reference, so the next event may overwrite them).
 */
export class ReusableMessage implements OutgoingMessage {
  routingKey = '';
  content: Buffer = EMPTY;
  readonly headers: Record<string, string>;
  readonly options: Options.Publish & { headers: Record<string, string>; messageId: string; type: string; timestamp: number };

  constructor(runId: string, contentType: ContentType) {
    this.headers = { key: '', 'source-table': '', 'source-key': '', 'occurred-at': '', 'payload-type': '', 'run-id': runId };
    this.options = {
      persistent: true,
      mandatory: true,
      messageId: '',
      type: '',
      timestamp: 0,
      contentType: CONTENT_TYPES[contentType],
      appId: 'seedline',
      headers: this.headers,
    };
  }

  /** Fills in a decoded `SeedEvent` (occurred_at already a number and its exact text). */
  fill(event: SeedEvent, body: BodyEncoder): this {
    return this.set(event, event.occurred_at, event.occurredAtText, event.sourceTable, event.sourcePrimaryKey, body(event));
  }

  set(event: Pick<EventEnvelope, 'id' | 'type' | 'key' | 'payload_type'>, occurredAt: number, micros: string, table: string, primaryKey: string, content: Buffer): this {
    this.routingKey = event.type;
    this.content = content;
    const o = this.options;
    o.messageId = event.id;
    o.type = event.type;
    o.timestamp = Math.floor(occurredAt / 1e6);
    const h = this.headers;
    h.key = event.key;
    h['source-table'] = table;
    h['source-key'] = primaryKey;
    h['occurred-at'] = micros;
    h['payload-type'] = event.payload_type;
    return this;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * JSON bodies: the payload decoded with its `payload_type` from the event schemas and
 * written as protobuf's canonical JSON mapping (int64 as strings, bytes as base64), so
 * nothing loses precision.
 */
export async function jsonBody(protoFiles?: readonly string[]): Promise<BodyEncoder> {
  const files = protoFiles ?? (await protoFilesUnder(join(SCHEMAS_DIR, 'events')));
  const root = await loadProtos(files);
  const types = new Map<string, protobuf.Type>();
  return (event) => {
    let type = types.get(event.payload_type);
    if (!type) {
      try {
        type = root.lookupType(event.payload_type);
      } catch {
        throw new SeedlineError(
          'SCHEMA_INVALID',
          `event ${event.id} has payload type '${event.payload_type}', which no .proto in ${files.join(', ')} defines`,
          { hint: 'publish with --content-type protobuf, or add the payload schema under schemas/events/' },
        );
      }
      types.set(event.payload_type, type);
    }
    const object = type.toObject(type.decode(event.payload), { longs: String, enums: String, bytes: String, json: true });
    return Buffer.from(JSON.stringify(object));
  };
}

async function protoFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.proto')) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
