import { describe, expect, it } from 'vitest';
import { isSeedlineError } from '../../common/errors.ts';
import { parseDuration, parseStages, scheduleFor } from './pace-options.ts';
import { FixedRate, ReplayTiming, Stages, toMicros } from './schedule.ts';

describe('schedules', () => {
  it('a ramp 0→1000/s over 60 s then holding 1000/s: the integral of the rate', () => {
    const s = new Stages([{ rate: 1000, durationMs: 60_000 }]);
    expect(s.offsetOf(0)).toBe(0);
    // N(t) = t²/120 events (t in s): 30,000 events by t = 60 s, 7,500 by 30 s.
    expect(s.offsetOf(7_500)).toBeCloseTo(30_000, 3);
    expect(s.offsetOf(30_000)).toBeCloseTo(60_000, 3);
    expect(s.offsetOf(31_000)).toBeCloseTo(61_000, 3);
    expect(s.rateAt(30_000)).toBeCloseTo(500, 6);
    expect(s.rateAt(120_000)).toBe(1000);
  });

  it('chains ramps from a start rate, including a ramp down and a jump', () => {
    const s = new Stages([{ rate: 200, durationMs: 10_000 }, { rate: 50, durationMs: 0 }, { rate: 10, durationMs: 10_000 }], 100);
    // 100→200/s over 10 s: 1,500 events; then 50→10/s over 10 s: 300 more.
    expect(s.offsetOf(1_500)).toBeCloseTo(10_000, 3);
    expect(s.offsetOf(1_800)).toBeCloseTo(20_000, 3);
    expect(s.offsetOf(1_810)).toBeCloseTo(21_000, 3);
    // Offsets never go backwards.
    let last = -1;
    for (let i = 0; i < 2_000; i += 7) {
      const o = s.offsetOf(i);
      expect(o).toBeGreaterThanOrEqual(last);
      last = o;
    }
  });

  it('replays the original gaps K times faster, caps long silences, counts out-of-order times', () => {
    const r = new ReplayTiming(100, 2_000);
    const second = 1_000_000;
    expect(r.offsetOf(0, 0)).toBe(0);
    expect(r.offsetOf(1, 10 * second)).toBeCloseTo(100, 6); // 10 s / 100
    expect(r.offsetOf(1, 10 * second)).toBeCloseTo(100, 6); // asking again changes nothing
    expect(r.offsetOf(2, 5 * second)).toBeCloseTo(100, 6); // earlier than the one before: no wait
    expect(r.outOfOrder).toBe(1);
    expect(r.offsetOf(3, 11 * second)).toBeCloseTo(110, 6);
    expect(r.offsetOf(4, 86_400 * second)).toBeCloseTo(2_110, 6); // a day of silence → 2 s
    expect(() => r.offsetOf(5)).toThrow(RangeError);
  });

  it('fixed rate from an index and offset', () => {
    expect(new FixedRate(4, 10, 1000).offsetOf(12)).toBe(1500);
  });

  it('reads occurred_at in any shape protobufjs gives it', () => {
    expect(toMicros(5)).toBe(5);
    expect(toMicros(5n)).toBe(5);
    expect(toMicros({ toNumber: () => 7 })).toBe(7);
    expect(toMicros(undefined)).toBeNaN();
  });
});

describe('pace options', () => {
  it('parses --stages and durations', () => {
    expect(parseStages('1000:60s,20000:5m')).toEqual([
      { rate: 1000, durationMs: 60_000 },
      { rate: 20_000, durationMs: 300_000 },
    ]);
    expect(parseDuration('250ms', '--x')).toBe(250);
    expect(parseDuration('2', '--x')).toBe(2000);
    expect(parseDuration('1.5h', '--x')).toBe(5_400_000);
  });

  it('refuses what makes no sense, naming the option', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isSeedlineError(err) ? `${err.code} ${err.context.option}` : 'other';
      }
      return 'none';
    };
    expect(code(() => parseStages('fast'))).toBe('USAGE --stages');
    expect(code(() => parseStages('1000:60s,0:10s'))).toBe('USAGE --stages');
    expect(code(() => parseDuration('5 minutes', '--max-gap'))).toBe('USAGE --max-gap');
    expect(code(() => scheduleFor({ speed: 10, rate: 5 }))).toBe('USAGE --speed');
    expect(code(() => scheduleFor({ maxGapMs: 1000 }))).toBe('USAGE --max-gap');
    expect(code(() => scheduleFor({ speed: 0 }))).toBe('USAGE --speed');
    expect(scheduleFor({})).toBeUndefined();
    expect(scheduleFor({ rate: 10, stages: [{ rate: 20, durationMs: 1000 }] })?.rateAt(500)).toBeCloseTo(15, 6);
  });
});
