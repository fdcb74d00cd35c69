import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../common/test-support.ts';
import { isSeedlineError } from '../../common/errors.ts';
import { seedCommand } from '../cli.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from '../test-helpers.ts';

/** Runs `seedline seed …`; returns its output, or the SeedlineError it threw. */
async function seedCli(args: string[]): Promise<{ stderr: string; code: number | undefined } | { error: unknown }> {
  return runCommand(seedCommand(), args).catch((error: unknown) => ({ error }));
}

describe('seed --types: a glob that matches no type is not silent', () => {
  let plain: string;
  let described: string;
  beforeAll(async () => {
    const events = await makeEvents(40);
    plain = await writeEventsDataset(events);
    // What transform records: the event types of the data set and their counts.
    described = await writeEventsDataset(events);
    const file = join(described, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    manifest.streams.events.info = { eventsByType: { 'chat.message-sent': 20, 'members.member-registered': 20 } };
    await writeFile(file, JSON.stringify(manifest, null, 2));
  });
  afterAll(async () => {
    await removeDataset(plain);
    await removeDataset(described);
    process.exitCode = undefined;
  });

  it('a data set that lists its types: warned before publishing; with --fail-on-unmatched-types refused and nothing sent', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      const base = ['--events', described, '--exchange', exchange, '--types', 'chat.mesage-*,members.*', '--no-checkpoint', '--progress', 'off'];
      const warned = await seedCli(base);
      expect('error' in warned).toBe(false);
      if ('error' in warned) return;
      expect(warned.code).toBe(0);
      expect(warned.stderr).toMatch(/warning: --types 'chat\.mesage-\*' matches no event type of .* \(it holds chat\.message-sent, members\.member-registered\)/);
      await consumer.waitFor(20);
      expect(consumer.received.length).toBe(20);

      const refused = await seedCli([...base, '--fail-on-unmatched-types']);
      expect('error' in refused && isSeedlineError(refused.error, 'USAGE')).toBe(true);
      expect(String((refused as { error: Error }).error.message)).toContain("'chat.mesage-*'");
      // A run afterwards that sends one event: had the refused run sent any, they would be here before it.
      await seedCli(['--events', described, '--exchange', exchange, '--limit', '1', '--no-checkpoint', '--progress', 'off']);
      await consumer.waitFor(21);
      expect(consumer.received.length).toBe(21);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it('a data set without a type list: warned after the run from what was selected; the flag makes it an error', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange); // a run with nothing routed fails
    try {
      const base = ['--events', plain, '--exchange', exchange, '--types', 'members.*,chat.mesage-*', '--no-checkpoint', '--progress', 'off'];
      const warned = await seedCli(base);
      if ('error' in warned) throw warned.error;
      expect(warned.code).toBe(0);
      expect(warned.stderr).toMatch(/warning: --types 'chat\.mesage-\*' selected no event in the whole data set/);
      expect(warned.stderr).not.toContain("'members.*'");
      const refused = await seedCli([...base, '--fail-on-unmatched-types']);
      expect('error' in refused && isSeedlineError(refused.error, 'USAGE')).toBe(true);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });
});
