import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extract } from '../extractor/extract.ts';
import { createTempDb, type TempDb } from '../extractor/test-db.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { countReferenceOrderCases } from '../fixtures/dirty-checks.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import type { FixtureSummary } from '../fixtures/summary.ts';
import { FIXTURE_TABLES } from '../fixtures/tables.ts';
import { envelopeType, type EventEnvelope } from '../common/protos.ts';
import { decodeEvents } from '../recordfile/index.ts';
import { countProblems, referenceOrderProblems } from './test-reference-order.ts';
import { transform, type TransformResult } from './transform.ts';

/**
 * The fixture plants a known number of each dirty case (fixtures/dirty-plan.ts); the
 * transform must find every one of them. `exact`: the reject count equals the planted count.
 * `atMost`: only some planted rows are rejects (rows of deleted members are kept when they
 * happened before the deletion).
 */
const EXACT: readonly [table: string, fixtureCase: string, module: string, reason: string][] = [
  ['Members', 'registeredAtSentinel', 'members', 'sentinel-date'],
  ['Members', 'birthDateSentinel', 'members', 'sentinel-birth-date'],
  ['Members', 'deletedWithoutDate', 'members', 'deleted-without-date'],
  ['Messages', 'sentAtSentinel', 'chat', 'sentinel-date'],
  ['Messages', 'bodyNull', 'chat', 'null-body'],
  ['Messages', 'senderMissing', 'chat', 'sender-missing'],
  ['Messages', 'recipientMissing', 'chat', 'recipient-missing'],
  ['Messages', 'readBeforeSent', 'chat', 'read-before-sent'],
  ['Photos', 'uploadedAtSentinel', 'photos', 'sentinel-date'],
  ['Photos', 'memberMissing', 'photos', 'member-missing'],
  ['Flirts', 'duplicateFlirt', 'flirts', 'duplicate-flirt'],
  ['Flirts', 'recipientMissing', 'flirts', 'recipient-missing'],
  ['Favorites', 'favoriteMissing', 'favorites', 'favorite-missing'],
  ['Favorites', 'addedAtSentinel', 'favorites', 'sentinel-date'],
  ['ProfileVisits', 'visitorMissing', 'visits', 'visitor-missing'],
  ['ProfileVisits', 'selfVisit', 'visits', 'self-visit'],
  ['Blocks', 'blockedSelf', 'blocks', 'blocked-self'],
  ['Blocks', 'blockedMissing', 'blocks', 'blocked-missing'],
  ['PhotoLikes', 'photoMissing', 'likes', 'photo-missing'],
  ['PhotoLikes', 'likedAtSentinel', 'likes', 'sentinel-date'],
];
/** Cases the fixture has without planting them (fixtures/dirty-plan.ts REFERENCE_ORDER_CASES): counted in the database. */
const REFERENCE_ORDER: readonly [table: string, fixtureCase: string, module: string, reason: string][] = [
  ['Messages', 'senderRegisteredLater', 'chat', 'sender-registered-later'],
  ['Messages', 'recipientRegisteredLater', 'chat', 'recipient-registered-later'],
  ['Photos', 'memberRegisteredLater', 'photos', 'member-registered-later'],
  ['Flirts', 'senderRegisteredLater', 'flirts', 'sender-registered-later'],
  ['Flirts', 'recipientRegisteredLater', 'flirts', 'recipient-registered-later'],
  ['Favorites', 'memberRegisteredLater', 'favorites', 'member-registered-later'],
  ['Favorites', 'favoriteRegisteredLater', 'favorites', 'favorite-registered-later'],
  ['ProfileVisits', 'visitorRegisteredLater', 'visits', 'visitor-registered-later'],
  ['ProfileVisits', 'visitedRegisteredLater', 'visits', 'visited-registered-later'],
  ['Blocks', 'blockerRegisteredLater', 'blocks', 'blocker-registered-later'],
  ['Blocks', 'blockedRegisteredLater', 'blocks', 'blocked-registered-later'],
  ['PhotoLikes', 'memberRegisteredLater', 'likes', 'member-registered-later'],
];
const AT_MOST: readonly [table: string, fixtureCase: string, module: string, reason: string][] = [
  ['Messages', 'senderDeleted', 'chat', 'sender-deleted'],
  ['Messages', 'recipientDeleted', 'chat', 'recipient-deleted'],
  ['Photos', 'memberDeleted', 'photos', 'member-deleted'],
  ['Flirts', 'senderDeleted', 'flirts', 'sender-deleted'],
  ['ProfileVisits', 'visitedDeleted', 'visits', 'visited-deleted'],
];

describe('transform of the tiny fixture: rejects match the fixture ground truth', () => {
  let db: TempDb;
  let dir: string;
  let summary: FixtureSummary;
  let result: TransformResult;
  let referenceOrder: Record<string, Record<string, number>>;

  beforeAll(async () => {
    db = await createTempDb();
    dir = await mkdtemp(join(tmpdir(), 'seedline-truth-'));
    summary = await createFixture({ url: db.url, preset: 'tiny', progress: 'off' });
    await extract({
      source: db.url,
      tables: FIXTURE_TABLES.map((t) => `dbo.${t.name}`),
      out: join(dir, 'dump'),
      sourceTimezone: FIXTURE_TIMEZONE,
      progress: 'off',
    });
    result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), progress: 'off' });
    referenceOrder = await countReferenceOrderCases({ query: (text: string) => db.sql(text) } as Pick<pg.Client, 'query'>);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every module and reads every row of the tables they read', () => {
    expect(result.skippedModules).toEqual([]);
    for (const table of ['Members', 'Photos', 'Messages', 'Flirts', 'Favorites', 'ProfileVisits', 'Blocks', 'PhotoLikes']) {
      expect(result.rowsByTable[table], table).toBe(summary.tables[table]);
    }
    expect(Object.keys(result.eventsByType).sort()).toEqual([
      'blocks.member-blocked',
      'chat.message-read',
      'chat.message-sent',
      'favorites.favorite-added',
      'flirts.flirt-answered',
      'flirts.flirt-sent',
      'likes.photo-liked',
      'members.member-deleted',
      'members.member-registered',
      'photos.photo-uploaded',
      'visits.profile-visited',
    ]);
  });

  it.each(EXACT)('%s.%s: exactly as many %s rejects for %s', (table, fixtureCase, module, reason) => {
    const planted = summary.dirty[table]?.[fixtureCase];
    expect(planted, `${table}.${fixtureCase} in the fixture summary`).toBeGreaterThan(0);
    expect(result.rejectsByModule[module]?.[reason] ?? 0).toBe(planted);
  });

  it.each(AT_MOST)('%s.%s: at most as many %s rejects for %s', (table, fixtureCase, module, reason) => {
    const planted = summary.dirty[table]?.[fixtureCase];
    expect(planted, `${table}.${fixtureCase} in the fixture summary`).toBeGreaterThan(0);
    expect(result.rejectsByModule[module]?.[reason] ?? 0).toBeLessThanOrEqual(planted!);
  });

  it.each(REFERENCE_ORDER)('%s.%s (counted in the database): exactly as many %s rejects for %s', (table, fixtureCase, module, reason) => {
    const found = referenceOrder[table]?.[fixtureCase];
    expect(found, `${table}.${fixtureCase} in REFERENCE_ORDER_CHECKS`).toBeTypeOf('number');
    expect(result.rejectsByModule[module]?.[reason] ?? 0).toBe(found);
  });

  it('the fixture does hold rows dated before a member registers (so the cases above are tested)', () => {
    expect(Object.values(referenceOrder).flatMap((c) => Object.values(c)).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('no event refers to a member before their registration or after their deletion', async () => {
    expect(countProblems(await referenceOrderProblems(join(dir, 'events')))).toEqual({});
  });

  it('drops nothing silently: every row read became events or a reject marked dropped, never both', async () => {
    const Event = await envelopeType();
    const withEvents = new Set<string>();
    for await (const batch of decodeEvents(join(dir, 'events'), (b) => Event.decode(b) as unknown as EventEnvelope)) {
      for (const e of batch) withEvents.add(`${e.source!.table} ${e.source!.primary_key}`);
    }
    const dropped = new Set<string>();
    for (const file of await readdir(join(dir, 'events', 'rejects'))) {
      for (const line of (await readFile(join(dir, 'events', 'rejects', file), 'utf8')).split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as { table: string; key: unknown; dropped: boolean };
        const id = `${r.table} ${JSON.stringify(r.key)}`;
        if (r.dropped) dropped.add(id);
        else expect(withEvents.has(id), id).toBe(true);
      }
    }
    for (const id of dropped) expect(withEvents.has(id), id).toBe(false);
    for (const [table, rows] of Object.entries(result.rowsByTable)) {
      const count = (set: Set<string>) => [...set].filter((id) => id.startsWith(`${table} `)).length;
      expect(count(withEvents) + count(dropped), table).toBe(rows);
    }
  });

  it('rejects leak no credentials or personal data: rejects/members.jsonl names the columns of its reasons only', async () => {
    const text = await readFile(join(dir, 'events', 'rejects', 'members.jsonl'), 'utf8');
    const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { columns: Record<string, unknown> });
    expect(lines.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/PasswordHash|Email|UserName|Presentation/);
    for (const line of lines) expect(Object.keys(line.columns).length).toBeGreaterThan(0);
  });

  it('the deleted-member rejects happen (rows after the deletion exist in the fixture)', () => {
    const total = AT_MOST.reduce((n, [, , module, reason]) => n + (result.rejectsByModule[module]?.[reason] ?? 0), 0);
    expect(total).toBeGreaterThan(0);
  });
});
