import type { MembersRow } from '../legacy-rows.ts';
import { isoMicros } from '../legacy-time.ts';
import { defineModule, type EventDraft } from '../module.ts';
import { deletionProblem, registrationProblem } from './member-rules.ts';

/**
 * Members → `members.member-registered` at RegisteredAt, and `members.member-deleted` at
 * DeletedAt when the member was deleted. Key: the member id.
 *
 * Dirty rows (each problem counted under its reason, all of a row's problems reported):
 * - `sentinel-date` / `date-out-of-range` on RegisteredAt: no event at all, there is no moment
 *   to register the member at (the `members` lookup marks them unregistered, so other modules
 *   reject rows referring to them).
 * - the same on DeletedAt, `deleted-before-registered`, or `deleted-without-date` (IsDeleted
 *   set, DeletedAt NULL): only the deletion is rejected; the registration is still emitted.
 * - `sentinel-birth-date`: BirthDate '1900-01-01' is the legacy "unknown"; the member is
 *   registered without a birth date, and the row is still reported.
 * - a Gender code outside 0..2 becomes GENDER_UNKNOWN (the profile is still worth having).
 */
const SENTINEL_DATE = '1900-01-01';
/** The columns every deletion problem is about (a reject record shows them). */
const DELETION_COLUMNS = ['IsDeleted', 'DeletedAt', 'RegisteredAt'];

export const members = defineModule({
  name: 'members',
  description: 'member accounts: registration and deletion',
  reads: ['Members'],
  emits: {
    'members.member-registered': 'seedline.events.members.MemberRegistered',
    'members.member-deleted': 'seedline.events.members.MemberDeleted',
  },
  // PasswordHash and RowVer are not used: credentials stay out of events and rejects.
  columns: { Members: ['MemberId', 'UserName', 'Email', 'Gender', 'BirthDate', 'City', 'CountryCode', 'Credits', 'IsDeleted', 'RegisteredAt', 'LastLoginAt', 'DeletedAt', 'ExternalId', 'Presentation'] },
  sensitive: ['PasswordHash'],
  primaryKey: (row: MembersRow) => row.MemberId,
  events(row, ctx) {
    const registeredProblem = registrationProblem(row);
    if (registeredProblem) ctx.reject(registeredProblem, `RegisteredAt is ${isoMicros(row.RegisteredAt)}`, ['RegisteredAt']);
    let birthDate = row.BirthDate;
    if (birthDate === SENTINEL_DATE) {
      ctx.reject('sentinel-birth-date', `BirthDate ${SENTINEL_DATE} taken as unknown`, ['BirthDate']);
      birthDate = null;
    }
    const deleted = deletionProblem(row);
    if (deleted && (deleted.reason === 'deleted-without-date' || !registeredProblem)) ctx.reject(deleted.reason, deleted.detail, DELETION_COLUMNS);
    if (registeredProblem) return [];
    const key = String(row.MemberId);
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
    if (row.DeletedAt !== null && !deleted) {
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
