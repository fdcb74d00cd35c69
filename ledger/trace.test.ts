import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../common/test-support.ts';
import { decodeEvents } from '../recordfile/index.ts';
import { decodeEnvelope, type SeedEvent } from '../seeder/broker/envelope.ts';
import { RUN_REPORT_FORMAT, type RunReport } from '../seeder/report/report.ts';
import { fixturePipeline, type FixturePipeline } from './test-support.ts';
import { traceEvent, traceRow } from './trace.ts';
import { traceCommand } from './trace-cli.ts';
import { TRACE_INDEX_DIR } from './trace-index.ts';

describe('seedline trace on the tiny fixture', () => {
  let p: FixturePipeline;
  let all: SeedEvent[];
  beforeAll(async () => {
    p = await fixturePipeline();
    all = [];
    for await (const batch of decodeEvents(p.events, decodeEnvelope)) all.push(...batch);
  }, 120_000);
  afterAll(async () => {
    await p?.dispose();
    process.exitCode = undefined;
  });

  it('a message of a deleted or missing member: the row, the chat module, no event, the reject and its reason', async () => {
    const lines = (await readFile(join(p.events, 'rejects', 'chat.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: number; reason: string; dropped: boolean });
    const dirty = lines.find((r) => /^(sender|recipient)-(deleted|missing)$/.test(r.reason) && r.dropped)!;
    expect(dirty).toBeDefined();
    const t = await traceRow({ dump: p.dump, events: p.events }, 'dbo.Messages', String(dirty.key));
    expect(t.row?.row['MessageId']).toBe(String(dirty.key));
    expect(t.modules).toEqual(['chat']);
    expect(t.events).toEqual([]);
    expect(t.rejects).toContainEqual(expect.objectContaining({ module: 'chat', reason: dirty.reason, dropped: true }));

    const cli = await runCommand(traceCommand(), ['Messages', String(dirty.key), '--dump', p.dump, '--events', p.events]);
    expect(cli.stdout).toContain(`chat: ${dirty.reason}`);
    expect(cli.stdout).toMatch(/events\s+0/);
  });

  it('every event of a row, with id, type, time and key; --event finds the same row; the index is built once, then reused', async () => {
    const read = all.find((e) => e.type === 'chat.message-read')!;
    const expected = all.filter((e) => e.sourceTable === read.sourceTable && e.sourcePrimaryKey === read.sourcePrimaryKey);
    expect(expected.length).toBe(2); // sent and read

    const t = await traceRow({ dump: p.dump, events: p.events }, read.sourceTable, read.sourcePrimaryKey);
    expect(t.events.map((e) => [e.id, e.type, e.key]).sort()).toEqual(expected.map((e) => [e.id, e.type, e.key]).sort());
    expect(t.events.every((e) => all[e.position]!.id === e.id)).toBe(true);
    expect(t.row?.row['MessageId']).toBe(read.sourcePrimaryKey);

    const back = await traceEvent({ dump: p.dump, events: p.events }, read.id);
    expect(back.index).toBe('cached');
    expect(back.eventId).toBe(read.id);
    expect(back.pkJson).toBe(read.sourcePrimaryKey);
    expect(back.events.map((e) => e.id).sort()).toEqual(t.events.map((e) => e.id).sort());
  });

  it('rebuilds an index that belongs to other events (its fingerprint differs)', async () => {
    const any = all[10]!;
    await traceRow({ dump: p.dump, events: p.events }, any.sourceTable, any.sourcePrimaryKey);
    const meta = join(p.events, TRACE_INDEX_DIR, 'meta.json');
    await writeFile(meta, (await readFile(meta, 'utf8')).replace(/"fingerprint":"[0-9a-f]+"/, '"fingerprint":"stale"'));
    const t = await traceRow({ dump: p.dump, events: p.events }, any.sourceTable, any.sourcePrimaryKey);
    expect(t.index).toBe('built');
    expect(t.events.map((e) => e.id)).toContain(any.id);
  });

  it('composite keys (Blocks blocker,blocked) and the fate of each event from a run report', async () => {
    const block = all.find((e) => e.sourceTable === 'Blocks')!;
    const chat = all.find((e) => e.type === 'chat.message-sent')!;
    const position = all.indexOf(chat);
    // A run that stopped right after this chat event: later events were not published by it.
    const report = { format: RUN_REPORT_FORMAT, selection: { types: ['chat.*'] }, result: { startPosition: 0, position: position + 1, returned: {} } } as unknown as RunReport;
    const run = join(p.dir, 'trace-run.json');
    await writeFile(run, JSON.stringify({ ...report, seconds: [], latency: {}, counts: {}, controlPauses: [] }));
    const b = await traceRow({ dump: p.dump, events: p.events, run }, 'Blocks', block.sourcePrimaryKey.replace(/[[\]]/g, ''));
    expect(b.events.map((e) => e.id)).toEqual([block.id]);
    expect(b.events[0]!.seed).toBe('not selected');
    const c = await traceRow({ dump: p.dump, events: p.events, run }, 'Messages', chat.sourcePrimaryKey);
    expect(c.events.find((e) => e.id === chat.id)!.seed).toBe('confirmed');
    const later = c.events.find((e) => e.type === 'chat.message-read');
    if (later) expect(later.seed).toBe('not published by this run');
  });

  it('--event through the CLI as JSON; an unknown id and a missing key are USAGE errors naming the option', async () => {
    const e = all[42]!;
    const out = await runCommand(traceCommand(), ['--event', e.id, '--dump', p.dump, '--events', p.events, '--json']);
    const t = JSON.parse(out.stdout) as { eventId: string; table: string; pkJson: string; events: { id: string }[] };
    expect(t).toMatchObject({ eventId: e.id, table: e.sourceTable, pkJson: e.sourcePrimaryKey });
    expect(t.events.map((x) => x.id)).toContain(e.id);

    const unknown = await runCommand(traceCommand(), ['--event', '00000000-0000-5000-8000-000000000000', '--dump', p.dump, '--events', p.events]).catch((err: unknown) => err);
    expect(unknown).toMatchObject({ code: 'USAGE', context: { option: '--event' } });
    const noKey = await runCommand(traceCommand(), ['Messages', '--dump', p.dump, '--events', p.events]).catch((err: unknown) => err);
    expect(noKey).toMatchObject({ code: 'USAGE' });
  });
});
