import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SEEDLINE_NAMESPACE, eventId, eventIdFromJson, primaryKeyJson, uuidV5, writeEventId } from './event-id.ts';

describe('event ids', () => {
  it('implements RFC 9562 UUID v5 (known vector from Python uuid.uuid5)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('derives the id from table, primary key and type, as documented (vectors from Python)', () => {
    expect(eventId('Messages', 42, 'chat.message-sent')).toBe('3171c70f-be1d-5c57-a73f-8c25c3389583');
    expect(eventId('Messages', 42n, 'chat.message-sent')).toBe('3171c70f-be1d-5c57-a73f-8c25c3389583');
    expect(eventId('Visits', [7, '2019-01-02'], 'visits.profile-visited')).toBe('0098812e-1554-5843-9426-3770d1576410');
    expect(eventId('Members', 9007199254740993n, 'members.member-registered')).toBe('f18049f3-7c1e-57fe-8e3b-abe84217b2da');
  });

  it('gives different ids when any of the three parts differs, and the same id every time', () => {
    const base = eventId('Messages', 1, 'chat.message-sent');
    expect(eventId('Messages', 1, 'chat.message-sent')).toBe(base);
    const others = [eventId('Messages', 2, 'chat.message-sent'), eventId('Members', 1, 'chat.message-sent'), eventId('Messages', 1, 'chat.message-read'), eventId('Messages', '1', 'chat.message-sent')];
    expect(new Set([base, ...others]).size).toBe(5);
    expect(base).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('writes primary keys as canonical JSON without losing precision', () => {
    expect(primaryKeyJson(9007199254740993n)).toBe('9007199254740993');
    expect(primaryKeyJson('a"b')).toBe('"a\\"b"');
    expect(primaryKeyJson([1, 'x'])).toBe('[1,"x"]');
    expect(() => primaryKeyJson(1.5)).toThrow(expect.objectContaining({ code: 'TRANSFORM_FAILED' }));
  });
});

describe('event ids, against node:crypto', () => {
  /** The implementation before the hand-written SHA-1: the reference. */
  function referenceUuidV5(namespace: string, name: string): string {
    const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
    hash[6] = (hash[6]! & 0x0f) | 0x50;
    hash[8] = (hash[8]! & 0x3f) | 0x80;
    const h = hash.toString('hex', 0, 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  it('gives the same ids for names of every length around the SHA-1 block boundaries, any UTF-8', () => {
    const alphabet = ['a', 'Z', '9', '"', 'é', '€', '😀', ','];
    let seed = 3;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % alphabet.length;
    for (let length = 0; length < 300; length++) {
      let name = '';
      while (Buffer.byteLength(name) < length) name += alphabet[next()];
      expect(uuidV5(SEEDLINE_NAMESPACE, name)).toBe(referenceUuidV5(SEEDLINE_NAMESPACE, name));
      const pkJson = JSON.stringify(name);
      expect(eventIdFromJson('Messages', pkJson, 'chat.message-sent')).toBe(
        referenceUuidV5(SEEDLINE_NAMESPACE, `["Messages",${pkJson},"chat.message-sent"]`),
      );
    }
    const long = 'x'.repeat(5000);
    expect(uuidV5(SEEDLINE_NAMESPACE, long)).toBe(referenceUuidV5(SEEDLINE_NAMESPACE, long));
  });

  it('writes the id as 36 ASCII bytes where asked', () => {
    const out = Buffer.alloc(40, 0xff);
    expect(writeEventId(out, 2, 'Messages', '42', 'chat.message-sent')).toBe(38);
    expect(out.toString('latin1', 2, 38)).toBe(eventId('Messages', 42, 'chat.message-sent'));
    expect(out[1]).toBe(0xff);
    expect(out[38]).toBe(0xff);
  });
});
