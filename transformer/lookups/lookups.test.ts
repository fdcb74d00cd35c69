import { describe, expect, it } from 'vitest';
import { RecentKeys } from '../modules/recent-keys.ts';
import { lookupsFor } from './build.ts';
import { IdColumn, MAX_DENSE_ID } from './id-column.ts';
import { MemberDirectory } from './members.ts';

describe('IdColumn', () => {
  it('holds one value per id in a typed array that grows, outliers in a map', () => {
    const column = new IdColumn((n) => new Float64Array(n), Number.NaN);
    column.set(3, 1.5);
    column.set(5000, 7);
    column.set(-1, 2);
    column.set(MAX_DENSE_ID + 10, 9);
    expect(column.get(3)).toBe(1.5);
    expect(column.get(5000)).toBe(7);
    expect(column.get(-1)).toBe(2);
    expect(column.get(MAX_DENSE_ID + 10)).toBe(9);
    expect(column.get(4)).toBeNaN(); // never set: the empty value, also after growing
    expect(column.get(4999)).toBeNaN();
    expect(column.bytes).toBe(8192 * 8 + 2 * 48);
  });
});

describe('RecentKeys', () => {
  it('finds a key seen within the window before, and forgets what is older', () => {
    const recent = new RecentKeys(2_000_000n, 3);
    expect(recent.seen('a', 10_000_000n)).toBeNull();
    expect(recent.seen('a', 11_000_000n)).toBe(10_000_000n);
    expect(recent.seen('b', 11_000_000n)).toBeNull();
    expect(recent.seen('a', 20_000_000n)).toBeNull(); // 9 s later
    expect(recent.seen('b', 20_000_000n)).toBeNull(); // evicted behind the window
    for (const k of ['c', 'd', 'e', 'f']) recent.seen(k, 20_000_000n);
    expect(recent.seen('a', 20_500_000n)).toBeNull(); // evicted by the size bound
  });
});

describe('lookupsFor', () => {
  it('gives a module the lookups it declared, and fails on any other at its first use', () => {
    const members = new MemberDirectory(new IdColumn((n) => new Uint8Array(n), 0), new IdColumn((n) => new Float64Array(n), Number.NaN), new IdColumn((n) => new Float64Array(n), Number.NaN));
    expect(lookupsFor('chat', ['members'], { members }).members).toBe(members);
    const undeclared = lookupsFor('chat', [], { members });
    expect(() => undeclared.members).toThrow(expect.objectContaining({ code: 'TRANSFORM_FAILED' }));
    expect(() => lookupsFor('likes', ['members', 'photos'], { members }).photos).toThrow(expect.objectContaining({ code: 'TRANSFORM_FAILED' }));
  });
});
