import type { Command } from 'commander';
import { seedCommand } from '../seeder/cli.ts';
import { transformCommand } from '../transformer/cli.ts';

/** Every subcommand, in the order `seedline --help` lists them. */
export function commands(): Command[] {
  return [transformCommand(), seedCommand()];
}
