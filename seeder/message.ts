import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Options } from 'amqplib';
import type protobuf from 'protobufjs';
import { SeedlineError } from '../common/errors.ts';
import { SCHEMAS_DIR, loadProtos, type EventEnvelope } from '../common/protos.ts';

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
 * On the wire (DESIGN.md): routing key = type; persistent; mandatory (so unroutable events
 * come back and are counted); message_id, type, timestamp (whole seconds, as AMQP wants)
 * and the rest of the envelope as headers, so a consumer needs no protobuf to route or trace.
 */
export function toMessage(event: EventEnvelope, runId: string, contentType: ContentType, body: BodyEncoder): OutgoingMessage {
  const micros = String(event.occurred_at);
  return {
    routingKey: event.type,
    content: body(event),
    options: {
      persistent: true,
      mandatory: true,
      messageId: event.id,
      type: event.type,
      timestamp: Math.floor(Number(micros) / 1e6),
      contentType: CONTENT_TYPES[contentType],
      appId: 'seedline',
      headers: {
        key: event.key,
        'source-table': event.source?.table ?? '',
        'source-key': event.source?.primary_key ?? '',
        'occurred-at': micros,
        'payload-type': event.payload_type,
        'run-id': runId,
      },
    },
  };
}

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
