import type { PhotosRow } from '../legacy-rows.ts';
import { timeProblem } from '../legacy-time.ts';
import type { MemberDirectory } from '../lookups/members.ts';

// Apart from photos.ts so that the `photos` lookup (lookups/photos.ts) need not import the module.
/** Whether the photos module emits photos.photo-uploaded for the row (the same checks, silently). */
export function photoPublished(row: PhotosRow, members: MemberDirectory): boolean {
  return timeProblem(row.UploadedAt) === null && members.problemAt(row.MemberId, row.UploadedAt) === null;
}
