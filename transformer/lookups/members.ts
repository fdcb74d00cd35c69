import type { MembersRow } from '../legacy-rows.ts';
import { memberDeletedAt, registrationProblem } from '../modules/members.ts';
import { IdColumn, type SharedIdColumn } from './id-column.ts';
import { defineLookup, type Lookup } from './lookup.ts';

/**
 * Members by id, as the new system will know them after the members module's events:
 * - `missing`: no Members row (purged, or an id that never existed);
 * - `unregistered`: a row whose registration was rejected (no members.member-registered);
 * - `deleted`: members.member-deleted at `deletedAt` µs; earlier than that, the member is alive;
 * - `active`: registered and never deleted (IsDeleted without a DeletedAt counts here, since
 *   no deletion event is emitted for it).
 * 9 bytes per member id (a state byte and a float64 deletion time, exact for µs until 2255).
 */
export type MemberState = 'missing' | 'unregistered' | 'active' | 'deleted';

const STATES: readonly MemberState[] = ['missing', 'unregistered', 'active', 'deleted'];

export class MemberDirectory implements Lookup {
  private readonly state: IdColumn<Uint8Array>;
  private readonly deleted: IdColumn<Float64Array>;

  constructor(state: IdColumn<Uint8Array>, deleted: IdColumn<Float64Array>) {
    this.state = state;
    this.deleted = deleted;
  }

  stateOf(id: number): MemberState {
    return STATES[this.state.get(id)]!;
  }

  /** When the member was deleted (µs), or null. */
  deletedAt(id: number): bigint | null {
    const at = this.deleted.get(id);
    return Number.isNaN(at) ? null : BigInt(at);
  }

  /**
   * What is wrong with referring to member `id` at `at` µs (null: nothing): the member does not
   * exist, was never registered, or was deleted at or before `at` (the deletion sorts first).
   */
  problemAt(id: number, at: bigint | null): 'missing' | 'unregistered' | 'deleted' | null {
    const state = this.state.get(id);
    if (state === 0) return 'missing';
    if (state === 1) return 'unregistered';
    if (state === 3 && at !== null && Number(at) >= this.deleted.get(id)) return 'deleted';
    return null;
  }

  get bytes(): number {
    return this.state.bytes + this.deleted.bytes;
  }

  /** For worker threads (transferable; the arrays' memory is shared). */
  toShared(): SharedMembers {
    return { state: this.state.toShared(), deleted: this.deleted.toShared() };
  }

  static fromShared(shared: SharedMembers): MemberDirectory {
    return new MemberDirectory(IdColumn.fromShared(shared.state), IdColumn.fromShared(shared.deleted));
  }
}

export interface SharedMembers {
  readonly state: SharedIdColumn<Uint8Array>;
  readonly deleted: SharedIdColumn<Float64Array>;
}

export const membersLookup = defineLookup({
  name: 'members',
  description: 'member id → missing / unregistered / active / deleted at',
  table: 'Members',
  columns: ['MemberId', 'RegisteredAt', 'DeletedAt', 'IsDeleted'],
  needs: [],
  create() {
    const state = new IdColumn((n) => new Uint8Array(n), 0);
    const deleted = new IdColumn((n) => new Float64Array(n), Number.NaN);
    return {
      add(r) {
        const row = r as unknown as MembersRow;
        if (registrationProblem(row)) {
          state.set(row.MemberId, 1);
          return;
        }
        const deletedAt = memberDeletedAt(row);
        state.set(row.MemberId, deletedAt === null ? 2 : 3);
        if (deletedAt !== null) deleted.set(row.MemberId, Number(deletedAt));
      },
      finish: () => new MemberDirectory(state, deleted),
    };
  },
});
