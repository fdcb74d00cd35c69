/**
 * A sliding window of recently seen keys with their times, for spotting near-duplicate rows
 * (double clicks) in a table read in id order. Bounded: keys older than `window` behind the
 * newest time seen are forgotten, and at most `maxKeys` are kept whatever the times.
 */
export class RecentKeys {
  private readonly window: bigint;
  private readonly maxKeys: number;
  private readonly times = new Map<string, bigint>();
  private newest: bigint | null = null;

  constructor(window: bigint, maxKeys = 100_000) {
    this.window = window;
    this.maxKeys = maxKeys;
  }

  /**
   * Records `key` at `at`; returns the time it was last seen when that is within the window
   * before (or at) `at`, else null.
   */
  seen(key: string, at: bigint): bigint | null {
    const previous = this.times.get(key);
    const duplicate = previous !== undefined && previous <= at && at - previous <= this.window ? previous : null;
    this.times.delete(key); // re-insert: Map order stays oldest-first
    this.times.set(key, at);
    if (this.newest === null || at > this.newest) this.newest = at;
    this.evict();
    return duplicate;
  }

  private evict(): void {
    const horizon = this.newest! - this.window;
    for (const [key, time] of this.times) {
      if (this.times.size <= this.maxKeys && time >= horizon) break;
      this.times.delete(key);
    }
  }
}
