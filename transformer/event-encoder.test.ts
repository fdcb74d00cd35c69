import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { bigintToLong, EventEncoder } from './event-encoder.ts';
import { defineModule, type EventDraft } from './module.ts';
import { ScratchWriter, compileEncoder } from './proto-writer.ts';

/**
 * The hand-written encoders must give exactly protobufjs's bytes (output parts stay
 * byte-identical to what the transform wrote before them). Checked on random values that go
 * through every branch: defaults, negatives, 64-bit extremes, lone surrogates in short and long
 * strings, multi-byte lengths.
 */

const PROTO = `
syntax = "proto3";
package t;
enum Color { NONE = 0; RED = 1; BLUE = 2; }
message All {
  int32 i32 = 1; uint32 u32 = 2; sint32 s32 = 3;
  int64 i64 = 4; uint64 u64 = 5; sint64 s64 = 6;
  bool b = 7; string s = 8; bytes by = 9; Color c = 10; double d = 11;
  optional int32 oi32 = 12; optional int64 oi64 = 13; optional string os = 14; optional bool ob = 15;
  optional bytes oby = 16; optional Color oc = 17; optional double od = 18;
  int64 late = 300;
}
message Nested { All inner = 1; }
`;

/** A deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['', 'a', 'hej', 'Åbo', '😀', '\ud800', '\udc00x', 'ü'.repeat(50), '"quote"\\', '\u0000', 'x'.repeat(39), 'y'.repeat(41)];

function randomString(rnd: () => number): string {
  let s = '';
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rnd() * PIECES.length)]!;
  if (rnd() < 0.1) s += 'z'.repeat(Math.floor(rnd() * 300));
  return s;
}

function pick<T>(rnd: () => number, values: readonly T[]): T {
  return values[Math.floor(rnd() * values.length)]!;
}

const INT32S = [0, 1, -1, 127, 128, 300, -300, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 + 5, -(2 ** 40)];
const INT64S = [0n, 1n, -1n, 127n, 128n, 1_700_000_000_000_000n, -2_208_988_800_000_000n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];
const NUMS = [0, -0, 1.5, -2.25, 1e300, Number.NaN, Number.POSITIVE_INFINITY];

function randomMessage(rnd: () => number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const maybe = (name: string, value: () => unknown) => {
    const r = rnd();
    if (r < 0.15) m[name] = null;
    else if (r < 0.25) return;
    else m[name] = value();
  };
  maybe('i32', () => pick(rnd, INT32S));
  maybe('u32', () => Math.abs(pick(rnd, INT32S)));
  maybe('s32', () => pick(rnd, INT32S.filter((v) => Math.abs(v) < 2 ** 31)));
  maybe('i64', () => (rnd() < 0.8 ? pick(rnd, INT64S) : pick(rnd, INT32S)));
  maybe('u64', () => pick(rnd, INT64S));
  maybe('s64', () => pick(rnd, INT64S));
  maybe('b', () => rnd() < 0.5);
  maybe('s', () => randomString(rnd));
  maybe('by', () => new Uint8Array(Math.floor(rnd() * 3) === 0 ? 0 : Math.floor(rnd() * 200)).map((_, i) => i));
  maybe('c', () => pick(rnd, [0, 1, 2, 7]));
  maybe('d', () => pick(rnd, NUMS));
  maybe('oi32', () => pick(rnd, INT32S));
  maybe('oi64', () => pick(rnd, INT64S));
  maybe('os', () => randomString(rnd));
  maybe('ob', () => rnd() < 0.5);
  maybe('oby', () => new Uint8Array(Math.floor(rnd() * 3)));
  maybe('oc', () => pick(rnd, [0, 2]));
  maybe('od', () => pick(rnd, NUMS));
  maybe('late', () => pick(rnd, INT64S));
  return m;
}

/** What the old encoder handed protobufjs: bigint → Long, null dropped. */
function forProtobufjs(message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message)) if (v !== null && v !== undefined) out[k] = typeof v === 'bigint' ? bigintToLong(v) : v;
  return out;
}

describe('hand-compiled protobuf encoder', () => {
  const root = protobuf.parse(PROTO, { keepCase: true }).root;
  const all = root.lookupType('t.All');

  it('writes exactly the bytes protobufjs writes, for every field kind and edge value', () => {
    const encode = compileEncoder(all)!;
    expect(encode).not.toBeNull();
    const rnd = prng(7);
    const w = new ScratchWriter();
    for (let i = 0; i < 5000; i++) {
      const message = randomMessage(rnd);
      w.pos = 0;
      expect(encode(message, w)).toBeNull();
      const expected = Buffer.from(all.encode(forProtobufjs(message)).finish());
      expect(w.copy(0).toString('hex'), JSON.stringify(message, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(expected.toString('hex'));
    }
  });

  it('reports a value of the wrong type as protobufjs verify does', () => {
    const encode = compileEncoder(all)!;
    const w = new ScratchWriter();
    for (const [message, field] of [
      [{ i32: 1.5 }, 'i32'],
      [{ i32: 5n }, 'i32'],
      [{ i64: '5' }, 'i64'],
      [{ b: 1 }, 'b'],
      [{ s: 5 }, 's'],
      [{ by: 5 }, 'by'],
      [{ c: 1.5 }, 'c'],
      [{ d: 1n }, 'd'],
    ] as const) {
      const ours = encode(message, w);
      expect(ours).toMatch(new RegExp(`^${field}: `));
      expect(all.verify(forProtobufjs(message))).toBeTruthy();
    }
  });

  it('leaves types it does not handle to protobufjs', () => {
    expect(compileEncoder(root.lookupType('t.Nested'))).toBeNull();
  });
});

describe('EventEncoder', () => {
  const members = defineModule({
    name: 'members',
    description: 'test copy of the members payloads',
    reads: ['Members'],
    emits: {
      'members.member-registered': 'seedline.events.members.MemberRegistered',
      'members.member-deleted': 'seedline.events.members.MemberDeleted',
    },
    primaryKey: (row: { id: number }) => row.id,
    events: () => [],
  });

  it('writes envelopes byte-identical to protobufjs, ids included', async () => {
    const encoder = await EventEncoder.create([members]);
    const rnd = prng(11);
    for (let i = 0; i < 3000; i++) {
      const registered = rnd() < 0.7;
      const occurredAt = pick(rnd, INT64S);
      const draft: EventDraft = registered
        ? {
            type: 'members.member-registered',
            occurredAt,
            key: randomString(rnd) || 'k',
            payload: {
              member_id: pick(rnd, INT32S.filter((v) => Math.abs(v) < 2 ** 31)),
              external_id: randomString(rnd),
              user_name: rnd() < 0.3 ? null : randomString(rnd),
              email: rnd() < 0.3 ? null : randomString(rnd),
              gender: pick(rnd, [0, 1, 2]),
              birth_date: rnd() < 0.5 ? null : '1990-01-02',
              city: rnd() < 0.5 ? null : randomString(rnd),
              country_code: 'FI',
              credits: '12.50',
              registered_at: occurredAt,
              last_login_at: rnd() < 0.5 ? null : pick(rnd, INT64S),
              presentation: rnd() < 0.5 ? null : randomString(rnd) + 'ä'.repeat(Math.floor(rnd() * 3000)),
            },
          }
        : { type: 'members.member-deleted', occurredAt, key: '1', payload: { member_id: 0, deleted_at: 0n } };
      const table = pick(rnd, ['Members', 'Tåble', '']);
      const pkJson = pick(rnd, ['42', '"😀\\"x"', `[7,"${'é'.repeat(80)}"]`, '']);
      const ours = Buffer.from(encoder.encode(members, table, pkJson, draft));
      const reference = Buffer.from(encoder.encodeWithProtobufjs(members, table, pkJson, draft));
      expect(ours.toString('hex')).toBe(reference.toString('hex'));
    }
  });

  it('returns a buffer of its own for every event (the scratch is reused)', async () => {
    const encoder = await EventEncoder.create([members]);
    const draft = (id: number): EventDraft => ({ type: 'members.member-deleted', occurredAt: 5n, key: 'k', payload: { member_id: id, deleted_at: 5n } });
    const a = encoder.encode(members, 'Members', '1', draft(1));
    const copyOfA = Buffer.from(a);
    encoder.encode(members, 'Members', '2', draft(2));
    expect(Buffer.from(a).equals(copyOfA)).toBe(true);
  });

  it('fails with TRANSFORM_FAILED on a payload that does not fit its message', async () => {
    const encoder = await EventEncoder.create([members]);
    const bad: EventDraft = { type: 'members.member-deleted', occurredAt: 5n, key: 'k', payload: { member_id: 'one', deleted_at: 5n } };
    expect(() => encoder.encode(members, 'Members', '1', bad)).toThrow(expect.objectContaining({ code: 'TRANSFORM_FAILED' }));
    expect(() => encoder.encode(members, 'Members', '1', { ...bad, type: 'members.nope' })).toThrow(expect.objectContaining({ code: 'TRANSFORM_FAILED' }));
    expect(() => encoder.encode(members, 'Members', '1', { ...bad, key: '' })).toThrow(expect.objectContaining({ code: 'TRANSFORM_FAILED' }));
  });
});

