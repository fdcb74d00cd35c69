import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '../event-id.ts';
import { micros } from '../legacy-time.ts';
import { messageRow, readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { someMembers } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const at = micros('2012-06-01T12:00:00.5Z');
const longBody = 'å'.repeat(2000);

describe('chat module: given Messages rows, expect these events', () => {
  it('turns messages into chat.message-sent (and chat.message-read) keyed by sender, and rejects dirty rows without stopping', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(), // 4 was deleted on 2014-01-01, 5 never registered, 6 does not exist
      Messages: [
        messageRow({ MessageId: 10n, SenderId: 3, RecipientId: 4, Body: 'Hej 👋', SentAt: at, ReadAt: at + 1000n, IsDeletedByRecipient: true }),
        messageRow({ MessageId: 9n, SenderId: 4, RecipientId: 3, Body: longBody, SentAt: at }), // same instant: lower id first; 4 not deleted yet
        messageRow({ MessageId: 11n, Body: null }),
        messageRow({ MessageId: 12n, SentAt: micros('1900-01-01T00:00:00Z') }),
        messageRow({ MessageId: 13n, Body: '' }), // empty is a message; NULL is not
        messageRow({ MessageId: 14n, SenderId: 0 }),
        messageRow({ MessageId: 9007199254740993n, SentAt: micros('2013-01-01T00:00:00Z') }),
        messageRow({ MessageId: 15n, SenderId: 4, SentAt: micros('2014-06-01T00:00:00Z') }), // after the sender's deletion
        messageRow({ MessageId: 16n, RecipientId: 5 }),
        messageRow({ MessageId: 17n, ReadAt: micros('2012-05-01T00:00:00Z') }), // read before sent: only the read is dropped
        messageRow({ MessageId: 18n, SenderId: 6, Body: null }), // two problems, both counted
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['chat'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));

    expect(events.map((e) => [e.type, e.source.primary_key])).toEqual([
      ['chat.message-sent', '13'],
      ['chat.message-sent', '17'],
      ['chat.message-sent', '9'],
      ['chat.message-sent', '10'],
      ['chat.message-read', '10'],
      ['chat.message-sent', '9007199254740993'],
    ]);
    expect(events[3]).toEqual({
      id: eventId('Messages', 10n, 'chat.message-sent'),
      type: 'chat.message-sent',
      occurredAt: at,
      key: '3',
      source: { table: 'Messages', primary_key: '10' },
      payloadType: 'seedline.events.chat.MessageSent',
      payload: {
        message_id: 10n,
        sender_id: 3,
        recipient_id: 4,
        body: 'Hej 👋',
        sent_at: at,
        deleted_by_sender: false,
        deleted_by_recipient: true,
      },
    });
    expect(events[4]).toMatchObject({
      id: eventId('Messages', 10n, 'chat.message-read'),
      occurredAt: at + 1000n,
      key: '3',
      payload: { message_id: 10n, sender_id: 3, reader_id: 4, read_at: at + 1000n },
    });
    expect(events[2]!.payload['body']).toBe(longBody);
    expect(events[0]!.payload['body']).toBe('');
    expect(events[5]!.payload['message_id']).toBe(9007199254740993n);

    expect(result.eventsByType).toEqual({ 'chat.message-read': 1, 'chat.message-sent': 5 });
    expect(result.rowsByTable).toEqual({ Messages: 11 });
    expect(result.rejectsByModule).toEqual({
      chat: {
        'null-body': 2,
        'read-before-sent': 1,
        'recipient-unregistered': 1,
        'sender-deleted': 1,
        'sender-missing': 2,
        'sentinel-date': 1,
      },
    });
    const lines = (await readFile(join(dir, 'events', 'rejects', 'chat.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.key, l.reason])).toEqual([
      [11, 'null-body'],
      [12, 'sentinel-date'],
      [14, 'sender-missing'],
      [15, 'sender-deleted'],
      [16, 'recipient-unregistered'],
      [17, 'read-before-sent'],
      [18, 'null-body'],
      [18, 'sender-missing'],
    ]);
    expect(lines[0].columns).toEqual({ Body: null });
    expect(lines[3].columns).toEqual({ SenderId: 4 });
    expect(lines.find((l) => l.reason === 'read-before-sent').columns).toMatchObject({ SentAt: expect.any(String), ReadAt: expect.any(String) });
    // Only the read of message 17 was left out; every other rejected row became no event.
    expect(lines.filter((l) => !l.dropped).map((l) => l.key)).toEqual([17]);
    expect(lines[3].detail).toBe('sender 4 was deleted at 2014-01-01T00:00:00.000000Z, not after 2014-06-01T00:00:00.000000Z');
  });

  it('writes no rejects/ directory when every row is clean', async () => {
    await writeDump(join(dir, 'dump'), { Members: someMembers(), Messages: [messageRow()] });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['chat'], progress: 'off' });
    expect(result.rejects).toBe(0);
    expect(result.rejectsDir).toBeNull();
    await expect(readFile(join(dir, 'events', 'rejects', 'chat.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
