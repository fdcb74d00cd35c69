import { formatCount } from '../../common/progress.ts';

/** A rate or growth in messages/s: one decimal under 10 (a slope of 0.4/s is not "0"). */
export function formatRate(v: number): string {
  return Math.abs(v) < 10 ? v.toFixed(1) : formatCount(v);
}

/** A growth with its sign: "+48", "−3.5". */
export function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${formatRate(Math.abs(v))}`;
}
