/**
 * Ctrl-C / SIGTERM as an AbortSignal, so long work can stop cleanly (finish the current
 * part, wait for confirms, write checkpoints) instead of dying mid-write. A second Ctrl-C
 * exits at once.
 */
export function interruptSignal(onFirst?: (signal: NodeJS.Signals) => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    onFirst?.(sig);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
