import type { EventModule } from '../module.ts';
import { chat } from './chat.ts';
import { members } from './members.ts';

/**
 * Every event generator, listed explicitly. The order matters: when events share an
 * `occurred_at`, those of an earlier module come first, so list a module before the modules
 * whose events refer to its aggregates (members before chat: a member registers before
 * sending a message in the same microsecond). Append new modules; do not reorder lightly,
 * it changes the byte order of the event stream.
 */
export const MODULES: readonly EventModule[] = [members, chat];

export function moduleNames(): string[] {
  return MODULES.map((m) => m.name);
}
