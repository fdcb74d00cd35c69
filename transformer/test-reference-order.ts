import { envelopeType, type EventEnvelope } from '../common/protos.ts';
import { decodeEvents } from '../recordfile/index.ts';
import { EventEncoder } from './event-encoder.ts';
import { MODULES } from './modules/index.ts';

/**
 * Test support: what the new system would see of an events stream, member by member. Walks
 * the stream in its order and reports every event that refers to a member (a payload field
 * naming a member id) before that member's members.member-registered, or at or after their
 * members.member-deleted. The transform promises none (references.ts); the fixture's tests
 * hold it to that.
 */
export const MEMBER_FIELDS = [
  'member_id',
  'sender_id',
  'recipient_id',
  'reader_id',
  'favorite_member_id',
  'owner_id',
  'blocker_id',
  'blocked_id',
  'visitor_id',
  'visited_id',
] as const;

export interface ReferenceProblem {
  readonly type: string;
  readonly field: string;
  readonly member: number;
  readonly problem: 'before-registration' | 'after-deletion' | 'never-registered';
  readonly source: string;
}

export async function referenceOrderProblems(eventsDir: string): Promise<ReferenceProblem[]> {
  const envelope = await envelopeType();
  const encoder = await EventEncoder.create(MODULES);
  const registered = new Set<number>();
  const deleted = new Set<number>();
  const pending: ReferenceProblem[] = [];
  const problems: ReferenceProblem[] = [];
  for await (const batch of decodeEvents(eventsDir, (b) => envelope.decode(b) as unknown as EventEnvelope)) {
    for (const e of batch) {
      const payloadType = encoder.payloadType(e.type)!;
      const payload = payloadType.decode(e.payload) as unknown as Record<string, unknown>;
      if (e.type === 'members.member-registered') {
        registered.add(payload['member_id'] as number);
        continue;
      }
      if (e.type === 'members.member-deleted') {
        deleted.add(payload['member_id'] as number);
        continue;
      }
      for (const field of MEMBER_FIELDS) {
        const id = payload[field];
        if (typeof id !== 'number') continue;
        const source = `${e.source!.table} ${e.source!.primary_key}`;
        if (deleted.has(id)) problems.push({ type: e.type, field, member: id, problem: 'after-deletion', source });
        else if (!registered.has(id)) pending.push({ type: e.type, field, member: id, problem: 'before-registration', source });
      }
    }
  }
  // A reference to someone who is registered later is out of order; to someone never registered, dangling.
  for (const p of pending) problems.push(registered.has(p.member) ? p : { ...p, problem: 'never-registered' });
  return problems;
}

/** Problems counted by `type field problem`, for short test failures. */
export function countProblems(problems: readonly ReferenceProblem[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of problems) {
    const key = `${p.type} ${p.field} ${p.problem}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort());
}
