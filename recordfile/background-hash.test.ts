import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackgroundSha256 } from './background-hash.ts';

describe('BackgroundSha256', () => {
  it('gives the digest of exactly the chunks it was given, in order', async () => {
    const chunks = [randomBytes(1000), Buffer.alloc(0), randomBytes(300_000), randomBytes(7)];
    // A chunk that is a view into a larger buffer: only its own bytes count.
    const big = randomBytes(5000);
    chunks.push(big.subarray(100, 200));
    const hash = new BackgroundSha256();
    for (const c of chunks) hash.update(c);
    const expected = createHash('sha256');
    for (const c of chunks) expected.update(c);
    expect(await hash.digest()).toBe(expected.digest('hex'));
  });

  it('keeps concurrent hashes apart', async () => {
    const a = new BackgroundSha256();
    const b = new BackgroundSha256();
    a.update(Buffer.from('a'));
    b.update(Buffer.from('b'));
    a.update(Buffer.from('a'));
    const [da, db] = await Promise.all([a.digest(), b.digest()]);
    expect(da).toBe(createHash('sha256').update('aa').digest('hex'));
    expect(db).toBe(createHash('sha256').update('b').digest('hex'));
  });

  it('can be abandoned, and refuses a second digest', async () => {
    const dropped = new BackgroundSha256();
    dropped.update(Buffer.from('x'));
    dropped.dispose();
    const hash = new BackgroundSha256();
    expect(await hash.digest()).toBe(createHash('sha256').digest('hex'));
    await expect(hash.digest()).rejects.toThrow(/twice/);
  });
});
