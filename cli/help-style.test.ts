import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.ts';

/**
 * One help style for every command (and every subcommand, e.g. `fixture create`), checked here so
 * that a new command or option cannot drift: defaults written `(default: X)`, descriptions
 * starting in lower case, and an "Examples:" heading in every --help.
 */
async function everyCommand(): Promise<Command[]> {
  const all: Command[] = [];
  const walk = (command: Command): void => {
    all.push(command);
    for (const sub of command.commands) walk(sub);
  };
  for (const entry of COMMANDS) walk(await entry.load());
  return all;
}

/** The whole --help text, the 'after' text included (helpInformation() leaves it out). */
function fullHelp(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s) });
  command.outputHelp();
  return text;
}

function path(command: Command): string {
  return command.parent && command.parent.name() !== 'seedline' && command.parent.parent ? `${command.parent.name()} ${command.name()}` : command.name();
}

describe('help style, every command', async () => {
  const commands = await everyCommand();

  it.each(commands.map((c) => [path(c), c] as const))('%s', (_name, command) => {
    const help = fullHelp(command);
    // Leaf commands show how they are used; a command group (fixture) lists its subcommands instead.
    if (command.commands.length === 0) expect(help, `${path(command)} --help has no "Examples:" heading`).toMatch(/\nExamples:\n/);
    expect(help, `${path(command)}: write defaults as "(default: X)"`).not.toMatch(/\(default [^:]/);
    const descriptions = [command.description().split('\n')[0]!, ...command.options.filter((o) => !o.hidden).map((o) => o.description)];
    for (const text of descriptions) expect(text, `${path(command)}: descriptions start in lower case`).not.toMatch(/^[A-Z][a-z]+\b/);
  });

  it('seed --help lists the basic flags first: events, amqp-url, exchange, rate', () => {
    const seed = commands.find((c) => c.name() === 'seed')!;
    expect(seed.options.filter((o) => !o.hidden).slice(0, 4).map((o) => o.long)).toEqual(['--events', '--amqp-url', '--exchange', '--rate']);
  });
});
