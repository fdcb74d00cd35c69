import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { AT, SENTINEL, likeRow, photoRow, someMembers } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('likes module: given PhotoLikes rows (and Photos to look owners up in), expect these events', () => {
  it('emits likes.photo-liked with the photo owner as key; rejects likes of missing or rejected photos', async () => {
    const DAY = 86_400_000_000n;
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(),
      Photos: [
        photoRow({ PhotoId: 10, MemberId: 3, UploadedAt: AT - DAY }),
        photoRow({ PhotoId: 11, MemberId: 1, UploadedAt: SENTINEL }), // rejected upload
      ],
      PhotoLikes: [
        likeRow({ PhotoLikeId: 1, PhotoId: 10, MemberId: 2 }),
        likeRow({ PhotoLikeId: 2, PhotoId: 99 }),
        likeRow({ PhotoLikeId: 3, PhotoId: 11 }),
        likeRow({ PhotoLikeId: 4, PhotoId: 10, LikedAt: SENTINEL }),
        likeRow({ PhotoLikeId: 5, PhotoId: 10, MemberId: 6 }),
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['likes'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'likes.photo-liked',
      key: '3',
      occurredAt: AT,
      payload: { like_id: 1, photo_id: 10, member_id: 2, owner_id: 3, liked_at: AT },
    });
    expect(result.rowsByTable).toEqual({ PhotoLikes: 5 }); // lookup passes are not module rows
    expect(result.rejectsByModule).toEqual({
      likes: { 'member-missing': 1, 'photo-missing': 1, 'photo-rejected': 1, 'sentinel-date': 1 },
    });
  });

  it('fails when the dump lacks a table its lookups read', async () => {
    await writeDump(join(dir, 'dump'), { Members: someMembers(), PhotoLikes: [likeRow()] });
    await expect(transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['likes'], progress: 'off' })).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
    });
  });
});
