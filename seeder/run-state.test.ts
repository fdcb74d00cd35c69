import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from './broker/message.ts';
import { Pace } from './pacing/pace.ts';
import { ConfirmPublisher } from './broker/publisher.ts';
import { RunState } from './run-state.ts';
import { parseSelection, type SelectionFlags } from './pacing/select.ts';

/** A run 10 s in, `moved` events into a 100,000-event stream, `confirmed` of them published and confirmed. */
function progressAfter(flags: SelectionFlags, moved: number, confirmed: number): string {
  const publisher = new ConfirmPublisher('x', 4, () => ({}) as OutgoingMessage);
  publisher.skipTo(moved);
  publisher.confirmed = confirmed;
  const info = { events: 'events', url: 'amqp://x', exchange: 'x', runId: 'r', contentType: 'protobuf' as const, total: 100_000, startPosition: 0, checkpoint: null };
  const run = new RunState(info, publisher, () => undefined);
  run.pace = new Pace({ selection: parseSelection(flags) });
  run.start = performance.now() - 10_000;
  return run.progressLine();
}

describe('the progress line with a selection', () => {
  it('without one: the events left at the confirm rate', () => {
    expect(progressAfter({}, 20_000, 20_000)).toMatch(/\(20\.0%\).*ETA 40\.\ds/);
  });

  it('--types: the stream left at the rate the run moves through it, not at the (lower) publish rate', () => {
    // 50,000 read in 10 s, 5,000 of them selected: 10 s left, not 100 s.
    expect(progressAfter({ types: 'chat.*' }, 50_000, 5_000)).toMatch(/ETA (9\.\d|10\.\d)s/);
  });

  it('--limit: the share of the limit, and no ETA left once it is reached', () => {
    const line = progressAfter({ limit: '10000' }, 31_400, 10_000);
    expect(line).toContain('(100.0% of --limit 10,000)');
    expect(line).toMatch(/ETA 0\.0s/);
    expect(progressAfter({ limit: '10000' }, 15_700, 5_000)).toMatch(/\(50\.0% of --limit 10,000\).*ETA (9\.\d|10\.\d)s/);
  });
});
