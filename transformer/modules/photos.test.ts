import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '../event-id.ts';
import { readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { AT, SENTINEL, photoRow, someMembers } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('photos module: given Photos rows, expect these events', () => {
  it('emits photos.photo-uploaded keyed by the owner; rejects sentinel dates and unknown, unregistered or deleted owners', async () => {
    const hash = new Uint8Array(32).fill(7);
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(),
      Photos: [
        photoRow({ PhotoId: 1, MemberId: 2, Caption: '  Kesä 🌞 ', ContentHash: hash, IsPrimary: true }),
        photoRow({ PhotoId: 2, UploadedAt: SENTINEL }),
        photoRow({ PhotoId: 3, MemberId: 6 }), // no such member
        photoRow({ PhotoId: 4, MemberId: 4 }), // uploaded after the owner's deletion
        photoRow({ PhotoId: 5, MemberId: 4, UploadedAt: AT - 365n * 86_400_000_000n }), // before it: history, kept
        photoRow({ PhotoId: 6, MemberId: 5 }), // owner's registration was rejected
        photoRow({ PhotoId: 7, MemberId: 6, UploadedAt: SENTINEL }), // two problems, both counted
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['photos'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));
    expect(events.map((e) => [e.source.primary_key, e.key])).toEqual([
      ['5', '4'],
      ['1', '2'],
    ]);
    expect(events[1]).toMatchObject({
      id: eventId('Photos', 1, 'photos.photo-uploaded'),
      type: 'photos.photo-uploaded',
      occurredAt: AT,
      payload: { photo_id: 1, member_id: 2, caption: '  Kesä 🌞 ', primary: true, approved: true, uploaded_at: AT },
    });
    expect(Buffer.from(events[1]!.payload['content_hash'] as Uint8Array)).toEqual(Buffer.from(hash));
    expect(events[0]!.payload).not.toHaveProperty('caption');
    expect(result.rejectsByModule).toEqual({
      photos: { 'member-deleted': 1, 'member-missing': 2, 'member-unregistered': 1, 'sentinel-date': 2 },
    });
  });
});
