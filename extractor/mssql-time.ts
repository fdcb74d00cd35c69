import { SeedlineError } from '../common/errors.ts';

/**
 * Date-time arithmetic for the SQL Server adapter, exact to the microsecond (BigInt).
 *
 * SQL Server's AT TIME ZONE takes Windows zone names and exists only from 2016 on, so naive
 * datetimes are read as ISO text and converted here from the IANA `--source-timezone`, with
 * Node's ICU time-zone data and PostgreSQL's rules for the hours a DST change makes invalid
 * or ambiguous (so both adapters give the same number):
 * - a wall time in a gap (spring forward) takes the offset in force before the change;
 * - a wall time that happens twice (fall back) takes the offset in force after it.
 */

const MICROS_PER_SECOND = 1_000_000n;
const DAY_SECONDS = 86_400;

/** Days since 1970-01-01 of a proleptic Gregorian date (any year; Date.UTC maps years 0–99 to 19xx). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]00:00)?$/;

/**
 * `2021-03-28T03:30:00.1234567` (CONVERT style 126) → µs since 1970 of that wall clock read
 * as if it were UTC. Digits beyond the microsecond (datetime2(7)) are cut: toward the past.
 */
export function parseWallMicros(text: string, what: string): bigint {
  const m = ISO.exec(text.trim());
  if (!m) {
    throw new SeedlineError('SOURCE_QUERY', `${what}: the server sent ${JSON.stringify(text)} where an ISO date-time was expected`, {
      hint: 'this is a bug in the SQL Server adapter; please report it with the column type',
    });
  }
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const days = daysFromCivil(Number(y), Number(mo), Number(d));
  const seconds = BigInt(days) * BigInt(DAY_SECONDS) + BigInt(Number(h) * 3600 + Number(mi) * 60 + Number(s));
  return seconds * MICROS_PER_SECOND + BigInt((frac + '000000').slice(0, 6));
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, f);
  }
  return f;
}

/** Throws USAGE unless `zone` is an IANA zone this Node knows. */
export function assertTimeZone(zone: string): void {
  try {
    formatFor(zone);
  } catch {
    throw new SeedlineError('USAGE', `--source-timezone ${zone} is not a time zone Node knows`, {
      option: 'source-timezone',
      hint: 'use an IANA zone name such as Europe/Helsinki or UTC (not a Windows name like "FLE Standard Time")',
    });
  }
}

// ICU prints years before 1 AD with an era we do not ask for; zones had constant local mean time then.
const EARLIEST = daysFromCivil(1, 1, 2) * DAY_SECONDS;

/** The zone's UTC offset in seconds at an instant (seconds since 1970). */
export function offsetAt(zone: string, epochSeconds: number): number {
  const at = Math.max(epochSeconds, EARLIEST);
  const parts: Record<string, number> = {};
  for (const p of formatFor(zone).formatToParts(new Date(at * 1000))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = daysFromCivil(parts.year!, parts.month!, parts.day!) * DAY_SECONDS + parts.hour! * 3600 + parts.minute! * 60 + parts.second!;
  return wall - at;
}

/** Converts wall clocks of one zone to UTC; caches the offset per wall-clock hour away from DST changes. */
export class ZoneConverter {
  readonly zone: string;
  private readonly steady = new Map<number, number>();

  constructor(zone: string) {
    assertTimeZone(zone);
    this.zone = zone;
  }

  /** µs of a wall clock (as from `parseWallMicros`) → µs since 1970 UTC. */
  toUtc(wallMicros: bigint): bigint {
    const wall = Number(wallMicros / MICROS_PER_SECOND) - (wallMicros % MICROS_PER_SECOND < 0n ? 1 : 0);
    return wallMicros - BigInt(this.offsetForWall(wall)) * MICROS_PER_SECOND;
  }

  private offsetForWall(wall: number): number {
    const hour = Math.floor(wall / 3600);
    const cached = this.steady.get(hour);
    if (cached !== undefined) return cached;
    const start = hour * 3600;
    // The same offset 36 h before and after the hour: no change near it (changes are months apart).
    const before = offsetAt(this.zone, start - 36 * 3600);
    const after = offsetAt(this.zone, start + 37 * 3600);
    if (before === after) {
      if (this.steady.size > 200_000) this.steady.clear();
      this.steady.set(hour, before);
      return before;
    }
    const validBefore = offsetAt(this.zone, wall - before) === before;
    const validAfter = offsetAt(this.zone, wall - after) === after;
    if (validBefore && validAfter) return after; // ambiguous (fall back): the later offset
    if (validAfter) return after;
    return before; // valid before only, or in the gap (spring forward): the earlier offset
  }
}
