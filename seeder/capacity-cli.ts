import { Command } from 'commander';
export function capacityCommand(): Command {
  return new Command('capacity');
}
