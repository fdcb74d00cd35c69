import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { envelopeType } from '../../common/protos.ts';
import { decodeEnvelope } from './envelope.ts';
import { ReusableMessage, protobufBody, toMessage } from './message.ts';

const Event = await envelopeType();

const base = {
  id: '6f1c0a3e-0000-5000-8000-000000000001',
  type: 'chat.message-sent',
  occurred_at: Long.fromString('1262304000999999'),
  key: '42',
  payload: new Uint8Array([8, 1, 0x80, 0xff]),
  source: { table: 'Messages', primary_key: '[7,"x"]' },
  payload_type: 'seedline.events.chat.MessageSent',
};

/** What the seeder used to publish: protobufjs's decode, then toMessage. */
function viaProtobufjs(bytes: Uint8Array) {
  const event = Event.decode(Buffer.from(bytes)) as never;
  return toMessage(event, 'run-1', 'protobuf', protobufBody);
}

function viaDecoder(bytes: Uint8Array) {
  return new ReusableMessage('run-1', 'protobuf').fill(decodeEnvelope(Buffer.from(bytes)), protobufBody);
}

function same(bytes: Uint8Array): void {
  const a = viaProtobufjs(bytes);
  const b = viaDecoder(bytes);
  expect(b.routingKey).toBe(a.routingKey);
  expect([...b.content]).toEqual([...a.content]);
  expect({ ...b.options, headers: { ...b.options.headers } }).toEqual({ ...a.options, headers: { ...a.options.headers } });
  expect(Object.keys(b.options.headers!)).toEqual(Object.keys(a.options.headers!));
}

describe('decodeEnvelope', () => {
  it('gives the message protobufjs decoding gave, for ordinary and odd envelopes', () => {
    const longs = ['0', '1', '-1', '1262304000999999', '-2208988800000000', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740992', '-9007199254740993', '9223372036854775807', '-9223372036854775808', '4294967295', '4294967296', '-4294967296', '268435455', '268435456', '34359738367', '34359738368'];
    for (const l of longs) same(Event.encode({ ...base, occurred_at: Long.fromString(l) }).finish());
    same(Event.encode({ ...base, source: null }).finish());
    same(Event.encode({ ...base, id: '', key: '', payload_type: '', type: '' }).finish());
    same(Event.encode({ ...base, key: 'åäö 🙂 ü', source: { table: 'Tåble', primary_key: '["ö",1]' } }).finish());
    same(Event.encode({ ...base, key: 'x'.repeat(300), payload: new Uint8Array(70_000).fill(3) }).finish());
    same(Event.encode({ ...base, type: `t.${'é'.repeat(100)}` }).finish());
  });

  it('skips unknown fields, takes the last value of a repeated field and merges repeated sources', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string('first-id');
    w.uint32((9 << 3) | 0).uint64(Long.fromString('18446744073709551615', true));
    w.uint32((10 << 3) | 1).fixed64(7);
    w.uint32((11 << 3) | 5).fixed32(7);
    w.uint32((12 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
    w.uint32((6 << 3) | 2).fork().uint32((1 << 3) | 2).string('Members').ldelim();
    w.uint32((1 << 3) | 2).string('second-id');
    w.uint32((6 << 3) | 2).fork().uint32((2 << 3) | 2).string('17').uint32((3 << 3) | 0).uint32(5).ldelim();
    w.uint32((3 << 3) | 0).int64(-5);
    w.uint32((2 << 3) | 2).string('members.member-registered');
    w.uint32((5 << 3) | 2).bytes(new Uint8Array([9]));
    const bytes = w.finish();
    same(bytes);
    const e = decodeEnvelope(Buffer.from(bytes));
    expect(e).toMatchObject({ id: 'second-id', occurred_at: -5, occurredAtText: '-5', sourceTable: 'Members', sourcePrimaryKey: '17' });
  });

  it('gives an empty payload (which protobuf does not write) as an empty buffer', () => {
    const m = viaDecoder(Event.encode({ ...base, payload: new Uint8Array() }).finish());
    expect(m.content).toEqual(Buffer.alloc(0));
    const empty = decodeEnvelope(Buffer.alloc(0));
    expect(empty).toMatchObject({ id: '', type: '', occurred_at: 0, occurredAtText: '0', key: '', payload_type: '', source: null });
  });

  it('refuses truncated or malformed records', () => {
    const bytes = Event.encode(base).finish();
    for (const cut of [1, 5, 20, bytes.length - 1]) expect(() => decodeEnvelope(Buffer.from(bytes.subarray(0, cut)))).toThrow();
    expect(() => decodeEnvelope(Buffer.from([(3 << 3) | 2, 1, 0]))).toThrow(/wire type/);
    expect(() => decodeEnvelope(Buffer.from([(1 << 3) | 2, 0x80]))).toThrow(/range/);
    expect(() => decodeEnvelope(Buffer.from([(15 << 3) | 3]))).toThrow(/wire type/);
  });

  it('shares the repeating strings but not the message objects', () => {
    const a = decodeEnvelope(Buffer.from(Event.encode(base).finish()));
    const b = decodeEnvelope(Buffer.from(Event.encode({ ...base, type: 'flirts.flirt-sent' }).finish()));
    const c = decodeEnvelope(Buffer.from(Event.encode(base).finish()));
    expect([a.type, b.type, c.type]).toEqual(['chat.message-sent', 'flirts.flirt-sent', 'chat.message-sent']);
    expect(a).not.toBe(c);
  });
});
