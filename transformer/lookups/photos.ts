import type { PhotosRow } from '../legacy-rows.ts';
import { photoPublished } from '../modules/photo-rules.ts';
import { IdColumn, type SharedIdColumn } from './id-column.ts';
import { defineLookup, type Lookup } from './lookup.ts';
import type { MemberDirectory } from './members.ts';

/**
 * Photos by id: the owner's member id, and whether photos.photo-uploaded was emitted for it
 * (a photo whose row was rejected does not exist for the new system). 5 bytes per photo id.
 */
export class PhotoDirectory implements Lookup {
  private readonly owner: IdColumn<Int32Array>;
  private readonly published: IdColumn<Uint8Array>;

  constructor(owner: IdColumn<Int32Array>, published: IdColumn<Uint8Array>) {
    this.owner = owner;
    this.published = published;
  }

  /** 'missing': no Photos row; 'rejected': its upload was rejected; else the owner's member id. */
  ownerOf(photoId: number): number | 'missing' | 'rejected' {
    const state = this.published.get(photoId);
    if (state === 0) return 'missing';
    if (state === 1) return 'rejected';
    return this.owner.get(photoId);
  }

  get bytes(): number {
    return this.owner.bytes + this.published.bytes;
  }

  /** For worker threads (transferable; the arrays' memory is shared). */
  toShared(): SharedPhotos {
    return { owner: this.owner.toShared(), published: this.published.toShared() };
  }

  static fromShared(shared: SharedPhotos): PhotoDirectory {
    return new PhotoDirectory(IdColumn.fromShared(shared.owner), IdColumn.fromShared(shared.published));
  }
}

export interface SharedPhotos {
  readonly owner: SharedIdColumn<Int32Array>;
  readonly published: SharedIdColumn<Uint8Array>;
}

export const photosLookup = defineLookup({
  name: 'photos',
  description: 'photo id → owner member id, published or rejected',
  table: 'Photos',
  columns: ['PhotoId', 'MemberId', 'UploadedAt'],
  needs: ['members'],
  create(needs) {
    const members = needs.members as MemberDirectory;
    const owner = new IdColumn((n) => new Int32Array(n), 0);
    const published = new IdColumn((n) => new Uint8Array(n), 0);
    return {
      add(r) {
        const row = r as unknown as PhotosRow;
        owner.set(row.PhotoId, row.MemberId);
        published.set(row.PhotoId, photoPublished(row, members) ? 2 : 1);
      },
      finish: () => new PhotoDirectory(owner, published),
    };
  },
});
