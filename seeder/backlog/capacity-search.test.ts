import { describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH, nextRate, verdictOf, type SearchState, type Verdict } from './capacity-search.ts';

/** Runs the search against a backend that keeps up to `limit` events/s; returns the rates tried and the state. */
function search(limit: number, publisherMax = Infinity, o = DEFAULT_SEARCH): { tried: number[]; state: SearchState } {
  const state: SearchState = { good: null, bad: null, publisherLimit: null };
  const tried: number[] = [];
  let rate: number | null = o.from;
  while (rate !== null && tried.length < 40) {
    tried.push(rate);
    const achieved = Math.min(rate, publisherMax);
    const growth = Math.max(0, achieved - limit);
    const { verdict } = verdictOf(rate, achieved, [{ queue: 'q', growth, spread: 0, n: 10, peak: 0 }], o);
    rate = nextRate(state, rate, verdict as Verdict, o);
    if (verdict === 'publisher-limit') state.publisherLimit = achieved;
  }
  return { tried, state };
}

describe('the capacity search', () => {
  it('doubles until a step falls behind, then bisects to within the precision', () => {
    const { tried, state } = search(1000);
    expect(tried.slice(0, 5)).toEqual([100, 200, 400, 800, 1600]);
    expect(state.good).toBeLessThanOrEqual(1000);
    expect(state.good! * 1.05).toBeGreaterThanOrEqual(1000);
    expect((state.bad! - state.good!) / state.good!).toBeLessThanOrEqual(0.05);
  });

  it('searches down when the first rate already falls behind', () => {
    const { tried, state } = search(30);
    expect(tried.slice(0, 3)).toEqual([100, 50, 25]);
    expect(state.good).toBeGreaterThan(28);
    expect(state.good).toBeLessThanOrEqual(31); // growth under 1/s counts as keeping up
  });

  it('stops at --to when the backend keeps up everywhere', () => {
    const { tried, state } = search(1e9, Infinity, { ...DEFAULT_SEARCH, to: 1000 });
    expect(tried).toEqual([100, 200, 400, 800, 1000]);
    expect(state.bad).toBeNull();
  });

  it('names the publisher as the limit when the rate is not reached but no queue grows', () => {
    const { tried, state } = search(1e9, 500);
    expect(tried).toEqual([100, 200, 400, 800]);
    expect(state.publisherLimit).toBe(500);
    expect(state.good).toBe(400);
  });

  it('a queue growing faster than 1 % of the rate falls behind; slower growth is noise', () => {
    const q = (growth: number) => [{ queue: 'q', growth, spread: 0, n: 10, peak: 0 }];
    expect(verdictOf(1000, 1000, q(9), DEFAULT_SEARCH).verdict).toBe('keeps-up');
    expect(verdictOf(1000, 1000, q(11), DEFAULT_SEARCH).verdict).toBe('falls-behind');
    expect(verdictOf(50, 50, q(0.9), DEFAULT_SEARCH).verdict).toBe('keeps-up'); // at least 1/s
  });
});
