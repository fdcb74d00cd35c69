import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '../event-id.ts';
import { micros } from '../legacy-time.ts';
import { memberRow, readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('members module: given Members rows, expect these events', () => {
  it('registers members, deletes deleted ones, and rejects rows it cannot place in time', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: [
        memberRow({ MemberId: 1, RegisteredAt: micros('2010-01-01T10:00:00Z') }),
        memberRow({
          MemberId: 2,
          UserName: null,
          Email: null,
          City: null,
          BirthDate: null,
          LastLoginAt: null,
          Presentation: null,
          Gender: 9, // not a code the legacy app defines
          RegisteredAt: micros('2009-05-05T00:00:00.000001Z'),
        }),
        memberRow({ MemberId: 3, IsDeleted: true, DeletedAt: micros('2011-02-03T04:05:06Z'), RegisteredAt: micros('2010-06-01T00:00:00Z') }),
        // 1900-01-01 00:00 server time (UTC+2), converted to UTC: the legacy "no date".
        memberRow({ MemberId: 4, RegisteredAt: micros('1899-12-31T22:00:00Z') }),
        // Deleted flag without a date: the registration survives, the deletion is rejected.
        memberRow({ MemberId: 5, IsDeleted: true, DeletedAt: null, RegisteredAt: micros('2012-01-01T00:00:00Z') }),
        // Birth date "1900-01-01" means unknown: registered without it, and reported.
        memberRow({ MemberId: 6, BirthDate: '1900-01-01', RegisteredAt: micros('2013-01-01T00:00:00Z') }),
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['members'], progress: 'off' });

    const events = await readEvents(join(dir, 'events'));
    expect(events.map((e) => [e.type, e.key, e.occurredAt])).toEqual([
      ['members.member-registered', '2', micros('2009-05-05T00:00:00.000001Z')],
      ['members.member-registered', '1', micros('2010-01-01T10:00:00Z')],
      ['members.member-registered', '3', micros('2010-06-01T00:00:00Z')],
      ['members.member-deleted', '3', micros('2011-02-03T04:05:06Z')],
      ['members.member-registered', '5', micros('2012-01-01T00:00:00Z')],
      ['members.member-registered', '6', micros('2013-01-01T00:00:00Z')],
    ]);
    expect(events[5]!.payload).not.toHaveProperty('birth_date');
    expect(events[1]).toEqual({
      id: eventId('Members', 1, 'members.member-registered'),
      type: 'members.member-registered',
      occurredAt: micros('2010-01-01T10:00:00Z'),
      key: '1',
      source: { table: 'Members', primary_key: '1' },
      payloadType: 'seedline.events.members.MemberRegistered',
      payload: {
        member_id: 1,
        external_id: '0b0e6a38-61a4-4f1e-9d55-2b8d0c7a1e01',
        user_name: 'member1',
        email: 'member1@example.com',
        gender: 2,
        birth_date: '1990-05-17',
        city: 'Åbo',
        country_code: 'FI',
        credits: '12.50',
        registered_at: micros('2010-01-01T10:00:00Z'),
        last_login_at: micros('2015-01-01T00:00:00Z'),
        presentation: 'Hej! 😀',
      },
    });
    // NULL columns stay absent (unknown), not empty strings; an unknown gender code is GENDER_UNKNOWN.
    expect(events[0]!.payload).toEqual({
      member_id: 2,
      external_id: '0b0e6a38-61a4-4f1e-9d55-2b8d0c7a1e01',
      gender: 0,
      country_code: 'FI',
      credits: '12.50',
      registered_at: micros('2009-05-05T00:00:00.000001Z'),
    });
    expect(events[3]!.payload).toEqual({ member_id: 3, deleted_at: micros('2011-02-03T04:05:06Z') });

    expect(result.eventsByType).toEqual({ 'members.member-deleted': 1, 'members.member-registered': 5 });
    expect(result.rejects).toBe(3);
    expect(result.rejectsByModule).toEqual({ members: { 'deleted-without-date': 1, 'sentinel-birth-date': 1, 'sentinel-date': 1 } });
    const lines = (await readFile(join(dir, 'events', 'rejects', 'members.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.table, l.key, l.reason])).toEqual([
      ['Members', 4, 'sentinel-date'],
      ['Members', 5, 'deleted-without-date'],
      ['Members', 6, 'sentinel-birth-date'],
    ]);
    // A reject carries the columns its reason is about, never the whole row: no credentials, no e-mail.
    expect(lines[0].columns).toEqual({ RegisteredAt: String(micros('1899-12-31T22:00:00Z')) });
    expect(lines[1].columns).toMatchObject({ IsDeleted: true, DeletedAt: null });
    expect(lines[2].columns).toEqual({ BirthDate: '1900-01-01' });
    const text = await readFile(join(dir, 'events', 'rejects', 'members.jsonl'), 'utf8');
    expect(text).not.toMatch(/PasswordHash|AQID|Email|@example\.com/);
    expect(lines[0].detail).toBe('RegisteredAt is 1899-12-31T22:00:00.000000Z');
  });

  it('rejects a deletion dated before the registration but keeps the member', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: [memberRow({ MemberId: 7, RegisteredAt: micros('2010-01-01T00:00:00Z'), DeletedAt: micros('2009-01-01T00:00:00Z'), IsDeleted: true })],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['members'], progress: 'off' });
    expect((await readEvents(join(dir, 'events'))).map((e) => e.type)).toEqual(['members.member-registered']);
    expect(result.rejectsByModule).toEqual({ members: { 'deleted-before-registered': 1 } });
  });
});
