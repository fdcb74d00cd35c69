import type { MembersRow } from '../legacy-rows.ts';
import { memberDeletedAt, registrationProblem } from '../modules/member-rules.ts';
import { IdColumn, type SharedIdColumn } from './id-column.ts';
import { defineLookup, type Lookup } from './lookup.ts';

/**
 * Members by id, as the new system will know them after the members module's events:
 * - `missing`: no Members row (purged, or an id that never existed);
 * - `unregistered`: a row whose registration was rejected (no members.member-registered);
 * - `deleted`: members.member-deleted at `deletedAt` µs; earlier than that, the member is alive;
 * - registered at `registeredAt` µs: before that, the member does not exist yet for the new system;
 * - `active`: registered and never deleted (IsDeleted without a DeletedAt counts here, since
 *   no deletion event is emitted for it).
 * 17 bytes per member id (a state byte, float64 registration and deletion times, exact for µs until 2255).
 */
export type MemberState = 'missing' | 'unregistered' | 'active' | 'deleted';

const STATES: readonly MemberState[] = ['missing', 'unregistered', 'active', 'deleted'];

export class MemberDirectory implements Lookup {
  private readonly state: IdColumn<Uint8Array>;
  private readonly deleted: IdColumn<Float64Array>;
  private readonly registered: IdColumn<Float64Array>;

  constructor(state: IdColumn<Uint8Array>, deleted: IdColumn<Float64Array>, registered: IdColumn<Float64Array>) {
    this.state = state;
    this.deleted = deleted;
    this.registered = registered;
  }

  stateOf(id: number): MemberState {
    return STATES[this.state.get(id)]!;
  }

  /** When the member was deleted (µs), or null. */
  deletedAt(id: number): bigint | null {
    const at = this.deleted.get(id);
    return Number.isNaN(at) ? null : BigInt(at);
  }

  /** When the member was registered (µs), or null when they never were. */
  registeredAt(id: number): bigint | null {
    const at = this.registered.get(id);
    return Number.isNaN(at) ? null : BigInt(at);
  }

  /**
   * What is wrong with referring to member `id` at `at` µs (null: nothing): the member does not
   * exist, was never registered, is registered only later than `at` (members.member-registered
   * would come after the event), or was deleted at or before `at` (the deletion sorts first).
   */
  problemAt(id: number, at: bigint | null): 'missing' | 'unregistered' | 'registered-later' | 'deleted' | null {
    const state = this.state.get(id);
    if (state === 0) return 'missing';
    if (state === 1) return 'unregistered';
    if (at === null) return null;
    const t = Number(at);
    if (t < this.registered.get(id)) return 'registered-later';
    if (state === 3 && t >= this.deleted.get(id)) return 'deleted';
    return null;
  }

  get bytes(): number {
    return this.state.bytes + this.deleted.bytes + this.registered.bytes;
  }

  /** For worker threads (transferable; the arrays' memory is shared). */
  toShared(): SharedMembers {
    return { state: this.state.toShared(), deleted: this.deleted.toShared(), registered: this.registered.toShared() };
  }

  static fromShared(shared: SharedMembers): MemberDirectory {
    return new MemberDirectory(IdColumn.fromShared(shared.state), IdColumn.fromShared(shared.deleted), IdColumn.fromShared(shared.registered));
  }
}

export interface SharedMembers {
  readonly state: SharedIdColumn<Uint8Array>;
  readonly deleted: SharedIdColumn<Float64Array>;
  readonly registered: SharedIdColumn<Float64Array>;
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
    const registered = new IdColumn((n) => new Float64Array(n), Number.NaN);
    return {
      add(r) {
        const row = r as unknown as MembersRow;
        if (registrationProblem(row)) {
          state.set(row.MemberId, 1);
          return;
        }
        const deletedAt = memberDeletedAt(row);
        state.set(row.MemberId, deletedAt === null ? 2 : 3);
        registered.set(row.MemberId, Number(row.RegisteredAt));
        if (deletedAt !== null) deleted.set(row.MemberId, Number(deletedAt));
      },
      finish: () => new MemberDirectory(state, deleted, registered),
    };
  },
});
