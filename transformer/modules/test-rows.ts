import type { BlocksRow, FavoritesRow, FlirtsRow, PhotoLikesRow, PhotosRow, ProfileVisitsRow } from '../legacy-rows.ts';
import { micros } from '../legacy-time.ts';
import { memberRow } from '../test-support.ts';

/** Legacy rows for the modules' tests: clean defaults, overridden per case. */

export const AT = micros('2014-06-01T12:00:00Z');
export const SENTINEL = micros('1899-12-31T22:00:00Z'); // 1900-01-01 00:00 Helsinki, in UTC

/**
 * Members 1..5 registered in 2010; 4 deleted on 2014-01-01 (so before AT); 5 has a sentinel
 * RegisteredAt (its row is rejected, the member is "unregistered"); 6 does not exist.
 */
export function someMembers() {
  return [
    memberRow({ MemberId: 1, RegisteredAt: micros('2010-01-01T00:00:00Z') }),
    memberRow({ MemberId: 2, RegisteredAt: micros('2010-01-02T00:00:00Z') }),
    memberRow({ MemberId: 3, RegisteredAt: micros('2010-01-03T00:00:00Z') }),
    memberRow({ MemberId: 4, RegisteredAt: micros('2010-01-04T00:00:00Z'), IsDeleted: true, DeletedAt: micros('2014-01-01T00:00:00Z') }),
    memberRow({ MemberId: 5, RegisteredAt: SENTINEL }),
  ];
}

export function photoRow(o: Partial<PhotosRow> = {}): PhotosRow {
  return {
    PhotoId: 1,
    MemberId: 1,
    FileName: 'photos/2014/06/a.jpg',
    Caption: null,
    Width: 640,
    Height: 480,
    SizeBytes: 123_456,
    ContentHash: null,
    IsPrimary: false,
    IsApproved: true,
    UploadedAt: AT,
    PhotoGuid: '6f1c1f36-5b1e-4a8e-8c55-0d6a3c0f2b11',
    ...o,
  };
}

export function flirtRow(o: Partial<FlirtsRow> = {}): FlirtsRow {
  return { FlirtId: 1, SenderId: 1, RecipientId: 2, FlirtType: 1, SentAt: AT, AnsweredAt: null, ...o };
}

export function favoriteRow(o: Partial<FavoritesRow> = {}): FavoritesRow {
  return { MemberId: 1, FavoriteMemberId: 2, AddedAt: AT, Note: null, ...o };
}

export function visitRow(o: Partial<ProfileVisitsRow> = {}): ProfileVisitsRow {
  return { VisitId: 1n, VisitorId: 1, VisitedId: 2, VisitedAt: AT, Source: 1, IsAnonymous: false, ...o };
}

export function blockRow(o: Partial<BlocksRow> = {}): BlocksRow {
  return { BlockerId: 1, BlockedId: 2, BlockedAt: AT, Reason: null, ReportedToModerator: false, ...o };
}

export function likeRow(o: Partial<PhotoLikesRow> = {}): PhotoLikesRow {
  return { PhotoLikeId: 1, PhotoId: 1, MemberId: 2, LikedAt: AT, ...o };
}
