import type { LookupDefinition } from './lookup.ts';
import { membersLookup, type MemberDirectory } from './members.ts';
import { photosLookup, type PhotoDirectory } from './photos.ts';

/** Every lookup a module may declare, by name. */
export interface Lookups {
  readonly members: MemberDirectory;
  readonly photos: PhotoDirectory;
}

/** In build order: a lookup comes after the lookups it needs. */
export const LOOKUPS: readonly LookupDefinition<Lookups[keyof Lookups]>[] = [membersLookup, photosLookup];

export type { LookupName } from './lookup.ts';
