import { readFile } from 'node:fs/promises';

/**
 * Changing the pace of a running seed, without restarting it:
 * - SIGUSR2 doubles the speed, SIGUSR1 halves it (`kill -USR2 <pid>`);
 * - `--control <file>`: the file is read once a second; when its text changes, the new text
 *   is applied: `2500` (a fixed rate in events/s from now on), `x2` / `x0.5` (scale the current
 *   rate, ramp or replay), `pause`, `resume`. Blank or `#` lines are ignored; the last
 *   command line counts.
 */
export type ControlCommand =
  | { readonly kind: 'rate'; readonly rate: number }
  | { readonly kind: 'scale'; readonly factor: number }
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' };

/** What the commands act on (implemented by `Pace`). */
export interface Controllable {
  control(command: ControlCommand): string;
}

/** The command in a control file's text; undefined when empty; an Error when unreadable. */
export function parseControl(text: string): ControlCommand | Error | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const line = lines[lines.length - 1];
  if (line === undefined) return undefined;
  const lower = line.toLowerCase();
  if (lower === 'pause' || lower === 'resume') return { kind: lower };
  const scale = /^[x×*]\s*(\d+(?:\.\d+)?)$/.exec(lower);
  if (scale && Number(scale[1]) > 0) return { kind: 'scale', factor: Number(scale[1]) };
  const rate = /^(\d+(?:\.\d+)?)\s*(?:\/s|events\/s)?$/.exec(lower);
  if (rate && Number(rate[1]) > 0) return { kind: 'rate', rate: Number(rate[1]) };
  return new Error(`control: '${line}' is not a command (expected a rate like 2500, x2, x0.5, pause or resume)`);
}

/** Polls `file` every `everyMs`; applies its command when the text changes. Returns a stop function. */
export function watchControlFile(file: string, target: Controllable, log: (message: string) => void, everyMs = 1000): () => void {
  let lastText: string | null = null;
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const text = await readFile(file, 'utf8').catch(() => null);
      if (text === null || text === lastText) return;
      const first = lastText === null;
      lastText = text;
      const command = parseControl(text);
      if (command instanceof Error) log(command.message);
      // What the file says when the run starts is a command too (e.g. a rate left from last time).
      else if (command) log(`control file ${file}: ${target.control(command)}${first ? ' (at start)' : ''}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), everyMs);
  timer.unref();
  void poll();
  return () => clearInterval(timer);
}

/** SIGUSR1 halves, SIGUSR2 doubles. Returns a function that removes the handlers. */
export function controlSignals(target: Controllable, log: (message: string) => void): () => void {
  const slower = () => log(`SIGUSR1: ${target.control({ kind: 'scale', factor: 0.5 })}`);
  const faster = () => log(`SIGUSR2: ${target.control({ kind: 'scale', factor: 2 })}`);
  process.on('SIGUSR1', slower);
  process.on('SIGUSR2', faster);
  return () => {
    process.off('SIGUSR1', slower);
    process.off('SIGUSR2', faster);
  };
}
