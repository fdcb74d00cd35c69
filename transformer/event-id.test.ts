import { describe, expect, it } from 'vitest';
import { eventId, primaryKeyJson, uuidV5 } from './event-id.ts';

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
