/**
 * Robust growth of a backlog: the Theil–Sen estimator (the median of the slopes between every
 * pair of samples). One slow sample, a consumer's hiccup or a prefetch refill moves it little,
 * where a least-squares line would follow it.
 */

export interface Point {
  /** Seconds. */
  readonly t: number;
  readonly v: number;
}

export interface Slope {
  /** Median pairwise slope (units per second); 0 with fewer than two points. */
  readonly slope: number;
  /** The 25th and 75th percentile of the pairwise slopes: how much the samples disagree. */
  readonly low: number;
  readonly high: number;
  /** Points it was computed from. */
  readonly n: number;
}

/** More points than this are thinned evenly first: the pairs grow with the square. */
const MAX_POINTS = 120;

export function theilSen(points: readonly Point[]): Slope {
  const pts = thin(points, MAX_POINTS);
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dt = pts[j]!.t - pts[i]!.t;
      if (dt > 1e-9) slopes.push((pts[j]!.v - pts[i]!.v) / dt);
    }
  }
  if (slopes.length === 0) return { slope: 0, low: 0, high: 0, n: pts.length };
  slopes.sort((a, b) => a - b);
  return { slope: quantile(slopes, 0.5), low: quantile(slopes, 0.25), high: quantile(slopes, 0.75), n: pts.length };
}

/** Half the interquartile range of the pairwise slopes: the "±" printed beside a slope. */
export function spreadOf(s: Slope): number {
  return (s.high - s.low) / 2;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function thin(points: readonly Point[], max: number): readonly Point[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]!);
}
