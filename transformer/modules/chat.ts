import type { MessagesRow } from '../legacy-rows.ts';
import { isoMicros, timeProblem } from '../legacy-time.ts';
import { defineModule, type EventDraft } from '../module.ts';
import { checkFollowUp, checkMember, checkTime } from '../references.ts';

/**
 * Messages → `chat.message-sent` at SentAt, and `chat.message-read` at ReadAt when the
 * recipient read it. Key of both: the sender's member id, so a member's messages arrive in the
 * order they were written and a read never overtakes its message.
 *
 * Dirty rows (every problem of a row is reported, each under its reason):
 * - `sentinel-date` / `date-out-of-range` on SentAt: no moment to place the message at.
 * - `null-body`: Body is NULL. The legacy schema has no attachments, so such a row carries
 *   nothing a reader could see; an empty string (not NULL) is a real, empty message and passes.
 * - `sender-…` / `recipient-…` `missing`, `unregistered`, `deleted` (references.ts, `members`
 *   lookup): a message from or to someone the new system does not know at SentAt.
 * Any of these drops the whole row. Only the read is dropped for:
 * - `read-before-sent` (ReadAt earlier than SentAt), `read-sentinel-date` / `read-date-out-of-range`;
 * - `read-after-sender-deleted` / `read-after-reader-deleted`: read at or after the sender or
 *   the reader was deleted; the new system has forgotten them by then (references.ts).
 * A sender or recipient who registers after SentAt is `…-registered-later`: the whole row.
 */
export const chat = defineModule({
  name: 'chat',
  description: 'private messages between members, and when they were read',
  reads: ['Messages'],
  lookups: ['members'],
  emits: {
    'chat.message-sent': 'seedline.events.chat.MessageSent',
    'chat.message-read': 'seedline.events.chat.MessageRead',
  },
  columns: { Messages: ['MessageId', 'SenderId', 'RecipientId', 'Body', 'SentAt', 'ReadAt', 'IsDeletedBySender', 'IsDeletedByRecipient'] },
  primaryKey: (row: MessagesRow) => row.MessageId,
  events(row, ctx) {
    const sentOk = checkTime(ctx, 'SentAt', row.SentAt);
    const at = sentOk ? row.SentAt : null;
    const bodyOk = row.Body !== null || (ctx.reject('null-body', 'Body is NULL', ['Body']), false);
    const senderOk = checkMember(ctx, 'sender', row.SenderId, at, 'SenderId');
    const recipientOk = checkMember(ctx, 'recipient', row.RecipientId, at, 'RecipientId');
    let readAt = row.ReadAt;
    if (readAt !== null && !checkTime(ctx, 'ReadAt', readAt, 'read')) readAt = null;
    if (readAt !== null && sentOk && readAt < row.SentAt) {
      ctx.reject('read-before-sent', `ReadAt ${isoMicros(readAt)} is before SentAt ${isoMicros(row.SentAt)}`, ['SentAt', 'ReadAt']);
      readAt = null;
    }
    if (!sentOk || !bodyOk || !senderOk || !recipientOk) return [];
    if (readAt !== null && !checkFollowUp(ctx, 'read', readAt, [['sender', row.SenderId, 'SenderId'], ['reader', row.RecipientId, 'RecipientId']], 'ReadAt')) readAt = null;
    const key = String(row.SenderId);
    const events: EventDraft<'chat.message-sent' | 'chat.message-read'>[] = [
      {
        type: 'chat.message-sent',
        occurredAt: row.SentAt,
        key,
        payload: {
          message_id: row.MessageId,
          sender_id: row.SenderId,
          recipient_id: row.RecipientId,
          body: row.Body,
          sent_at: row.SentAt,
          deleted_by_sender: row.IsDeletedBySender,
          deleted_by_recipient: row.IsDeletedByRecipient,
        },
      },
    ];
    if (readAt !== null && timeProblem(readAt) === null) {
      events.push({
        type: 'chat.message-read',
        occurredAt: readAt,
        key,
        payload: { message_id: row.MessageId, sender_id: row.SenderId, reader_id: row.RecipientId, read_at: readAt },
      });
    }
    return events;
  },
});
