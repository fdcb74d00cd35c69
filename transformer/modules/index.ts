import type { EventModule } from '../module.ts';
import { blocks } from './blocks.ts';
import { chat } from './chat.ts';
import { favorites } from './favorites.ts';
import { flirts } from './flirts.ts';
import { likes } from './likes.ts';
import { members } from './members.ts';
import { photos } from './photos.ts';
import { visits } from './visits.ts';

/**
 * Every event generator, listed explicitly. The order matters: when events share an
 * `occurred_at`, those of an earlier module come first, so list a module before the modules
 * whose events refer to its aggregates (members first: a member registers before sending a
 * message in the same microsecond; photos before likes). Append new modules; do not reorder
 * lightly, it changes the byte order of the event stream.
 */
export const MODULES: readonly EventModule[] = [members, photos, chat, flirts, favorites, visits, blocks, likes];

export function moduleNames(): string[] {
  return MODULES.map((m) => m.name);
}
