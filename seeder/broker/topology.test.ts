import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { isSeedlineError } from '../../common/errors.ts';
import { DEFAULT_URL } from './broker.ts';
import { checkTopology, declareTopology, deleteTopology, loadTopology, type Topology } from './topology.ts';
import { deleteExchange, uniqueName } from '../test-helpers.ts';

describe('topology', () => {
  it('the committed example is valid and has one queue per module of the fixture', async () => {
    const t = await loadTopology(join(import.meta.dirname, '..', 'topology.example.json'));
    const names = t.queues.map((q) => q.name);
    for (const m of ['members', 'photos', 'chat', 'flirts', 'favorites', 'visits', 'blocks', 'likes']) expect(names).toContain(`staging.${m}`);
    expect(JSON.parse(await readFile(join(import.meta.dirname, '..', 'topology.example.json'), 'utf8')).queues).toHaveLength(t.queues.length);
  });

  it('refuses a broken file with CONFIG_INVALID naming the problem', () => {
    const code = (data: unknown) => {
      try {
        checkTopology(data, 't.json');
        return 'ok';
      } catch (err) {
        return isSeedlineError(err, 'CONFIG_INVALID') ? 'CONFIG_INVALID' : 'other';
      }
    };
    expect(code({})).toBe('CONFIG_INVALID');
    expect(code({ queues: [{ name: 'a', bindings: [] }] })).toBe('CONFIG_INVALID');
    expect(code({ queues: [{ name: 'a', type: 'fifo', bindings: ['#'] }] })).toBe('CONFIG_INVALID');
    expect(code({ queues: [{ name: 'a', type: 'stream', durable: false, bindings: ['#'] }] })).toBe('CONFIG_INVALID');
    expect(code({ queues: [{ name: 'a', type: 'stream', bindings: ['#'] }] })).toBe('ok');
    expect(code({ queues: [{ name: 'a', durable: false, bindings: ['#'] }] })).toBe('CONFIG_INVALID');
    expect(code({ queues: [{ name: 'a', bindings: ['#'] }, { name: 'a', bindings: ['x'] }] })).toBe('CONFIG_INVALID');
    expect(code({ queues: [{ name: 'a', type: 'classic', durable: false, bindings: ['#'] }] })).toBe('ok');
  });

  it('declares quorum and classic queues with their bindings on the real RabbitMQ, idempotently', async () => {
    const exchange = uniqueName('seedline-t');
    const members = uniqueName('seedline-t-members');
    const chat = uniqueName('seedline-t-chat');
    const topology: Topology = {
      queues: [
        { name: members, type: 'quorum', bindings: ['members.#'] },
        { name: chat, type: 'classic', bindings: ['chat.#', 'members.member-deleted'] },
      ],
    };
    const connection = await amqp.connect(DEFAULT_URL);
    try {
      expect(await declareTopology(DEFAULT_URL, exchange, topology)).toEqual({ queues: 2, bindings: 3 });
      expect(await declareTopology(DEFAULT_URL, exchange, topology)).toEqual({ queues: 2, bindings: 3 });
      const channel = await connection.createChannel();
      channel.publish(exchange, 'members.member-deleted', Buffer.from('x'));
      channel.publish(exchange, 'chat.message-sent', Buffer.from('y'));
      channel.publish(exchange, 'likes.photo-liked', Buffer.from('z'));
      const count = async (q: string) => {
        for (let i = 0; i < 50; i++) {
          const { messageCount } = await channel.checkQueue(q);
          if (messageCount >= 1) return messageCount;
          await new Promise((r) => setTimeout(r, 50));
        }
        return 0;
      };
      expect(await count(members)).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(await count(chat)).toBe(2);
      // Redeclaring a queue with another type is refused, naming it.
      const err = await declareTopology(DEFAULT_URL, exchange, { queues: [{ name: chat, type: 'quorum', bindings: ['#'] }] }).catch((e: unknown) => e);
      expect(isSeedlineError(err, 'BROKER_REFUSED')).toBe(true);
      expect((err as Error).message).toContain(chat);
    } finally {
      await connection.close().catch(() => undefined);
      await deleteTopology(DEFAULT_URL, topology);
      await deleteExchange(exchange);
    }
  });
});
