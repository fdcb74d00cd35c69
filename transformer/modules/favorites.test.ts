import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '../event-id.ts';
import { readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { AT, SENTINEL, favoriteRow, someMembers } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('favorites module: given Favorites rows, expect these events', () => {
  it('emits favorites.favorite-added with the composite key as source; rejects missing favorites and sentinel dates', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(),
      Favorites: [
        favoriteRow({ MemberId: 1, FavoriteMemberId: 2, Note: 'träffas på fredag ❤️' }),
        favoriteRow({ MemberId: 1, FavoriteMemberId: 3, AddedAt: AT - 1n }),
        favoriteRow({ MemberId: 1, FavoriteMemberId: 1051 }), // purged / never existed
        favoriteRow({ MemberId: 2, FavoriteMemberId: 3, AddedAt: SENTINEL }),
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['favorites'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));
    expect(events.map((e) => e.source.primary_key)).toEqual(['[1,3]', '[1,2]']);
    expect(events[1]).toMatchObject({
      id: eventId('Favorites', [1, 2], 'favorites.favorite-added'),
      key: '1',
      payload: { member_id: 1, favorite_member_id: 2, added_at: AT, note: 'träffas på fredag ❤️' },
    });
    expect(result.rejectsByModule).toEqual({ favorites: { 'favorite-missing': 1, 'sentinel-date': 1 } });
  });
});
