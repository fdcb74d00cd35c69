import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../common/exit-codes.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, runSeedline, uniqueName, writeEventsDataset } from './test-helpers.ts';

describe('seedline seed into an exchange no queue is bound to', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(40));
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('fails (exit 1, NOTHING_ROUTED) after its summary, instead of saying done', async () => {
    const exchange = uniqueName('seedline-t-noq');
    try {
      const run = await runSeedline(['seed', '--events', dir, '--exchange', exchange, '--checkpoint', `${dir}/ck-${exchange}.json`, '--no-watch', '--progress', 'off']);
      expect(run.code, run.stderr).toBe(EXIT.ERROR);
      expect(run.stdout).toContain('returned    40 unroutable');
      expect(run.stderr).toContain(`none of the 40 events published was routed: no queue is bound to exchange '${exchange}'`);
      expect(run.stderr).toContain('--topology');
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('still exits 0 when some types are routed and others come back', async () => {
    const exchange = uniqueName('seedline-t-someq');
    const consumer = await TestConsumer.bind(exchange, { pattern: 'chat.#' });
    try {
      const run = await runSeedline(['seed', '--events', dir, '--exchange', exchange, '--checkpoint', `${dir}/ck-${exchange}.json`, '--no-watch', '--progress', 'off']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('unroutable (members.member-registered 20)');
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });
});
