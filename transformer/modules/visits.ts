import type { ProfileVisitsRow } from '../legacy-rows.ts';
import { defineModule } from '../module.ts';
import { checkMember, checkTime } from '../references.ts';

/**
 * ProfileVisits → `visits.profile-visited` at VisitedAt. Key: the VISITED member: the
 * consumer is "who looked at my profile", one list per visited member.
 *
 * Dirty rows (all problems reported; any drops the row):
 * - `sentinel-date` / `date-out-of-range` on VisitedAt;
 * - `visitor-…` / `visited-…` `missing`, `unregistered`, `deleted` (references.ts);
 * - `self-visit`: a member on their own profile is a page view, not a visit.
 * Anonymous visits are kept, flagged: whether to show them is the consumer's rule.
 */
export const visits = defineModule({
  name: 'visits',
  description: 'who visited whose profile',
  reads: ['ProfileVisits'],
  lookups: ['members'],
  emits: { 'visits.profile-visited': 'seedline.events.visits.ProfileVisited' },
  columns: { ProfileVisits: ['VisitId', 'VisitorId', 'VisitedId', 'VisitedAt', 'Source', 'IsAnonymous'] },
  primaryKey: (row: ProfileVisitsRow) => row.VisitId,
  events(row, ctx) {
    const timeOk = checkTime(ctx, 'VisitedAt', row.VisitedAt);
    const at = timeOk ? row.VisitedAt : null;
    const visitorOk = checkMember(ctx, 'visitor', row.VisitorId, at, 'VisitorId');
    const visitedOk = checkMember(ctx, 'visited', row.VisitedId, at, 'VisitedId');
    const self = row.VisitorId === row.VisitedId;
    if (self) ctx.reject('self-visit', `VisitorId = VisitedId = ${row.VisitorId}`, ['VisitorId', 'VisitedId']);
    if (!timeOk || !visitorOk || !visitedOk || self) return [];
    return [
      {
        type: 'visits.profile-visited',
        occurredAt: row.VisitedAt,
        key: String(row.VisitedId),
        payload: {
          visit_id: row.VisitId,
          visitor_id: row.VisitorId,
          visited_id: row.VisitedId,
          visited_at: row.VisitedAt,
          source: row.Source >= 1 && row.Source <= 4 ? row.Source : 0,
          anonymous: row.IsAnonymous,
        },
      },
    ];
  },
});
