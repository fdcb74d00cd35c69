import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { isSeedlineError } from '../../common/errors.ts';
import { BackendSim, moduleEventTypes, parseSimQueue } from './backend-sim.ts';
import { DEFAULT_URL } from '../broker/broker.ts';
import { deleteExchange, runSeedline, uniqueName } from '../test-helpers.ts';

async function publish(exchange: string, types: readonly string[]): Promise<void> {
  const connection = await amqp.connect(DEFAULT_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (const type of types) channel.publish(exchange, type, Buffer.from('{}'), { persistent: true });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

const until = async (ok: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

describe('backend-sim', () => {
  it('binds each module queue to its own event types and never consumes faster than its capacity', async () => {
    const exchange = uniqueName('seedline-sim');
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 100 }, { module: 'members', capacity: 1000 }] });
    try {
      const [chat, members] = sim.queues;
      expect(chat!.name).toBe(`${exchange}.chat`);
      expect(chat!.bindings).toEqual(moduleEventTypes('chat'));
      await publish(exchange, [...Array(300).fill('chat.message-sent'), ...Array(20).fill('members.member-registered')]);
      const started = performance.now();
      await until(() => chat!.consumed >= 150, 10_000);
      const seconds = (performance.now() - started) / 1000;
      // 150 events at 100/s take at least 1.5 s (less the first prefetch window, already delivered).
      expect(chat!.consumed).toBeGreaterThanOrEqual(150);
      expect(seconds).toBeGreaterThan(1.3);
      await until(() => chat!.consumed === 300, 15_000);
      expect(chat!.consumed).toBe(300);
      expect(members!.consumed).toBe(20); // only its own types
    } finally {
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
    }
  });

  it('prints what each queue consumed per second and deletes its queues with --delete-queues', async () => {
    const exchange = uniqueName('seedline-sim');
    try {
      const r = await runSeedline(['backend-sim', '--exchange', exchange, '--queue', 'chat=50/s', '--queue', 'likes=80', '--duration', '1.5s', '--delete-queues']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${exchange}.chat ← chat.message-sent, chat.message-read at 50/s`);
      expect(r.stdout).toMatch(/^1s chat 0\/s · likes 0\/s$/m);
      const connection = await amqp.connect(DEFAULT_URL);
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await expect(channel.checkQueue(`${exchange}.chat`)).rejects.toThrow(/404/);
      await connection.close().catch(() => undefined);
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('refuses a malformed --queue and an unknown module, naming the modules', () => {
    expect(parseSimQueue('chat=300/s')).toEqual({ module: 'chat', capacity: 300 });
    expect(() => parseSimQueue('chat:300')).toThrow(/module=capacity\/s like chat=300\/s/);
    const err = (() => {
      try {
        moduleEventTypes('billing');
      } catch (e) {
        return e;
      }
    })();
    expect(isSeedlineError(err, 'USAGE')).toBe(true);
    expect((err as { hint?: string }).hint).toContain('members');
  });
});
