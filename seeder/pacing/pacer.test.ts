import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.ts';
import { ReplayTiming, Stages } from './schedule.ts';

/** Drives a pacer like the seeder does, with a fake clock that advances in `tickMs` steps. */
function simulate(pacer: Pacer, total: number, tickMs: number, clock = { now: 0 }): number[] {
  const sentAt: number[] = [];
  while (sentAt.length < total) {
    const due = pacer.dueCount(sentAt.length, clock.now);
    for (let k = 0; k < due && sentAt.length < total; k++) sentAt.push(clock.now);
    clock.now += tickMs;
  }
  return sentAt;
}

describe('Pacer', () => {
  it('makes event i due at t0 + i/rate', () => {
    const pacer = new Pacer({ rate: 100, start: 1000 });
    expect(pacer.delay(0, 1000)).toBe(0);
    expect(pacer.delay(1, 1000)).toBe(10);
    expect(pacer.delay(5, 1020)).toBe(30);
    expect(pacer.dueAt(250)).toBe(3500);
  });

  it('sends what is due each tick, so coarse ticks still give the exact rate', () => {
    const pacer = new Pacer({ rate: 1000, start: 0 });
    const sentAt = simulate(pacer, 5000, 16); // 16 ms ticks: 16 events per tick
    expect(sentAt[4999]).toBeGreaterThanOrEqual(4999);
    expect(sentAt[4999]).toBeLessThan(4999 + 16);
    // No event is sent before its due time.
    sentAt.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(i));
  });

  it('catches up a short lag (within maxLagMs) without re-basing', () => {
    const pacer = new Pacer({ rate: 100, start: 0, maxLagMs: 1000 });
    // The sender was busy until t=500: events 0..50 are due at once.
    expect(pacer.dueCount(0, 500)).toBe(51);
    expect(pacer.stalls).toBe(0);
  });

  it('re-bases after a stall longer than maxLagMs: no burst above the rate afterwards', () => {
    const pacer = new Pacer({ rate: 100, start: 0, maxLagMs: 200 });
    expect(pacer.dueCount(0, 0)).toBe(1);
    // A 5 s stall before event 1 is sent.
    expect(pacer.dueCount(1, 5000)).toBe(1);
    expect(pacer.stalls).toBe(1);
    expect(pacer.forgivenMs).toBeCloseTo(4990, 6);
    // After it, the schedule continues at 100/s from the moment the stall ended.
    expect(pacer.delay(2, 5000)).toBeCloseTo(10, 6);
    expect(pacer.dueCount(2, 5100)).toBe(10);
  });

  it('pause/resume shifts the schedule by the paused time', () => {
    const pacer = new Pacer({ rate: 10, start: 0 });
    expect(pacer.dueCount(0, 250)).toBe(3);
    pacer.pause(250);
    expect(pacer.paused).toBe(true);
    expect(pacer.delay(3, 10_000)).toBe(Infinity);
    expect(pacer.dueCount(3, 10_000)).toBe(0);
    pacer.resume(10_250);
    expect(pacer.pausedMs).toBe(10_000);
    // Event 3 was due at 300, now at 10 300: nothing is overdue after the pause.
    expect(pacer.dueCount(3, 10_250)).toBe(0);
    expect(pacer.delay(3, 10_250)).toBeCloseTo(50, 6);
    expect(pacer.forgivenMs).toBe(0);
  });

  it('changes the rate without a jump', () => {
    const pacer = new Pacer({ rate: 10, start: 0 });
    pacer.setRate(1000, 10, 500); // event 10 was due at 1000
    expect(pacer.rate).toBe(1000);
    expect(pacer.dueAt(10)).toBeCloseTo(1000, 6);
    expect(pacer.dueAt(11)).toBeCloseTo(1001, 6);
    pacer.setRate(1, 20, 5000); // event 20 was due at 1010, now is later: it becomes due now
    expect(pacer.delay(20, 5000)).toBe(0);
    expect(pacer.delay(21, 5000)).toBeCloseTo(1000, 6);
  });

  it('holds the rate over a long simulated run with jittery ticks', () => {
    const pacer = new Pacer({ rate: 500, start: 0 });
    const clock = { now: 0 };
    const sentAt: number[] = [];
    let jitter = 0;
    while (sentAt.length < 30_000) {
      const due = pacer.dueCount(sentAt.length, clock.now);
      for (let k = 0; k < due; k++) sentAt.push(clock.now);
      jitter = (jitter * 7 + 3) % 11; // deterministic 0..10 ms extra
      clock.now += 1 + jitter;
    }
    const seconds = sentAt[sentAt.length - 1]! / 1000;
    const achieved = (sentAt.length - 1) / seconds;
    expect(Math.abs(achieved - 500) / 500).toBeLessThan(0.01);
  });

  it('scale() halves or doubles the speed from now on, without a jump', () => {
    const pacer = new Pacer({ rate: 100, start: 0 });
    expect(pacer.dueAt(10)).toBeCloseTo(100, 6);
    pacer.scale(2, 100); // event 10 is due now; from here on 200/s
    pacer.delay(10, 100);
    expect(pacer.rate).toBeCloseTo(200, 6);
    expect(pacer.dueAt(10)).toBeCloseTo(100, 6);
    expect(pacer.dueAt(20)).toBeCloseTo(150, 6);
    pacer.scale(0.25, 150); // now 50/s
    expect(pacer.dueAt(21)).toBeCloseTo(170, 6);
    expect(pacer.label).toBe('100 events/s ×0.5');
    expect(() => pacer.scale(0, 0)).toThrow(RangeError);
  });

  it('scale() while paused takes effect when resumed', () => {
    const pacer = new Pacer({ rate: 10, start: 0 });
    pacer.pause(50);
    pacer.scale(10, 1000);
    pacer.resume(2000);
    // Event 1 was due at 100, i.e. 50 ms of schedule time after the pause; at 100/s that is 5 ms.
    expect(pacer.dueAt(1)).toBeCloseTo(2005, 6);
    expect(pacer.pausedMs).toBe(1950);
  });

  it('paces a ramp schedule and a replay schedule through the same clock', () => {
    const ramp = new Pacer({ schedule: new Stages([{ rate: 1000, durationMs: 1000 }]), start: 0 });
    const sentAt = simulate(ramp, 500, 1);
    // 0→1000/s over 1 s: 500 events are due by t = 1000 ms; the first 125 by 500 ms.
    expect(sentAt[499]).toBeGreaterThan(990);
    expect(sentAt[499]).toBeLessThanOrEqual(1001);
    expect(sentAt.filter((t) => t <= 500).length).toBeCloseTo(126, -1);

    const replay = new Pacer({ schedule: new ReplayTiming(10), start: 0 });
    // occurred_at 0 s, 1 s, 11 s → due at 0, 100 ms, 1100 ms at ten times the speed.
    expect(replay.delay(0, 0, 0)).toBe(0);
    expect(replay.delay(1, 0, 1_000_000)).toBeCloseTo(100, 6);
    expect(replay.delay(2, 100, 11_000_000)).toBeCloseTo(1000, 6);
  });

  it('no overshoot after a stall: the rate after it stays at the target', () => {
    const pacer = new Pacer({ rate: 1000, start: 0, maxLagMs: 100 });
    const clock = { now: 0 };
    const sentAt = simulate(pacer, 1000, 1, clock);
    clock.now += 3000; // the broker stalled for 3 s
    const after = simulate(pacer, 1000, 1, clock).slice(0);
    expect(sentAt).toHaveLength(1000);
    const start = clock.now - 1000;
    // The 1000 events after the stall are spread over about a second, not sent in a burst.
    const inFirst100ms = after.filter((t) => t < start + 100).length;
    expect(inFirst100ms).toBeLessThan(150);
    expect(pacer.stalls).toBe(1);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new Pacer({ rate: 0, start: 0 })).toThrow(RangeError);
    expect(() => new Pacer({ rate: Number.NaN, start: 0 })).toThrow(RangeError);
  });
});
