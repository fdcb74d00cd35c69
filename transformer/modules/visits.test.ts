import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { AT, someMembers, visitRow } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('visits module: given ProfileVisits rows, expect these events', () => {
  it('emits visits.profile-visited keyed by the visited member; rejects self visits, missing visitors, deleted profiles', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(),
      ProfileVisits: [
        visitRow({ VisitId: 1n, VisitorId: 1, VisitedId: 2, Source: 4, IsAnonymous: true }),
        visitRow({ VisitId: 2n, VisitorId: 3, VisitedId: 3 }),
        visitRow({ VisitId: 3n, VisitorId: 6, VisitedId: 2 }),
        visitRow({ VisitId: 4n, VisitorId: 1, VisitedId: 4 }), // deleted before AT
        visitRow({ VisitId: 5n, VisitorId: 2, VisitedId: 1, Source: 0, VisitedAt: AT + 1n }),
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['visits'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));
    expect(events.map((e) => [e.source.primary_key, e.key])).toEqual([
      ['1', '2'],
      ['5', '1'],
    ]);
    expect(events[0]!.payload).toEqual({ visit_id: 1n, visitor_id: 1, visited_id: 2, visited_at: AT, source: 4, anonymous: true });
    expect(events[1]!.payload['source']).toBe(0);
    expect(result.rejectsByModule).toEqual({ visits: { 'self-visit': 1, 'visited-deleted': 1, 'visitor-missing': 1 } });
  });
});
