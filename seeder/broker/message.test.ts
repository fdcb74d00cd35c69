import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../common/protos.ts';
import { protobufBody, toMessage } from './message.ts';

const event: EventEnvelope = {
  id: '6f1c0a3e-0000-5000-8000-000000000001',
  type: 'chat.message-sent',
  occurred_at: Long.fromString('1262304000999999'), // 2010-01-01T00:00:00.999999Z
  key: '42',
  payload: new Uint8Array([8, 1]),
  source: { table: 'Messages', primary_key: '[7,"x"]' },
  payload_type: 'seedline.events.chat.MessageSent',
};

describe('toMessage', () => {
  it('maps the envelope onto routing key, properties and headers', () => {
    const m = toMessage(event, 'run-1', 'protobuf', protobufBody);
    expect(m.routingKey).toBe('chat.message-sent');
    expect([...m.content]).toEqual([8, 1]);
    expect(m.options).toMatchObject({
      persistent: true,
      mandatory: true,
      messageId: event.id,
      type: 'chat.message-sent',
      timestamp: 1262304000, // whole seconds, rounded down
      contentType: 'application/x-protobuf',
      appId: 'seedline',
    });
    expect(m.options.headers).toEqual({
      key: '42',
      'source-table': 'Messages',
      'source-key': '[7,"x"]',
      'occurred-at': '1262304000999999', // full precision, as a string
      'payload-type': 'seedline.events.chat.MessageSent',
      'run-id': 'run-1',
    });
  });

  it('rounds timestamps before 1970 down, and tolerates a missing source', () => {
    const m = toMessage({ ...event, occurred_at: -1, source: null }, 'r', 'protobuf', protobufBody);
    expect(m.options.timestamp).toBe(-1);
    expect(m.options.headers).toMatchObject({ 'source-table': '', 'source-key': '', 'occurred-at': '-1' });
  });
});
