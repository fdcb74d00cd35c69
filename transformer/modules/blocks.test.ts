import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvents, tempDir, writeDump } from '../test-support.ts';
import { transform } from '../transform.ts';
import { AT, blockRow, someMembers } from './test-rows.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('blocks module: given Blocks rows, expect these events', () => {
  it('emits blocks.member-blocked keyed by the blocker; rejects self blocks and missing members', async () => {
    await writeDump(join(dir, 'dump'), {
      Members: someMembers(),
      Blocks: [
        blockRow({ BlockerId: 1, BlockedId: 2, Reason: 'ei kiitos', ReportedToModerator: true }),
        blockRow({ BlockerId: 3, BlockedId: 3 }),
        blockRow({ BlockerId: 3, BlockedId: 1066 }),
      ],
    });
    const result = await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), modules: ['blocks'], progress: 'off' });
    const events = await readEvents(join(dir, 'events'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'blocks.member-blocked',
      key: '1',
      source: { table: 'Blocks', primary_key: '[1,2]' },
      payload: { blocker_id: 1, blocked_id: 2, blocked_at: AT, reason: 'ei kiitos', reported_to_moderator: true },
    });
    expect(result.rejectsByModule).toEqual({ blocks: { 'blocked-missing': 1, 'blocked-self': 1 } });
  });
});
