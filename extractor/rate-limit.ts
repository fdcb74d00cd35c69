/**
 * `--max-rows-per-second`: one small token bucket shared by every worker of a run (the
 * Benthos rate limiter's shape). A worker takes as many tokens as rows it just read and
 * sleeps when the bucket is in debt; the next page is not asked for until then, so the
 * server is held to the rate, give or take the one page each worker reads ahead.
 */
export class RowRateLimit {
  private readonly perSecond: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(rowsPerSecond: number, now: () => number = () => performance.now()) {
    if (!(rowsPerSecond > 0)) throw new RangeError(`rows per second must be positive, got ${rowsPerSecond}`);
    this.perSecond = rowsPerSecond;
    // At most one second's worth saved up: an idle pause must not turn into a burst.
    this.burst = rowsPerSecond;
    this.tokens = rowsPerSecond;
    this.now = now;
    this.last = now();
  }

  /** Takes `rows` tokens; returns how many ms to wait before reading on (0: go ahead). */
  access(rows: number): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    this.tokens -= rows;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.perSecond) * 1000;
  }

  /** Takes `rows` tokens and sleeps as long as the bucket says (stops early on abort). */
  async take(rows: number, signal?: AbortSignal): Promise<void> {
    const ms = this.access(rows);
    if (ms > 0) await sleep(ms, signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
