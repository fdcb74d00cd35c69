import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../broker/message.ts';
import { Pace } from './pace.ts';

const event = { occurred_at: 0 } as never;
const message = (): OutgoingMessage => ({ routingKey: 'chat.message-sent', options: {} }) as unknown as OutgoingMessage;

describe('Pace: resuming after a pause', () => {
  // bench/seed-rate.ts found ~280 events (140 ms at 2000/s) sent at once after a control resume:
  // the paused sender slept on in 250 ms steps while the schedule had restarted at the resume.
  it('wakes the paused sender at the resume, so no burst of overdue events follows', async () => {
    const pace = new Pace({ rate: 2000 });
    pace.begin();
    try {
      for (let i = 0; i < 10; i++) {
        expect(await pace.waitUntilDue(event, undefined)).toBe(true);
        pace.sent(message());
      }
      const pacer = pace.pacer!;
      const dueBeforePause = pacer.dueAt(10);
      // Pause once event 10 is due, so at the resume it is due at once (else the sender rightly
      // sleeps the rest of its 0.5 ms gap on a timer).
      while (performance.now() <= dueBeforePause) await new Promise((r) => setImmediate(r));
      pace.control({ kind: 'pause' });
      // How overdue event 10 was when the schedule stopped, at most.
      const overdueAtPause = performance.now() - dueBeforePause;
      const woke = pace.waitUntilDue(event, undefined);
      // Not a multiple of the 250 ms sleep, so a sender that slept on would wake ~125 ms late.
      await new Promise((r) => setTimeout(r, 375));
      const resumedAt = performance.now();
      pace.control({ kind: 'resume' });
      // The wake is a resolved promise, not a timer: it settles before the event loop's next
      // turn (setImmediate), however busy the machine — no clock in the verdict.
      const first = await Promise.race([woke.then((ok) => (ok ? 'woke' : 'aborted')), new Promise((r) => setImmediate(() => r('the next turn of the loop')))]);
      expect(first).toBe('woke');
      // The schedule stood still while paused: at the resume event 10 is no more overdue than
      // when it stopped (the paused time is not owed: no burst), the ones after it at the rate.
      expect(resumedAt - pacer.dueAt(10)).toBeLessThanOrEqual(overdueAtPause);
      expect(pacer.dueAt(110) - pacer.dueAt(10)).toBeCloseTo(50, 6);
    } finally {
      pace.finish();
    }
  });
});
