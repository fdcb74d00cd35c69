import type { PhotosRow } from '../legacy-rows.ts';
import { defineModule } from '../module.ts';
import { checkMember, checkTime } from '../references.ts';

/**
 * Photos → `photos.photo-uploaded` at UploadedAt. Key: the owner's member id.
 *
 * Dirty rows (all of a row's problems reported; any of them drops the row):
 * - `sentinel-date` / `date-out-of-range` on UploadedAt;
 * - `member-missing` / `member-unregistered` / `member-deleted` (uploaded at or after the
 *   owner's deletion): a photo of nobody the new system knows.
 * Captions are passed on as written (whitespace, emoji): trimming is the consumer's choice.
 * The `photos` lookup (likes) uses `photoPublished`, so a like of a rejected photo is rejected too.
 */
export const photos = defineModule({
  name: 'photos',
  description: 'profile photos uploaded by members',
  reads: ['Photos'],
  lookups: ['members'],
  emits: { 'photos.photo-uploaded': 'seedline.events.photos.PhotoUploaded' },
  columns: { Photos: ['PhotoId', 'MemberId', 'FileName', 'Caption', 'Width', 'Height', 'SizeBytes', 'ContentHash', 'IsPrimary', 'IsApproved', 'UploadedAt', 'PhotoGuid'] },
  primaryKey: (row: PhotosRow) => row.PhotoId,
  events(row, ctx) {
    const timeOk = checkTime(ctx, 'UploadedAt', row.UploadedAt);
    const ownerOk = checkMember(ctx, 'member', row.MemberId, timeOk ? row.UploadedAt : null, 'MemberId');
    if (!timeOk || !ownerOk) return [];
    return [
      {
        type: 'photos.photo-uploaded',
        occurredAt: row.UploadedAt,
        key: String(row.MemberId),
        payload: {
          photo_id: row.PhotoId,
          member_id: row.MemberId,
          photo_guid: row.PhotoGuid,
          file_name: row.FileName,
          caption: row.Caption,
          width: row.Width,
          height: row.Height,
          size_bytes: row.SizeBytes,
          content_hash: row.ContentHash,
          primary: row.IsPrimary,
          approved: row.IsApproved,
          uploaded_at: row.UploadedAt,
        },
      },
    ];
  },
});
