import type { Command } from 'commander';
import { vi } from 'vitest';

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** `process.exitCode` as the command left it. */
  readonly code: number | undefined;
}

/**
 * Test support: runs a stage command in-process as `seedline <command> <args…>` would, and
 * captures what it printed and the exit code it set (left in process.exitCode too, as the CLI
 * would leave it). Errors are thrown, as to cli/main.ts.
 */
export async function runCommand(command: Command, args: readonly string[]): Promise<CommandOutput> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
  process.exitCode = undefined;
  try {
    await command.parseAsync([...args], { from: 'user' });
    return { stdout, stderr, code: process.exitCode as number | undefined };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
