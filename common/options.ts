import type { EventEmitter } from 'node:events';
import { Option, type Command } from 'commander';

export type ProgressMode = 'auto' | 'lines' | 'off';

/** `--progress`, the same on every long-running command. */
export function progressOption(): Option {
  return new Option('--progress <mode>', 'progress on stderr: a live line on a terminal, log lines otherwise, or none')
    .choices(['auto', 'lines', 'off'])
    .default('auto');
}

/**
 * An option's old spelling, kept working for one release after a rename so that scripts do not
 * break: hidden from --help, it sets the new option (through the new option's own parser) and
 * says once on stderr what to write instead.
 */
export function renamedOption(command: Command, oldFlags: string, current: string): Command {
  const old = new Option(oldFlags).hideHelp();
  const target = command.options.find((o) => o.long === current);
  if (!target) throw new Error(`renamedOption: ${command.name()} has no option ${current}`);
  command.addOption(old);
  command.on(`option:${old.name()}`, (value: unknown) => {
    process.stderr.write(`seedline ${commandPath(command)}: ${old.long} is now ${current} (the old name works until seedline 0.3)\n`);
    // Commander handles each option on its 'option:<name>' event: emitting it runs the new option's parser.
    (command as unknown as EventEmitter).emit(`option:${target.name()}`, value);
  });
  return command;
}

/** `fixture create` for a subcommand: the names from below the program down to this command. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.length ? names.join(' ') : command.name();
}
