/**
 * Checks for the legacy timestamps an event cannot be placed at. The legacy application wrote
 * `1900-01-01` where it had no date (SQL Server's "zero" datetime); extraction converts it from
 * the server's zone to UTC, so it may land up to a day either side of midnight. Anything else
 * before 1970-01-02 or from 2100 on is not a moment in a web site's history either.
 */

const MICROS_PER_DAY = 86_400_000_000n;
/** 1900-01-01T00:00:00Z in microseconds since the epoch. */
const SENTINEL_1900 = -2_208_988_800_000_000n;
/** Earliest and (exclusive) latest plausible time: 1970-01-02 and 2100-01-01. */
const EARLIEST = MICROS_PER_DAY;
const LATEST = 4_102_444_800_000_000n;

export type TimeProblem = 'sentinel-date' | 'date-out-of-range';

/** Why `micros` cannot be an event time, or null when it can. */
export function timeProblem(micros: bigint): TimeProblem | null {
  if (micros >= SENTINEL_1900 - MICROS_PER_DAY && micros < SENTINEL_1900 + MICROS_PER_DAY) return 'sentinel-date';
  if (micros < EARLIEST || micros >= LATEST) return 'date-out-of-range';
  return null;
}

/** UTC microseconds → ISO-8601 with microseconds, for reject details. */
export function isoMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const sub = ((micros % 1000n) + 1000n) % 1000n;
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) return `${micros}µs`;
  return date.toISOString().replace('Z', `${String(sub).padStart(3, '0')}Z`);
}

/** ISO-8601 (or anything Date parses) → UTC microseconds; for tests and fixtures. */
export function micros(iso: string): bigint {
  const match = /\.(\d{3})(\d{3})Z$/.exec(iso);
  const ms = Date.parse(match ? iso.replace(/\.(\d{3})(\d{3})Z$/, '.$1Z') : iso);
  if (Number.isNaN(ms)) throw new Error(`not a date: ${iso}`);
  return BigInt(ms) * 1000n + (match ? BigInt(match[2]!) : 0n);
}
