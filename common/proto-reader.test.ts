import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ProtoReader } from './proto-reader.ts';

describe('ProtoReader', () => {
  it('reads varints as protobufjs writes them: uint32, and 64 bits as hi/lo', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 32 - 1];
    const longs = [Long.ZERO, Long.fromNumber(2 ** 35 + 7), Long.MAX_VALUE, Long.MIN_VALUE, Long.NEG_ONE, Long.fromNumber(-1_325_396_605_787_000)];
    const w = protobuf.Writer.create();
    for (const v of values) w.uint32(v);
    for (const l of longs) w.int64(l);
    const r = new ProtoReader().reset(Buffer.from(w.finish()));
    for (const v of values) expect(r.uint32()).toBe(v);
    for (const l of longs) {
      r.varint64();
      expect([r.hi, r.lo]).toEqual([l.high >>> 0, l.low >>> 0]);
    }
    expect(r.pos).toBe(r.end);
  });

  it('gives the end of length-delimited bytes, and skips each wire type', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string('håll');
    w.uint32((2 << 3) | 1).double(1.5);
    w.uint32((3 << 3) | 5).float(2.5);
    w.uint32((4 << 3) | 0).int64(Long.MIN_VALUE);
    w.uint32((5 << 3) | 2).bytes(new Uint8Array(300));
    const buf = Buffer.from(w.finish());
    const r = new ProtoReader().reset(buf);
    expect(r.uint32()).toBe((1 << 3) | 2);
    const end = r.bytesEnd();
    expect(buf.toString('utf8', r.pos, end)).toBe('håll');
    r.pos = end;
    for (const wire of [1, 5, 0, 2]) {
      expect(r.uint32() & 7).toBe(wire);
      r.skip(wire);
    }
    expect(r.pos).toBe(buf.length);
  });

  it('throws on bytes cut short, a length past the end and wire types that do not exist', () => {
    expect(() => new ProtoReader().reset(Buffer.from([0x80, 0x80])).uint32()).toThrow(/out of range/);
    expect(() => new ProtoReader().reset(Buffer.from([5, 1, 2])).bytesEnd()).toThrow(/out of range: 1 \+ 5 > 3/);
    expect(() => new ProtoReader().reset(Buffer.from([1, 2, 3])).skip(1)).toThrow(/out of range/);
    expect(() => new ProtoReader().reset(Buffer.from([0])).skip(3)).toThrow(/invalid wire type 3/);
  });
});
