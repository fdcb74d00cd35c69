import { describe, expect, it } from 'vitest';
import { envelopeOf, occurredAtOf, sortRecord, type SortFields } from './sort-record.ts';

const base: SortFields = { occurredAt: 1000n, moduleIndex: 0, table: 'Messages', pk: 5, eventIndex: 0 };
const rec = (over: Partial<SortFields>, env = [1, 2, 3]) => sortRecord({ ...base, ...over }, new Uint8Array(env));

describe('sort records', () => {
  it('round-trips occurred_at and the envelope bytes', () => {
    for (const t of [0n, 1n, -1n, -2208988800000000n, 1700000000000000n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      const r = rec({ occurredAt: t }, [9, 8, 7, 6]);
      expect(occurredAtOf(r)).toBe(t);
      expect([...envelopeOf(r)]).toEqual([9, 8, 7, 6]);
    }
  });

  it('orders by occurred_at, then module, table, primary key (numerically), event index, bytes', () => {
    const inOrder = [
      rec({ occurredAt: -5n }),
      rec({ occurredAt: 999n, moduleIndex: 3 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 9 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 10 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 10, eventIndex: 1 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 10, eventIndex: 1 }, [1, 2, 4]),
      rec({ moduleIndex: 0, table: 'Messagesx', pk: 1 }),
      rec({ moduleIndex: 1, table: 'A', pk: 1 }),
      rec({ moduleIndex: 1, table: 'A', pk: [1, 'a'] }),
      rec({ moduleIndex: 1, table: 'A', pk: [1, 'b'] }),
      rec({ moduleIndex: 1, table: 'A', pk: [2, 'a'] }),
      rec({ moduleIndex: 1, table: 'A', pk: 'a' }), // integers before strings (tables never mix them)
      rec({ moduleIndex: 1, table: 'A', pk: 'b' }),
      rec({ occurredAt: 1001n }),
    ];
    const shuffled = [...inOrder].reverse();
    shuffled.sort(Buffer.compare);
    expect(shuffled).toEqual(inOrder);
  });
});
