import { defineModule } from './module.ts';
import { chat } from './modules/chat.ts';
import { members } from './modules/members.ts';
import type { MessagesRow } from './legacy-rows.ts';

/**
 * A module list for parallel-generate.test.ts, loaded by URL in the worker threads: `chat`
 * throws on message 77, as a buggy module would.
 */
export const throwingChat = defineModule({
  name: 'chat',
  description: 'chat, with a bug on message 77',
  reads: ['Messages'],
  lookups: ['members'],
  emits: chat.emits,
  primaryKey: (row: MessagesRow) => row.MessageId,
  events(row, ctx) {
    if (row.MessageId === 77n) throw new Error('boom on 77');
    return chat.events(row, ctx) as never;
  },
});

export const MODULES = [members, throwingChat];
