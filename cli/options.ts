import { Option } from 'commander';

export type ProgressMode = 'auto' | 'lines' | 'off';

/** `--progress`, the same on every long-running command. */
export function progressOption(): Option {
  return new Option('--progress <mode>', 'progress on stderr: a live line on a terminal, log lines otherwise, or none')
    .choices(['auto', 'lines', 'off'])
    .default('auto');
}
