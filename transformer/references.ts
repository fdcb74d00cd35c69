import { isoMicros, timeProblem } from './legacy-time.ts';
import type { RowContext } from './module.ts';

/**
 * The checks most modules share, each reporting what it finds with `ctx.reject` and returning
 * whether the value is usable. Modules run every check on a row before deciding (instead of
 * stopping at the first problem), so each dirty case is counted under its own reason even when
 * a row has several.
 */

/**
 * A legacy time that must place an event: rejected as `sentinel-date` (1900-01-01) or
 * `date-out-of-range`, with `prefix-` when the row has more than one time column to tell apart.
 */
export function checkTime(ctx: RowContext, column: string, micros: bigint, prefix?: string): boolean {
  const problem = timeProblem(micros);
  if (!problem) return true;
  ctx.reject(prefix ? `${prefix}-${problem}` : problem, `${column} is ${isoMicros(micros)}`, [column]);
  return false;
}

/**
 * A reference to member `id` in the role `role` (sender, recipient, member, ...) by an event
 * at `at` (null: the row's time is unusable, so only existence is checked), found in the
 * row's `column` (the reject record shows it). Rejected as:
 * - `<role>-missing`: no Members row (purged, or never existed);
 * - `<role>-unregistered`: the member's own row was rejected, so the new system never hears of them;
 * - `<role>-registered-later`: the member registers only after `at`. The new system hears of
 *   them at members.member-registered, which comes later in the stream, so the event would
 *   refer to someone it does not know yet. Not re-timed: moving a favorite to the moment of
 *   registration would invent a time and reorder the member's history; the legacy row's time
 *   is what is wrong (clock, import, a reused id), and the reject names it.
 * - `<role>-deleted`: the member was deleted at or before `at` (members.member-deleted sorts
 *   first, so the event would refer to someone who no longer exists). Activity BEFORE the
 *   deletion is history and is kept: consumers forget it when the deletion arrives.
 */
export function checkMember(ctx: RowContext, role: string, id: number, at: bigint | null, column: string): boolean {
  const members = ctx.lookups.members;
  const problem = members.problemAt(id, at);
  if (!problem) return true;
  const detail =
    problem === 'missing'
      ? `${role} ${id} has no Members row`
      : problem === 'unregistered'
        ? `${role} ${id}'s Members row was rejected (no registration event)`
        : problem === 'registered-later'
          ? `${role} ${id} registered at ${isoMicros(members.registeredAt(id)!)}, after ${isoMicros(at!)}`
          : `${role} ${id} was deleted at ${isoMicros(members.deletedAt(id)!)}, not after ${isoMicros(at!)}`;
  ctx.reject(`${role}-${problem}`, detail, [column]);
  return false;
}

/**
 * A follow-up of an accepted row (a message read, a flirt answered) at `at`: each member it
 * refers to must still exist then. One deleted at or before `at` drops the follow-up only, as
 * `<what>-after-<role>-deleted` (chat.message-read after the sender deleted their account
 * would refer to a member the new system has forgotten). Registration needs no check: the
 * follow-up comes after the row's own time, which passed checkMember.
 */
export function checkFollowUp(ctx: RowContext, what: string, at: bigint, refs: readonly (readonly [role: string, id: number, column: string])[], timeColumn: string): boolean {
  const members = ctx.lookups.members;
  let ok = true;
  for (const [role, id, column] of refs) {
    if (members.problemAt(id, at) !== 'deleted') continue;
    ctx.reject(`${what}-after-${role}-deleted`, `${role} ${id} was deleted at ${isoMicros(members.deletedAt(id)!)}, not after ${timeColumn} ${isoMicros(at)}`, [column, timeColumn]);
    ok = false;
  }
  return ok;
}
