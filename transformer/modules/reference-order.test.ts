import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { micros } from '../legacy-time.ts';
import { memberRow, messageRow, readEvents, tempDir, writeDump } from '../test-support.ts';
import { referenceOrderProblems } from '../test-reference-order.ts';
import { transform } from '../transform.ts';
import { blockRow, favoriteRow, flirtRow, likeRow, photoRow, visitRow } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/**
 * The new system hears of a member at members.member-registered and forgets them at
 * members.member-deleted: no event may refer to a member outside that window (references.ts).
 */
const EARLY = micros('2011-01-01T00:00:00Z'); // member 1 registers then
const LATE = micros('2013-01-01T00:00:00Z'); // member 2 registers then
const BEFORE_LATE = micros('2012-12-31T19:00:00Z'); // 5 hours before member 2 exists
const GONE = micros('2014-01-01T00:00:00Z'); // member 3 is deleted then

function members() {
  return [
    memberRow({ MemberId: 1, RegisteredAt: EARLY }),
    memberRow({ MemberId: 2, RegisteredAt: LATE }),
    memberRow({ MemberId: 3, RegisteredAt: EARLY, IsDeleted: true, DeletedAt: GONE }),
  ];
}

describe('referential order: no event refers to a member before registration or after deletion', () => {
  it('rejects rows of every module dated before a member they refer to registers (<role>-registered-later)', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: members(),
      Messages: [messageRow({ MessageId: 1n, SenderId: 2, RecipientId: 1, SentAt: BEFORE_LATE }), messageRow({ MessageId: 2n, SenderId: 1, RecipientId: 2, SentAt: BEFORE_LATE })],
      Favorites: [favoriteRow({ MemberId: 2, FavoriteMemberId: 1, AddedAt: BEFORE_LATE }), favoriteRow({ MemberId: 1, FavoriteMemberId: 2, AddedAt: BEFORE_LATE })],
      Blocks: [blockRow({ BlockerId: 2, BlockedId: 1, BlockedAt: BEFORE_LATE })],
      Flirts: [flirtRow({ FlirtId: 1, SenderId: 1, RecipientId: 2, SentAt: BEFORE_LATE, AnsweredAt: null })],
      ProfileVisits: [visitRow({ VisitId: 1n, VisitorId: 1, VisitedId: 2, VisitedAt: BEFORE_LATE })],
      Photos: [photoRow({ PhotoId: 1, MemberId: 2, UploadedAt: BEFORE_LATE })],
      PhotoLikes: [likeRow({ PhotoLikeId: 1, PhotoId: 1, MemberId: 1, LikedAt: LATE + 1n })],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), progress: 'off' });
    expect(result.rejectsByModule).toMatchObject({
      chat: { 'sender-registered-later': 1, 'recipient-registered-later': 1 },
      favorites: { 'member-registered-later': 1, 'favorite-registered-later': 1 },
      blocks: { 'blocker-registered-later': 1 },
      flirts: { 'recipient-registered-later': 1 },
      visits: { 'visited-registered-later': 1 },
      photos: { 'member-registered-later': 1 },
      likes: { 'photo-rejected': 1 }, // its photo was uploaded before its owner registered
    });
    const events = await readEvents(join(dir, 'events'));
    expect(events.map((e) => e.type).sort()).toEqual(['members.member-deleted', 'members.member-registered', 'members.member-registered', 'members.member-registered']);
    expect(await referenceOrderProblems(join(dir, 'events'))).toEqual([]);
    const line = JSON.parse((await readFile(join(dir, 'events', 'rejects', 'favorites.jsonl'), 'utf8')).split('\n')[0]!);
    expect(line).toMatchObject({
      key: [2, 1],
      reason: 'member-registered-later',
      detail: 'member 2 registered at 2013-01-01T00:00:00.000000Z, after 2012-12-31T19:00:00.000000Z',
      dropped: true,
      columns: { MemberId: 2 },
    });
  });

  it('keeps an event at the very microsecond of the registration (the registration sorts first)', async () => {
    await writeDump(join(dir, 'dump'), { Members: members(), Favorites: [favoriteRow({ MemberId: 2, FavoriteMemberId: 1, AddedAt: LATE })] });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), progress: 'off' });
    expect(result.rejects).toBe(0);
    expect(result.eventsByType['favorites.favorite-added']).toBe(1);
    expect(await referenceOrderProblems(join(dir, 'events'))).toEqual([]);
  });

  it('drops only the read of a message read after its sender or reader was deleted; the message stays', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: members(),
      Messages: [
        messageRow({ MessageId: 1n, SenderId: 3, RecipientId: 1, SentAt: GONE - 1_000_000n, ReadAt: GONE + 1n }), // sender deleted, then read
        messageRow({ MessageId: 2n, SenderId: 1, RecipientId: 3, SentAt: GONE - 1_000_000n, ReadAt: GONE }), // reader deleted at that moment
        messageRow({ MessageId: 3n, SenderId: 1, RecipientId: 3, SentAt: GONE - 1_000_000n, ReadAt: GONE - 1n }), // read just before: kept
      ],
      Flirts: [flirtRow({ FlirtId: 1, SenderId: 1, RecipientId: 3, SentAt: GONE - 1_000_000n, AnsweredAt: GONE + 5n })],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['members', 'chat', 'flirts'], progress: 'off' });
    expect(result.rejectsByModule).toEqual({
      chat: { 'read-after-reader-deleted': 1, 'read-after-sender-deleted': 1 },
      flirts: { 'answered-after-recipient-deleted': 1 },
    });
    expect(result.eventsByType).toMatchObject({ 'chat.message-sent': 3, 'chat.message-read': 1, 'flirts.flirt-sent': 1 });
    expect(result.eventsByType['flirts.flirt-answered']).toBeUndefined();
    expect(await referenceOrderProblems(join(dir, 'events'))).toEqual([]);
    const lines = (await readFile(join(dir, 'events', 'rejects', 'chat.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ key: 1, reason: 'read-after-sender-deleted', dropped: false, columns: { SenderId: 3, ReadAt: String(GONE + 1n) } });
  });
});
