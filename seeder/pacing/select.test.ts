import { describe, expect, it } from 'vitest';
import { isSeedlineError } from '../../common/errors.ts';
import { Selector, keyHash, keySelected, parseSelection, parseTime } from './select.ts';

const base = Date.parse('2021-03-01T00:00:00Z') * 1000;
function event(i: number, type = 'chat.message-sent', key = `member-${i % 100}`) {
  return { type, key, occurred_at: base + i * 60_000_000 }; // one a minute
}

describe('selection', () => {
  it('--from/--until select by occurred_at (from inclusive, until exclusive)', () => {
    const s = new Selector(parseSelection({ from: '2021-03-01T00:10:00Z', until: '2021-03-01T00:20:00Z' }));
    const kept = Array.from({ length: 60 }, (_, i) => event(i)).filter((e) => s.accepts(e));
    expect(kept).toHaveLength(10);
    expect(kept[0]!.occurred_at).toBe(base + 10 * 60_000_000);
  });

  it('--types takes comma-separated globs', () => {
    const s = new Selector(parseSelection({ types: 'chat.*, members.member-registered' }));
    expect(s.accepts(event(1, 'chat.message-sent'))).toBe(true);
    expect(s.accepts(event(2, 'members.member-registered'))).toBe(true);
    expect(s.accepts(event(3, 'members.member-deleted'))).toBe(false);
    expect(s.accepts(event(4, 'chatty.x'))).toBe(false);
  });

  it('--limit stops after N selected events, and filter() stops reading', async () => {
    const s = new Selector(parseSelection({ limit: '5', types: 'chat.*' }));
    let batchesRead = 0;
    async function* batches() {
      for (let b = 0; b < 100; b++) {
        batchesRead++;
        yield [event(b * 2, 'chat.message-sent'), event(b * 2 + 1, 'flirts.flirt-sent')];
      }
    }
    const out = [];
    for await (const batch of s.filter(batches())) out.push(...batch);
    expect(out).toHaveLength(5);
    expect(batchesRead).toBe(5);
  });

  it('--sample keeps or drops whole keys, close to the asked share', () => {
    const s = parseSelection({ sample: '10%' });
    const keys = Array.from({ length: 20_000 }, (_, i) => `member-${i}`);
    const kept = keys.filter((k) => keySelected(k, s));
    expect(kept.length / keys.length).toBeGreaterThan(0.09);
    expect(kept.length / keys.length).toBeLessThan(0.11);
    // Every event of a kept key is kept, every event of a dropped key dropped.
    const selector = new Selector(s);
    for (let i = 0; i < 5_000; i++) {
      const e = event(i, 'chat.message-sent', keys[i % 300]!);
      expect(selector.accepts(e)).toBe(keySelected(e.key, s));
    }
  });

  it('--partition i/N splits keys into N disjoint parts that cover everything, independent of --sample', () => {
    const keys = Array.from({ length: 9_000 }, (_, i) => `member-${i}`);
    const parts = [0, 1, 2].map((i) => keys.filter((k) => keySelected(k, parseSelection({ partition: `${i}/3` }))));
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(keys.length);
    for (const p of parts) expect(p.length / keys.length).toBeGreaterThan(0.3);
    const sampledInPart0 = parts[0]!.filter((k) => keySelected(k, parseSelection({ sample: '50%' }))).length;
    expect(sampledInPart0 / parts[0]!.length).toBeGreaterThan(0.45);
    expect(sampledInPart0 / parts[0]!.length).toBeLessThan(0.55);
  });

  it('the key hash is stable (N seeders on N machines must agree)', () => {
    expect(keyHash('')).toBe(0x811c9dc5);
    expect(keyHash('a')).toBe(0xe40c292c);
    expect(keyHash('member-42')).toBe(keyHash('member-42'));
  });

  it("--from/--until without a zone are UTC, whatever the machine's zone (RATES.md)", () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(parseTime('--from', '2019-12-01T10:00:00')).toBe(Date.UTC(2019, 11, 1, 10) * 1000);
      expect(parseTime('--from', '2019-12-01 10:00')).toBe(Date.UTC(2019, 11, 1, 10) * 1000);
      expect(parseTime('--from', '2019-12-01')).toBe(Date.UTC(2019, 11, 1) * 1000);
      expect(parseTime('--from', '2019-12-01T10:00:00Z')).toBe(Date.UTC(2019, 11, 1, 10) * 1000);
      expect(parseTime('--from', '2019-12-01T12:00:00+02:00')).toBe(Date.UTC(2019, 11, 1, 10) * 1000);
      expect(parseTime('--from', '2019-12-01T05:00:00-0500')).toBe(Date.UTC(2019, 11, 1, 10) * 1000);
      expect(parseTime('--from', '2019-12-01T10:00:00.000250Z')).toBe(Date.UTC(2019, 11, 1, 10) * 1000 + 250);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('impossible dates and times are refused, not rolled over', () => {
    for (const text of ['2016-02-30', '2015-02-29', '2021-13-01', '2021-04-31', '2021-03-01T24:00', '2021-03-01T12:60', '2021-03-01T12:00:00+25:00', '2021-3-1']) {
      expect(() => parseTime('--from', text), text).toThrow(/--from must be an ISO time/);
    }
    expect(parseTime('--until', '2016-02-29')).toBe(Date.UTC(2016, 1, 29) * 1000);
  });

  it('bad flags are USAGE errors naming the option', () => {
    const option = (flags: Parameters<typeof parseSelection>[0]) => {
      try {
        parseSelection(flags);
      } catch (err) {
        if (isSeedlineError(err, 'USAGE')) return err.context.option;
      }
      return 'accepted';
    };
    expect(option({ from: 'yesterday' })).toBe('--from');
    expect(option({ from: '2021-03-02', until: '2021-03-01' })).toBe('--until');
    expect(option({ sample: '0%' })).toBe('--sample');
    expect(option({ sample: '10' })).toBe('--sample');
    expect(option({ partition: '3/3' })).toBe('--partition');
    expect(option({ limit: '-1' })).toBe('--limit');
    expect(option({ types: ',' })).toBe('--types');
    expect(option({ sample: '12.5%', partition: '0/1' })).toBe('accepted');
  });
});
