import type { PhotoLikesRow } from '../legacy-rows.ts';
import { defineModule } from '../module.ts';
import { checkMember, checkTime } from '../references.ts';

/**
 * PhotoLikes → `likes.photo-liked` at LikedAt, with the photo's owner (from the `photos`
 * lookup: the legacy row has only the photo id, the consumer — "who liked my photos" — needs
 * the owner). Key: the photo owner's member id.
 *
 * Dirty rows (all problems reported; any drops the row):
 * - `sentinel-date` / `date-out-of-range` on LikedAt;
 * - `photo-missing`: no Photos row (deleted since); `photo-rejected`: its upload was rejected;
 * - `member-…` (the liker) / `owner-…` `missing`, `unregistered`, `deleted` (references.ts).
 */
export const likes = defineModule({
  name: 'likes',
  description: 'members liking photos',
  reads: ['PhotoLikes'],
  lookups: ['members', 'photos'],
  emits: { 'likes.photo-liked': 'seedline.events.likes.PhotoLiked' },
  columns: { PhotoLikes: ['PhotoLikeId', 'PhotoId', 'MemberId', 'LikedAt'] },
  primaryKey: (row: PhotoLikesRow) => row.PhotoLikeId,
  events(row, ctx) {
    const timeOk = checkTime(ctx, 'LikedAt', row.LikedAt);
    const at = timeOk ? row.LikedAt : null;
    const memberOk = checkMember(ctx, 'member', row.MemberId, at, 'MemberId');
    const owner = ctx.lookups.photos.ownerOf(row.PhotoId);
    if (owner === 'missing') ctx.reject('photo-missing', `PhotoId ${row.PhotoId} has no Photos row`, ['PhotoId']);
    else if (owner === 'rejected') ctx.reject('photo-rejected', `Photos row ${row.PhotoId} was rejected (no photos.photo-uploaded)`, ['PhotoId']);
    const ownerOk = typeof owner === 'number' && checkMember(ctx, 'owner', owner, at, 'PhotoId');
    if (!timeOk || !memberOk || !ownerOk) return [];
    return [
      {
        type: 'likes.photo-liked',
        occurredAt: row.LikedAt,
        key: String(owner),
        payload: { like_id: row.PhotoLikeId, photo_id: row.PhotoId, member_id: row.MemberId, owner_id: owner, liked_at: row.LikedAt },
      },
    ];
  },
});
