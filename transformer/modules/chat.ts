import type { MessagesRow } from '../legacy-rows.ts';
import { isoMicros, timeProblem } from '../legacy-time.ts';
import { defineModule } from '../module.ts';

/**
 * Messages → `chat.message-sent` at SentAt. Key: the sender's member id, so a member's
 * messages arrive in the order they were written.
 *
 * Dirty rows are rejected whole (each counted under its reason):
 * - `sentinel-date` / `date-out-of-range` on SentAt: no moment to place the message at.
 * - `null-body`: Body is NULL. The legacy schema has no attachments, so such a row carries
 *   nothing a reader could see; an empty string (not NULL) is a real, empty message and passes.
 * - `invalid-member-id`: SenderId or RecipientId is not a positive id.
 * Messages naming a deleted or unknown member are not detected yet (needs a lookup of Members).
 */
export const chat = defineModule({
  name: 'chat',
  description: 'private messages between members',
  reads: ['Messages'],
  emits: {
    'chat.message-sent': 'seedline.events.chat.MessageSent',
  },
  primaryKey: (row: MessagesRow) => row.MessageId,
  events(row, ctx) {
    const problem = timeProblem(row.SentAt);
    if (problem) return ctx.reject(problem, `SentAt is ${isoMicros(row.SentAt)}`);
    if (row.Body === null) return ctx.reject('null-body', 'Body is NULL');
    if (row.SenderId <= 0 || row.RecipientId <= 0) {
      return ctx.reject('invalid-member-id', `SenderId ${row.SenderId}, RecipientId ${row.RecipientId}`);
    }
    return [
      {
        type: 'chat.message-sent',
        occurredAt: row.SentAt,
        key: String(row.SenderId),
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
  },
});
