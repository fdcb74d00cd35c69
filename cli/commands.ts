import type { Command } from 'commander';

/** Every subcommand, in the order `seedline --help` lists them. */
export function commands(): Command[] {
  return [];
}
