import type { FlirtsRow } from '../legacy-rows.ts';
import { isoMicros } from '../legacy-time.ts';
import { defineModule, type EventDraft } from '../module.ts';
import { checkFollowUp, checkMember, checkTime } from '../references.ts';
import { RecentKeys } from './recent-keys.ts';

/**
 * Flirts → `flirts.flirt-sent` at SentAt (key: the sender) and `flirts.flirt-answered` at
 * AnsweredAt (key: the sender too, so the answer never overtakes the flirt).
 *
 * Dirty rows (all of a row's problems reported; any of the first three drops the row):
 * - `sentinel-date` / `date-out-of-range` on SentAt;
 * - `sender-…` / `recipient-…` `missing`, `unregistered`, `deleted` (references.ts);
 * - `duplicate-flirt`: the same sender, recipient and type as a flirt at most 2 s earlier —
 *   a double click, one flirt for the recipient. Found with a bounded window of recent flirts
 *   (rows arrive in FlirtId order, which follows time closely enough for a 2 s window).
 * - `answered-before-sent`, `answered-sentinel-date`, `answered-after-sender-deleted` /
 *   `answered-after-recipient-deleted`: only the answer is dropped.
 * A FlirtType outside 1..3 becomes FLIRT_TYPE_UNKNOWN.
 */
const DOUBLE_CLICK_MICROS = 2_000_000n;

export const flirts = defineModule({
  name: 'flirts',
  description: 'one-click flirts (wink, smile, rose) and their answers',
  reads: ['Flirts'],
  lookups: ['members'],
  emits: {
    'flirts.flirt-sent': 'seedline.events.flirts.FlirtSent',
    'flirts.flirt-answered': 'seedline.events.flirts.FlirtAnswered',
  },
  state: () => new RecentKeys(DOUBLE_CLICK_MICROS),
  columns: { Flirts: ['FlirtId', 'SenderId', 'RecipientId', 'FlirtType', 'SentAt', 'AnsweredAt'] },
  primaryKey: (row: FlirtsRow) => row.FlirtId,
  events(row, ctx) {
    const sentOk = checkTime(ctx, 'SentAt', row.SentAt);
    const at = sentOk ? row.SentAt : null;
    const senderOk = checkMember(ctx, 'sender', row.SenderId, at, 'SenderId');
    const recipientOk = checkMember(ctx, 'recipient', row.RecipientId, at, 'RecipientId');
    let duplicate = false;
    if (sentOk) {
      const earlier = ctx.state.seen(`${row.SenderId}>${row.RecipientId}:${row.FlirtType}`, row.SentAt);
      if (earlier !== null) {
        duplicate = true;
        ctx.reject('duplicate-flirt', `same sender, recipient and type as a flirt at ${isoMicros(earlier)}`, ['SenderId', 'RecipientId', 'FlirtType', 'SentAt']);
      }
    }
    let answeredAt = row.AnsweredAt;
    if (answeredAt !== null && !checkTime(ctx, 'AnsweredAt', answeredAt, 'answered')) answeredAt = null;
    if (answeredAt !== null && sentOk && answeredAt < row.SentAt) {
      ctx.reject('answered-before-sent', `AnsweredAt ${isoMicros(answeredAt)} is before SentAt ${isoMicros(row.SentAt)}`, ['SentAt', 'AnsweredAt']);
      answeredAt = null;
    }
    if (!sentOk || !senderOk || !recipientOk || duplicate) return [];
    if (answeredAt !== null && !checkFollowUp(ctx, 'answered', answeredAt, [['sender', row.SenderId, 'SenderId'], ['recipient', row.RecipientId, 'RecipientId']], 'AnsweredAt')) answeredAt = null;
    const key = String(row.SenderId);
    const flirtType = row.FlirtType >= 1 && row.FlirtType <= 3 ? row.FlirtType : 0;
    const events: EventDraft<'flirts.flirt-sent' | 'flirts.flirt-answered'>[] = [
      {
        type: 'flirts.flirt-sent',
        occurredAt: row.SentAt,
        key,
        payload: { flirt_id: row.FlirtId, sender_id: row.SenderId, recipient_id: row.RecipientId, flirt_type: flirtType, sent_at: row.SentAt },
      },
    ];
    if (answeredAt !== null) {
      events.push({
        type: 'flirts.flirt-answered',
        occurredAt: answeredAt,
        key,
        payload: { flirt_id: row.FlirtId, sender_id: row.SenderId, recipient_id: row.RecipientId, answered_at: answeredAt },
      });
    }
    return events;
  },
});
