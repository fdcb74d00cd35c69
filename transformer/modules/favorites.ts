import type { FavoritesRow } from '../legacy-rows.ts';
import { defineModule } from '../module.ts';
import { checkMember, checkTime } from '../references.ts';

/**
 * Favorites → `favorites.favorite-added` at AddedAt. Key: the member who bookmarked.
 * Primary key (MemberId, FavoriteMemberId): the legacy table holds one row per pair.
 *
 * Dirty rows (all problems reported; any drops the row):
 * - `sentinel-date` / `date-out-of-range` on AddedAt;
 * - `member-…` / `favorite-…` `missing`, `unregistered`, `deleted` (references.ts).
 */
export const favorites = defineModule({
  name: 'favorites',
  description: 'members bookmarking other members',
  reads: ['Favorites'],
  lookups: ['members'],
  emits: { 'favorites.favorite-added': 'seedline.events.favorites.FavoriteAdded' },
  columns: { Favorites: ['MemberId', 'FavoriteMemberId', 'AddedAt', 'Note'] },
  primaryKey: (row: FavoritesRow) => [row.MemberId, row.FavoriteMemberId],
  events(row, ctx) {
    const timeOk = checkTime(ctx, 'AddedAt', row.AddedAt);
    const at = timeOk ? row.AddedAt : null;
    const memberOk = checkMember(ctx, 'member', row.MemberId, at, 'MemberId');
    const favoriteOk = checkMember(ctx, 'favorite', row.FavoriteMemberId, at, 'FavoriteMemberId');
    if (!timeOk || !memberOk || !favoriteOk) return [];
    return [
      {
        type: 'favorites.favorite-added',
        occurredAt: row.AddedAt,
        key: String(row.MemberId),
        payload: { member_id: row.MemberId, favorite_member_id: row.FavoriteMemberId, added_at: row.AddedAt, note: row.Note },
      },
    ];
  },
});
