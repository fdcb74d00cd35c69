import type { BlocksRow } from '../legacy-rows.ts';
import { defineModule } from '../module.ts';
import { checkMember, checkTime } from '../references.ts';

/**
 * Blocks → `blocks.member-blocked` at BlockedAt. Key: the blocker.
 * Primary key (BlockerId, BlockedId): one row per pair.
 *
 * Dirty rows (all problems reported; any drops the row):
 * - `sentinel-date` / `date-out-of-range` on BlockedAt;
 * - `blocker-…` / `blocked-…` `missing`, `unregistered`, `deleted` (references.ts);
 * - `blocked-self`: BlockerId = BlockedId (the legacy UI did not stop it; it means nothing).
 */
export const blocks = defineModule({
  name: 'blocks',
  description: 'members blocking other members',
  reads: ['Blocks'],
  lookups: ['members'],
  emits: { 'blocks.member-blocked': 'seedline.events.blocks.MemberBlocked' },
  columns: { Blocks: ['BlockerId', 'BlockedId', 'BlockedAt', 'Reason', 'ReportedToModerator'] },
  primaryKey: (row: BlocksRow) => [row.BlockerId, row.BlockedId],
  events(row, ctx) {
    const timeOk = checkTime(ctx, 'BlockedAt', row.BlockedAt);
    const at = timeOk ? row.BlockedAt : null;
    const self = row.BlockerId === row.BlockedId;
    if (self) ctx.reject('blocked-self', `BlockerId = BlockedId = ${row.BlockerId}`, ['BlockerId', 'BlockedId']);
    const blockerOk = checkMember(ctx, 'blocker', row.BlockerId, at, 'BlockerId');
    const blockedOk = self || checkMember(ctx, 'blocked', row.BlockedId, at, 'BlockedId');
    if (!timeOk || !blockerOk || !blockedOk || self) return [];
    return [
      {
        type: 'blocks.member-blocked',
        occurredAt: row.BlockedAt,
        key: String(row.BlockerId),
        payload: {
          blocker_id: row.BlockerId,
          blocked_id: row.BlockedId,
          blocked_at: row.BlockedAt,
          reason: row.Reason,
          reported_to_moderator: row.ReportedToModerator,
        },
      },
    ];
  },
});
