import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '../event-id.ts';
import { micros } from '../legacy-time.ts';
import { messageRow, readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const at = micros('2012-06-01T12:00:00.5Z');
const longBody = 'å'.repeat(2000);

describe('chat module: given Messages rows, expect these events', () => {
  it('turns messages into chat.message-sent keyed by sender, and rejects dirty rows without stopping', async () => {
    await writeDump(join(dir, 'dump'), {
      Messages: [
        messageRow({ MessageId: 10n, SenderId: 3, RecipientId: 4, Body: 'Hej 👋', SentAt: at, ReadAt: at + 1000n, IsDeletedByRecipient: true }),
        messageRow({ MessageId: 9n, SenderId: 4, RecipientId: 3, Body: longBody, SentAt: at }), // same instant: lower id first
        messageRow({ MessageId: 11n, Body: null }),
        messageRow({ MessageId: 12n, SentAt: micros('1900-01-01T00:00:00Z') }),
        messageRow({ MessageId: 13n, Body: '' }), // empty is a message; NULL is not
        messageRow({ MessageId: 14n, SenderId: 0 }),
        messageRow({ MessageId: 9007199254740993n, SentAt: micros('2013-01-01T00:00:00Z') }),
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['chat'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));

    expect(events.map((e) => e.source.primary_key)).toEqual(['13', '9', '10', '9007199254740993']);
    expect(events[2]).toEqual({
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
    expect(events[1]!.payload['body']).toBe(longBody);
    expect(events[0]!.payload['body']).toBe('');
    expect(events[3]!.payload['message_id']).toBe(9007199254740993n);

    expect(result.eventsByType).toEqual({ 'chat.message-sent': 4 });
    expect(result.rowsByTable).toEqual({ Messages: 7 });
    expect(result.rejectsByModule).toEqual({ chat: { 'invalid-member-id': 1, 'null-body': 1, 'sentinel-date': 1 } });
    const lines = (await readFile(join(dir, 'events', 'rejects', 'chat.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.key, l.reason])).toEqual([
      [11, 'null-body'],
      [12, 'sentinel-date'],
      [14, 'invalid-member-id'],
    ]);
    expect(lines[0].row).toMatchObject({ MessageId: '11', Body: null, ReadAt: null });
  });

  it('writes no rejects/ directory when every row is clean', async () => {
    await writeDump(join(dir, 'dump'), { Messages: [messageRow()] });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['chat'], progress: 'off' });
    expect(result.rejects).toBe(0);
    expect(result.rejectsDir).toBeNull();
    await expect(readFile(join(dir, 'events', 'rejects', 'chat.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
