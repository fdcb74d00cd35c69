/**
 * `seedline seed --resume` after the CLI process was killed (kill -9) or interrupted (Ctrl-C):
 * real processes, the real local RabbitMQ, a real consumer counting what arrived.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readManifest, streamOf } from '../recordfile/index.ts';
import { CHECKPOINT_FORMAT, checkpointKey, defaultCheckpointPath, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { seed } from './seed.ts';
import { TestConsumer, deleteExchange, duplicatesOf, makeEvents, removeDataset, uniqueName, writeEventsDataset, type TestEvent } from './test-helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WINDOW = 50;

/** Starts `seedline seed ...` as a child process; resolves its exit code and stdout when it ends. */
function startCli(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> } {
  const child = spawn(process.execPath, ['bin/seedline.js', 'seed', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout })),
  );
  return { child, done };
}

/** Polls the checkpoint until it says at least `position` events are confirmed. */
async function untilCheckpointAt(file: string, position: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const checkpoint = await readCheckpoint(file).catch(() => null);
    if (checkpoint && checkpoint.position >= position) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the checkpoint ${file} did not reach ${position} within ${timeoutMs} ms`);
}

describe('seed --resume after the seeder was killed', () => {
  let events: TestEvent[];
  let dir: string;
  beforeAll(async () => {
    events = await makeEvents(5_000);
    dir = await writeEventsDataset(events, { maxPartBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  for (const how of ['SIGKILL', 'SIGINT'] as const) {
    it(`after ${how === 'SIGKILL' ? 'kill -9' : 'Ctrl-C'} mid-run, --resume delivers every event at least once, duplicates ≤ the window`, async () => {
      const exchange = uniqueName('seedline-t');
      const consumer = await TestConsumer.bind(exchange);
      const checkpoint = defaultCheckpointPath(dir, exchange);
      try {
        const args = ['--events', dir, '--exchange', exchange, '--max-in-flight', String(WINDOW), '--progress', 'off'];
        const first = startCli([...args, '--rate', '2500']);
        await untilCheckpointAt(checkpoint, 1_000);
        first.child.kill(how);
        const ended = await first.done;
        const saved = (await readCheckpoint(checkpoint))!;
        expect(saved.complete).toBe(false);
        expect(saved.position).toBeLessThan(5_000);
        if (how === 'SIGINT') {
          // Ctrl-C: stops cleanly, waits for the confirms, writes the checkpoint, says so.
          expect(ended.code).toBe(130);
          expect(ended.stdout).toMatch(/seed interrupted/);
          expect(ended.stdout).toContain(`confirmed through event`);
        } else {
          expect(ended.signal).toBe('SIGKILL');
        }

        const second = startCli([...args, '--resume']);
        const resumed = await second.done;
        expect(resumed.code).toBe(0);
        expect(resumed.stdout).toMatch(new RegExp(`resumed\\s+from event ${saved.position.toLocaleString('en-US')}`));
        expect((await readCheckpoint(checkpoint))?.complete).toBe(true);

        const got = await consumer.waitFor(5_000);
        const ids = got.map((m) => m.properties.messageId as string);
        expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
        expect(duplicatesOf(ids)).toBeLessThanOrEqual(WINDOW);
        // Ctrl-C waited for every confirm: the checkpoint is exact, nothing is sent twice.
        if (how === 'SIGINT') expect(duplicatesOf(ids)).toBe(0);
        // Every message of both runs carries the one run id.
        expect(new Set(got.map((m) => m.properties.headers!['run-id']))).toEqual(new Set([saved.runId]));
      } finally {
        await consumer.close();
        await deleteExchange(exchange);
      }
    }, 60_000);
  }

  it('refuses to resume a checkpoint of another exchange, or when there is none: CHECKPOINT_INVALID', async () => {
    const exchange = uniqueName('seedline-t');
    try {
      const none = await seed({ events: dir, exchange, resume: true, progress: 'off' }).catch((e: unknown) => e);
      expect(none).toMatchObject({ code: 'CHECKPOINT_INVALID' });
      const file = join(dir, 'other-exchange.json');
      const stream = streamOf(await readManifest(dir), 'events', dir);
      await writeCheckpoint(file, { format: CHECKPOINT_FORMAT, version: 1, ...checkpointKey(dir, stream, 'other', 'amqp://x', 'r1'), position: 10, complete: false, updatedAt: '' });
      const other = await seed({ events: dir, exchange, resume: true, checkpoint: file, progress: 'off' }).catch((e: unknown) => e);
      expect(other).toMatchObject({ code: 'CHECKPOINT_INVALID' });
    } finally {
      await deleteExchange(exchange).catch(() => undefined);
    }
  });
});
