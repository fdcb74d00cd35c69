import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isSeedlineError } from '../common/errors.ts';
import { RESUME_NOTE, seedCommand } from './cli.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from './test-helpers.ts';
import { runCommand } from '../common/test-support.ts';

/** Runs `seedline seed <args>` in-process and returns what it printed on stdout. */
const run = async (args: string[]): Promise<string> => (await runCommand(seedCommand(), args)).stdout;

describe('seedline seed (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(40));
  });
  afterAll(async () => {
    await removeDataset(dir);
    process.exitCode = undefined;
  });

  it('--help explains the flags and ends with an example', () => {
    let help = '';
    const command = seedCommand().configureOutput({ writeOut: (s) => (help += s) });
    command.outputHelp();
    for (const flag of ['--events', '--amqp-url', '--exchange', '--rate', '--max-in-flight']) expect(help).toContain(flag);
    expect(help).toMatch(/Examples:\n\s+\$ seedline seed --events events/);
  });

  it('publishes the data set and prints the summary', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      const out = await run(['--events', dir, '--exchange', exchange, '--rate', '2000', '--max-in-flight', '10', '--progress', 'off']);
      expect(out).toMatch(/published\s+40 of 40 events/);
      expect(out).toMatch(/confirmed\s+40\n/);
      expect(out).toContain('amqp://guest:***@127.0.0.1:5672');
      expect(out).not.toContain('guest:guest');
      expect(process.exitCode).toBe(0);
      expect(await consumer.waitFor(40)).toHaveLength(40);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it('says where --report wrote the run report, and prints the selection in words', async () => {
    const exchange = uniqueName('seedline-t');
    const tmp = await mkdtemp(join(tmpdir(), 'seedline-report-'));
    const report = join(tmp, 'run.json');
    const consumer = await TestConsumer.bind(exchange, { pattern: '#' }); // a run with nothing routed fails
    try {
      const { stderr } = await runCommand(seedCommand(), ['--events', dir, '--exchange', exchange, '--types', 'chat.*', '--limit', '5', '--report', report, '--no-checkpoint', '--progress', 'off']);
      expect(stderr).toContain(`run report written to ${report}`);
      expect(stderr).toContain('selection: types chat.*; the first 5 selected events');
      expect(stderr).not.toMatch(/selection: \{/);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('--resume says plainly that it takes the rate and selection given now', async () => {
    const exchange = uniqueName('seedline-t');
    const tmp = await mkdtemp(join(tmpdir(), 'seedline-resume-'));
    const checkpoint = join(tmp, 'checkpoint.json');
    const consumer = await TestConsumer.bind(exchange, { pattern: '#' }); // a run with nothing routed fails
    try {
      const first = await runCommand(seedCommand(), ['--events', dir, '--exchange', exchange, '--rate', '2000', '--checkpoint', checkpoint, '--progress', 'off']);
      expect(first.stderr).not.toContain(RESUME_NOTE);
      const resumed = await runCommand(seedCommand(), ['--events', dir, '--exchange', exchange, '--checkpoint', checkpoint, '--resume', '--progress', 'off']);
      expect(resumed.stderr).toContain(RESUME_NOTE);
      expect(resumed.code).toBe(0);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('a rate that is not a number is a USAGE error', async () => {
    const err = await run(['--events', dir, '--rate', 'fast', '--progress', 'off']).catch((e: unknown) => e);
    expect(isSeedlineError(err, 'USAGE')).toBe(true);
  });
});
