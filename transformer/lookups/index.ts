import type { Lookup, LookupDefinition, LookupName } from './lookup.ts';
import { MemberDirectory, membersLookup, type SharedMembers } from './members.ts';
import { PhotoDirectory, photosLookup, type SharedPhotos } from './photos.ts';

/** Every lookup a module may declare, by name (one for each LookupName: extending the Record checks that). */
export interface Lookups extends Record<LookupName, Lookup> {
  readonly members: MemberDirectory;
  readonly photos: PhotoDirectory;
}

/** In build order: a lookup comes after the lookups it needs. */
export const LOOKUPS: readonly LookupDefinition<Lookups[keyof Lookups]>[] = [membersLookup, photosLookup];

export type { LookupName } from './lookup.ts';

/** Lookups as they cross to worker threads: typed arrays over SharedArrayBuffers, no copy per worker. */
export interface SharedLookups {
  readonly members?: SharedMembers;
  readonly photos?: SharedPhotos;
}

export function shareLookups(lookups: Partial<Lookups>): SharedLookups {
  return {
    ...(lookups.members ? { members: lookups.members.toShared() } : {}),
    ...(lookups.photos ? { photos: lookups.photos.toShared() } : {}),
  };
}

export function lookupsFromShared(shared: SharedLookups): Partial<Lookups> {
  return {
    ...(shared.members ? { members: MemberDirectory.fromShared(shared.members) } : {}),
    ...(shared.photos ? { photos: PhotoDirectory.fromShared(shared.photos) } : {}),
  };
}
