import type { MembersRow } from '../legacy-rows.ts';
import { isoMicros, timeProblem } from '../legacy-time.ts';
import { defineModule, type EventDraft } from '../module.ts';

/**
 * Members → `members.member-registered` at RegisteredAt, and `members.member-deleted` at
 * DeletedAt when the member was deleted. Key: the member id.
 *
 * Dirty rows (each counted under its reason):
 * - `sentinel-date` / `date-out-of-range` on RegisteredAt: the whole row is rejected, there is
 *   no moment to register the member at.
 * - the same on DeletedAt, `deleted-before-registered`, or `deleted-without-date` (IsDeleted
 *   set, DeletedAt NULL): only the deletion is rejected; the registration is still emitted.
 * - `sentinel-birth-date`: BirthDate '1900-01-01' is the legacy "unknown"; the member is
 *   registered without a birth date, and the row is still reported.
 * - a Gender code outside 0..2 becomes GENDER_UNKNOWN (the profile is still worth having).
 */
const SENTINEL_DATE = '1900-01-01';

export const members = defineModule({
  name: 'members',
  description: 'member accounts: registration and deletion',
  reads: ['Members'],
  emits: {
    'members.member-registered': 'seedline.events.members.MemberRegistered',
    'members.member-deleted': 'seedline.events.members.MemberDeleted',
  },
  primaryKey: (row: MembersRow) => row.MemberId,
  events(row, ctx) {
    const registeredProblem = timeProblem(row.RegisteredAt);
    if (registeredProblem) return ctx.reject(registeredProblem, `RegisteredAt is ${isoMicros(row.RegisteredAt)}`);
    const key = String(row.MemberId);
    let birthDate = row.BirthDate;
    if (birthDate === SENTINEL_DATE) {
      ctx.reject('sentinel-birth-date', `BirthDate ${SENTINEL_DATE} taken as unknown`);
      birthDate = null;
    }
    const events: EventDraft<'members.member-registered' | 'members.member-deleted'>[] = [
      {
        type: 'members.member-registered',
        occurredAt: row.RegisteredAt,
        key,
        payload: {
          member_id: row.MemberId,
          external_id: row.ExternalId,
          user_name: row.UserName,
          email: row.Email,
          gender: row.Gender >= 0 && row.Gender <= 2 ? row.Gender : 0,
          birth_date: birthDate,
          city: row.City,
          country_code: row.CountryCode,
          credits: row.Credits,
          registered_at: row.RegisteredAt,
          last_login_at: row.LastLoginAt,
          presentation: row.Presentation,
        },
      },
    ];
    if (row.DeletedAt === null) {
      if (row.IsDeleted) ctx.reject('deleted-without-date', 'IsDeleted is set but DeletedAt is NULL');
      return events;
    }
    const deletedProblem = timeProblem(row.DeletedAt);
    if (deletedProblem) {
      ctx.reject(deletedProblem, `DeletedAt is ${isoMicros(row.DeletedAt)}`);
    } else if (row.DeletedAt < row.RegisteredAt) {
      ctx.reject(
        'deleted-before-registered',
        `DeletedAt ${isoMicros(row.DeletedAt)} is before RegisteredAt ${isoMicros(row.RegisteredAt)}`,
      );
    } else {
      events.push({
        type: 'members.member-deleted',
        occurredAt: row.DeletedAt,
        key,
        payload: { member_id: row.MemberId, deleted_at: row.DeletedAt },
      });
    }
    return events;
  },
});
