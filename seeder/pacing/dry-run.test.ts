import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRun, formatDryRun } from './dry-run.ts';
import { parseSelection } from './select.ts';
import { makeEvents, removeDataset, writeEventsDataset, type TestEvent } from '../test-helpers.ts';

describe('dry run (no broker)', () => {
  let dir: string;
  let events: TestEvent[];
  beforeAll(async () => {
    events = await makeEvents(100); // one a second (+1 µs), alternating two types
    // Two events stepping back in time.
    events[50]!.occurred_at = events[10]!.occurred_at;
    events[51]!.occurred_at = events[11]!.occurred_at;
    dir = await writeEventsDataset(events, { maxPartBytes: 2048 });
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('counts per type, time span and out-of-order timestamps; duration at a fixed rate', async () => {
    const r = await dryRun({ events: dir, rate: 10, progress: 'off' });
    expect(r).toMatchObject({ total: 100, read: 100, selected: 100, outOfOrder: 2 });
    expect(r.byType).toEqual({ 'chat.message-sent': 50, 'members.member-registered': 50 });
    expect(r.firstAt).toBe('2020-09-13T12:26:40.123Z');
    expect(r.worstBackstepMs).toBe(39_000);
    expect(r.expectedSeconds).toBeCloseTo(9.9, 6); // event 99 is due at 99/10 s
    const text = formatDryRun(r);
    expect(text).toContain('nothing was published');
    expect(text).toMatch(/out of order\s+2 events/);
  });

  it('estimates a replay at --speed with the same schedule the pacer uses, and applies the selection', async () => {
    const r = await dryRun({ events: dir, speed: 10, selection: parseSelection({ types: 'chat.*', limit: '20' }), progress: 'off' });
    expect(r.selected).toBe(20);
    // The 20th chat event is event 38 (every other one): 39 read, not the 40th too.
    expect(r.read).toBe(39);
    expect(formatDryRun(r)).toContain('stopped reading after 39: --limit');
    expect(r.byType).toEqual({ 'chat.message-sent': 20 });
    // 20 chat events 2 s apart: 38 s of history at ×10 ≈ 3.8 s.
    expect(r.expectedSeconds).toBeCloseTo(3.8, 3);
  });

  it('says so when unpaced', async () => {
    const r = await dryRun({ events: dir, progress: 'off' });
    expect(r.expectedSeconds).toBeUndefined();
    expect(formatDryRun(r)).toContain('unpaced');
  });
});
