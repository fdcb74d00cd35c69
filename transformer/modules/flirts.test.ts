import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { AT, SENTINEL, flirtRow, someMembers } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const MS = 1000n;

describe('flirts module: given Flirts rows, expect these events', () => {
  it('emits flirt-sent and flirt-answered; a double click is one flirt; dirty rows are rejected', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(),
      Flirts: [
        flirtRow({ FlirtId: 1, FlirtType: 3, AnsweredAt: AT + 3_600_000n * MS }),
        flirtRow({ FlirtId: 2, FlirtType: 3, SentAt: AT + 900n * MS }), // double click: duplicate
        flirtRow({ FlirtId: 3, FlirtType: 1, SentAt: AT + 900n * MS }), // another type: a flirt of its own
        flirtRow({ FlirtId: 4, FlirtType: 3, SentAt: AT + 10_000n * MS }), // 10 s later: a flirt again
        flirtRow({ FlirtId: 5, SenderId: 4 }), // sender deleted before
        flirtRow({ FlirtId: 6, RecipientId: 6 }), // recipient missing
        flirtRow({ FlirtId: 7, SentAt: SENTINEL }),
        flirtRow({ FlirtId: 8, FlirtType: 9, SentAt: AT + 20_000n * MS, AnsweredAt: AT }), // answer before the flirt
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['flirts'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));
    expect(events.map((e) => [e.type, e.source.primary_key])).toEqual([
      ['flirts.flirt-sent', '1'],
      ['flirts.flirt-sent', '3'],
      ['flirts.flirt-sent', '4'],
      ['flirts.flirt-sent', '8'],
      ['flirts.flirt-answered', '1'],
    ]);
    expect(events[0]!.payload).toEqual({ flirt_id: 1, sender_id: 1, recipient_id: 2, flirt_type: 3, sent_at: AT });
    expect(events[3]!.payload['flirt_type']).toBe(0); // unknown legacy code
    expect(events[4]).toMatchObject({ key: '1', occurredAt: AT + 3_600_000n * MS, payload: { flirt_id: 1, answered_at: AT + 3_600_000n * MS } });
    expect(result.rejectsByModule).toEqual({
      flirts: { 'answered-before-sent': 1, 'duplicate-flirt': 1, 'recipient-missing': 1, 'sender-deleted': 1, 'sentinel-date': 1 },
    });
  });
});
