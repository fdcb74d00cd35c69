import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCommand } from './test-support.ts';
import { renamedOption } from './options.ts';

function command(seen: { source?: string; amqpUrl?: string[] }): Command {
  const c = new Command('thing')
    .requiredOption('--source <url>', 'the database')
    .option('--amqp-url <url>', 'brokers, repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .action((opts: { source: string; amqpUrl?: string[] }) => {
      seen.source = opts.source;
      seen.amqpUrl = opts.amqpUrl;
    });
  renamedOption(c, '-t, --target <url>', '--source');
  return renamedOption(c, '--url <url>', '--amqp-url');
}

describe('renamedOption', () => {
  it('keeps the old spelling working, through the new option and its parser, with a note on stderr', async () => {
    const seen: { source?: string; amqpUrl?: string[] } = {};
    const out = await runCommand(command(seen), ['--target', 'postgres://db', '--url', 'amqp://a', '--amqp-url', 'amqp://b']);
    expect(seen.source).toBe('postgres://db');
    expect(seen.amqpUrl).toEqual(['amqp://a', 'amqp://b']);
    expect(out.stderr).toContain('--target is now --source');
    expect(out.stderr).toContain('--url is now --amqp-url');
  });

  it('hides the old spelling from --help', () => {
    const help = command({}).helpInformation();
    expect(help).toContain('--source <url>');
    expect(help).not.toContain('--target');
    expect(help).not.toMatch(/--url\b/);
  });
});
