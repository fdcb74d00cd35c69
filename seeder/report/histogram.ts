/**
 * A small log-linear (HDR-style) histogram of non-negative integers (we record µs): values
 * below 2^SUB_BITS are exact; above, each power of two is split into 2^SUB_BITS linear
 * buckets, so any recorded value is reported within 1/2^SUB_BITS (~1.6%) of itself, with
 * constant memory whatever the range (a few KB up to hours). Counts only: recording is O(1).
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;

export interface HistogramJson {
  /** Recorded values are in this unit. */
  readonly unit: 'us';
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  /** Non-empty buckets: [lowest value of the bucket, count]. */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

export class Histogram {
  private counts: number[] = [];
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private sum = 0;

  record(value: number): void {
    const v = Math.max(0, Math.round(value));
    const i = bucketOf(v);
    while (this.counts.length <= i) this.counts.push(0);
    this.counts[i]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  add(other: Histogram): void {
    while (this.counts.length < other.counts.length) this.counts.push(0);
    other.counts.forEach((c, i) => (this.counts[i]! += c));
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  reset(): void {
    this.counts = [];
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value at percentile `p` (0–100): the middle of its bucket, clamped to [min, max]; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const [lo, hi] = boundsOf(i);
        return Math.min(this.max, Math.max(this.min, (lo + hi) / 2));
      }
    }
    return this.max;
  }

  toJSON(): HistogramJson {
    const buckets: Array<[number, number]> = [];
    this.counts.forEach((c, i) => c > 0 && buckets.push([boundsOf(i)[0], c]));
    return {
      unit: 'us',
      count: this.count,
      min: this.count === 0 ? 0 : this.min,
      max: this.max,
      mean: Math.round(this.mean),
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      buckets,
    };
  }
}

function bucketOf(v: number): number {
  if (v < SUB) return v;
  const exp = Math.floor(Math.log2(v)); // ≥ SUB_BITS
  const shift = exp - SUB_BITS;
  return SUB + shift * SUB + (Math.floor(v / 2 ** shift) - SUB);
}

/** [lowest, highest] value that falls into bucket `i`. */
function boundsOf(i: number): [number, number] {
  if (i < SUB) return [i, i];
  const shift = Math.floor((i - SUB) / SUB);
  const sub = (i - SUB) % SUB;
  const lo = (SUB + sub) * 2 ** shift;
  return [lo, lo + 2 ** shift - 1];
}

/** µs → "850µs", "12.3ms", "4.2s". */
export function formatMicros(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 1 : 0)}ms`;
  return `${(us / 1_000_000).toFixed(1)}s`;
}
