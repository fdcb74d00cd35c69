import type { MembersRow } from '../legacy-rows.ts';
import { isoMicros, timeProblem } from '../legacy-time.ts';

/**
 * The members module's rules for a Members row, apart from the module itself: the `members`
 * lookup applies the same rules (lookups/members.ts), and lookups are built below the modules.
 */

/** Why the member cannot be registered (no event for them at all), or null. */
export function registrationProblem(row: MembersRow): string | null {
  return timeProblem(row.RegisteredAt);
}

/** Why a DeletedAt cannot become members.member-deleted, or null when it can (or is NULL). */
export function deletionProblem(row: MembersRow): { reason: string; detail: string } | null {
  if (row.DeletedAt === null) return row.IsDeleted ? { reason: 'deleted-without-date', detail: 'IsDeleted is set but DeletedAt is NULL' } : null;
  const problem = timeProblem(row.DeletedAt);
  if (problem) return { reason: problem, detail: `DeletedAt is ${isoMicros(row.DeletedAt)}` };
  if (row.DeletedAt < row.RegisteredAt) {
    return {
      reason: 'deleted-before-registered',
      detail: `DeletedAt ${isoMicros(row.DeletedAt)} is before RegisteredAt ${isoMicros(row.RegisteredAt)}`,
    };
  }
  return null;
}

/** When members.member-deleted is emitted for the member, or null when it is not. */
export function memberDeletedAt(row: MembersRow): bigint | null {
  if (row.DeletedAt === null || registrationProblem(row) || deletionProblem(row)) return null;
  return row.DeletedAt;
}
