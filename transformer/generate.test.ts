import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEncoder } from './event-encoder.ts';
import { generateEvents, newStats } from './generate.ts';
import type { MessagesRow } from './legacy-rows.ts';
import { defineModule } from './module.ts';
import { RejectLog } from './rejects.ts';
import { occurredAtOf, sortRecord, type SortFields } from './sort-record.ts';
import { messageRow, tempDir, writeDump } from './test-support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A chat-like module whose output per row is chosen by the test. */
function chatModule(events: (row: MessagesRow) => { type: 'chat.message-read' | 'chat.message-sent'; at: bigint }[]) {
  return defineModule({
    name: 'chat',
    description: 'test module',
    reads: ['Messages'],
    emits: { 'chat.message-sent': 'seedline.events.chat.MessageSent', 'chat.message-read': 'seedline.events.chat.MessageRead' },
    primaryKey: (row: MessagesRow) => row.MessageId,
    events: (row) =>
      events(row).map(({ type, at }) => ({
        type,
        occurredAt: at,
        key: String(row.SenderId),
        payload: type === 'chat.message-read' ? { message_id: row.MessageId, read_at: at } : { message_id: row.MessageId, body: 'x', sent_at: at },
      })),
  });
}

async function run(module: ReturnType<typeof chatModule>) {
  await writeDump(join(dir, 'dump'), { Messages: [1n, 2n, 3n].map((id) => messageRow({ MessageId: id })) });
  const rejects = new RejectLog(null);
  const emitted: { fields: SortFields; record: Buffer }[] = [];
  await generateEvents({
    dump: join(dir, 'dump'),
    modules: [{ module, index: 2 }],
    encoder: await EventEncoder.create([module]),
    rejects,
    lookups: {},
    // Copies, as a sink must: the fields object and the envelope are reused after emit returns.
    emit: (fields, envelope) => void emitted.push({ fields: { ...fields }, record: sortRecord(fields, envelope) }),
    checkpoint: () => {},
    stats: newStats(),
  });
  return emitted;
}

describe('generateEvents', () => {
  it('hands the sink each event with its own time, key and position in its row', async () => {
    const emitted = await run(
      chatModule((row) => [
        { type: 'chat.message-sent', at: 1000n * row.MessageId },
        { type: 'chat.message-read', at: 1000n * row.MessageId + 7n },
      ]),
    );
    expect(emitted.map((e) => [e.fields.pk, e.fields.eventIndex, e.fields.occurredAt, e.fields.moduleIndex, e.fields.table])).toEqual([
      [1n, 0, 1000n, 2, 'Messages'],
      [1n, 1, 1007n, 2, 'Messages'],
      [2n, 0, 2000n, 2, 'Messages'],
      [2n, 1, 2007n, 2, 'Messages'],
      [3n, 0, 3000n, 2, 'Messages'],
      [3n, 1, 3007n, 2, 'Messages'],
    ]);
    expect(emitted.map((e) => occurredAtOf(e.record))).toEqual([1000n, 1007n, 2000n, 2007n, 3000n, 3007n]);
  });

  it('fails with TRANSFORM_FAILED when a row gives two events of one type (their ids would collide)', async () => {
    const twice = chatModule((row) =>
      row.MessageId === 2n
        ? [
            { type: 'chat.message-sent', at: 5n },
            { type: 'chat.message-read', at: 6n },
            { type: 'chat.message-sent', at: 7n },
          ]
        : [{ type: 'chat.message-sent', at: 5n }],
    );
    await expect(run(twice)).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      message: expect.stringMatching(/Messages row 2 .*chat\.message-sent, chat\.message-read, chat\.message-sent/),
    });
  });
});
