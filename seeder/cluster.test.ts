/**
 * Partitioned seeders on a real 3-node RabbitMQ cluster of the test's own
 * (scripts/rabbitmq-cluster.sh), with quorum queues: three `seedline seed --partition i/3`
 * processes at a fixed rate, one node lost mid-run (stop_app; kill -9 of its VM). Checked by
 * an independent consumer: every event arrived, duplicates within the bound, per-key order.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint, defaultCheckpointPath } from './checkpoint.ts';
import { keySelected } from './pacing/select.ts';
import { readRunReport } from './report/report.ts';
import { TestCluster, type ClusterNode } from './test-cluster.ts';
import { declareTopology } from './broker/topology.ts';
import { makeEvents, removeDataset, uniqueName, writeEventsDataset, type TestEvent } from './test-helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EVENTS = 12_000;
const KEYS = 300;
const WINDOW = 50;
// Per seeder: 3 × 150 events/s, ~27 s per run, the node lost at 10 %: a rabbitmqctl stop_app took
// over 14 s to take effect beside a 20-minute benchmark (load ~12) and came after a 16 s run had ended.
const RATE = 150;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/seedline.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': the output may still be in the pipes when the process has exited.
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A CLI run whose stderr can be waited on while it runs. */
function cliRunning(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; until(pattern: RegExp): Promise<void> } {
  const child = spawn(process.execPath, ['bin/seedline.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  let ended = false;
  void done.then(() => (ended = true));
  const until = async (pattern: RegExp) => {
    while (!pattern.test(stderr)) {
      if (ended) throw new Error(`the run ended before its output matched ${pattern}:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { done, until };
}

/** The sequence number an event id of makeEvents() carries. */
const seqOf = (id: string) => Number(id.slice(-12));

/** Every message of `queue`, in arrival order, read from one node until no more come. */
async function drain(url: string, queue: string, atLeast: number): Promise<string[]> {
  const connection = await amqp.connect(url);
  const ids: string[] = [];
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(1_000);
    await channel.consume(queue, (msg) => {
      if (!msg) return;
      ids.push(msg.properties.messageId as string);
      channel.ack(msg);
    });
    const deadline = Date.now() + 60_000;
    let seen = -1;
    while (Date.now() < deadline && (ids.length < atLeast || ids.length !== seen)) {
      seen = ids.length;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return ids;
}

/** Keys whose events, taken at their first arrival, are not in stream order. */
function keysOutOfOrder(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const last = new Map<number, number>();
  const bad = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const seq = seqOf(id);
    const key = seq % KEYS;
    if ((last.get(key) ?? -1) > seq) bad.add(`member-${key}`);
    last.set(key, seq);
  }
  return [...bad];
}

async function untilPosition(file: string, position: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const checkpoint = await readCheckpoint(file).catch(() => null);
    if (checkpoint && checkpoint.position >= position) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} did not reach position ${position}`);
}

describe.skipIf(!TestCluster.available())('partitioned seeders on a 3-node RabbitMQ cluster', () => {
  let cluster: TestCluster;
  let events: TestEvent[];
  let dir: string;
  let work: string;

  beforeAll(async () => {
    [cluster, events, work] = await Promise.all([TestCluster.start(), makeEvents(EVENTS, undefined, KEYS), mkdtemp(join(tmpdir(), 'seedline-cluster-'))]);
    dir = await writeEventsDataset(events, { maxPartBytes: 128 * 1024 });
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await removeDataset(dir);
    if (work) await rm(work, { recursive: true, force: true });
  }, 120_000);

  it('declares a quorum queue and a stream replicated on all three nodes', async () => {
    const [quorum, stream] = [uniqueName('seedline-t-q'), uniqueName('seedline-t-s')];
    await declareTopology(cluster.urls, uniqueName('seedline-t'), { queues: [{ name: quorum, type: 'quorum', bindings: ['#'] }, { name: stream, type: 'stream', bindings: ['#'] }] });
    const queues = JSON.parse(await cluster.ctl(1, '-q', 'list_queues', 'name', 'type', 'members', '--formatter', 'json')) as { name: string; type: string; members: string[] }[];
    expect(queues.find((q) => q.name === quorum)).toMatchObject({ type: 'quorum', members: expect.arrayContaining([expect.any(String), expect.any(String), expect.any(String)]) });
    expect(queues.find((q) => q.name === stream)?.type).toBe('stream');
    expect(new Set(queues.find((q) => q.name === quorum)!.members).size).toBe(3);
    await cluster.ctl(1, '-q', 'delete_queue', quorum);
    await cluster.ctl(1, '-q', 'delete_queue', stream);
  }, 60_000);

  it('a seeder that fails over before the quorum queue has elected a new leader publishes on once it has one (kill -9)', async () => {
    // RabbitMQ 3.10 sets a channel's quorum queue client up at the channel's first publish to the
    // queue, from the queue record's leader at that moment. A seeder that fails over faster than
    // the survivors elect a new leader gets a client that names the dead node: each publish asks
    // that node for its version, gets nodedown and is nacked, for as long as the channel lives
    // (seen in CI runs of the kill -9 case below under load, one run in five of
    // scripts/cluster-nack-probe.mjs on this machine). Here the survivors' members of the queue
    // are held (sys:suspend) from before the seeder starts until it has been nacked on its new
    // channel, so the record names the dead node for certain; then the election goes ahead.
    await cluster.awaitWritable('seedline-t-probe');
    const exchange = uniqueName('seedline-t');
    const queue = uniqueName('seedline-t-q');
    await declareTopology(cluster.url(3), exchange, { queues: [{ name: queue, type: 'quorum', bindings: ['#'] }] });
    const member = `'%2F_${queue}'`; // the queue's Ra server on each node
    const report = join(work, `${exchange}-p2.json`);
    let held = false;
    try {
      await Promise.all([cluster.ctl(1, 'eval', `sys:suspend(${member}).`), cluster.ctl(2, 'eval', `sys:suspend(${member}).`)]);
      held = true;
      const run = cliRunning(['seed', '--events', dir, '--amqp-url', cluster.urls, '--exchange', exchange, '--partition', '2/3', '--rate', String(RATE), '--max-in-flight', String(WINDOW), '--reconnect-within', '60', '--report', report]);
      // Its first checkpoint is written once it is connected (partition 2 starts on node 3);
      // nothing is confirmed while the queue cannot commit.
      await untilPosition(defaultCheckpointPath(dir, exchange, { index: 2, count: 3 }), 0);
      await cluster.kill(3);
      await run.until(/reconnected to RabbitMQ at [^\n]*[\s\S]*the broker nacked an event/);
      await Promise.all([cluster.ctl(1, 'eval', `sys:resume(${member}).`), cluster.ctl(2, 'eval', `sys:resume(${member}).`)]);
      held = false;
      const ended = await run.done;
      expect(ended.code, `${ended.stdout}\n${ended.stderr}`).toBe(0);
      const result = (await readRunReport(report)).result!;
      expect(result.reconnects).toBe(1);
      const expected = events.filter((e) => keySelected(e.key, { partition: { index: 2, count: 3 } })).map((e) => e.id);
      const ids = await drain(cluster.url(1), queue, expected.length);
      expect(new Set(ids)).toEqual(new Set(expected));
      expect(ids.length - expected.length).toBeLessThanOrEqual(result.republished);
      expect(keysOutOfOrder(ids)).toEqual([]);
    } finally {
      if (held) await Promise.all([1, 2].map((n) => cluster.ctl(n as ClusterNode, 'eval', `sys:resume(${member}).`).catch(() => undefined)));
      await cluster.restart(3);
      await cluster.ctl(1, '-q', 'delete_queue', queue).catch(() => undefined);
      await cluster.ctl(1, '-q', 'eval', `rabbit_exchange:delete(rabbit_misc:r(<<"/">>, exchange, <<"${exchange}">>), false, <<"test">>).`).catch(() => undefined);
    }
  }, 240_000);

  for (const [how, victim] of [
    ['stop_app', 2],
    ['kill -9', 3],
  ] as const satisfies readonly (readonly [string, ClusterNode])[]) {
    it(`loses node ${victim} (${how}) mid-run: its seeder fails over, the quorum queue keeps everything, per-key order holds`, async () => {
      // Every node accepts quorum-queue writes again (the other test's node may have just come back).
      await cluster.awaitWritable('seedline-t-probe');
      const exchange = uniqueName('seedline-t');
      const queue = uniqueName('seedline-t-q');
      // Declared through the victim: the quorum queue's leader is on the node that goes away.
      await declareTopology(cluster.url(victim), exchange, { queues: [{ name: queue, type: 'quorum', bindings: ['#'] }] });
      const reports = [0, 1, 2].map((i) => join(work, `${exchange}-p${i}.json`));
      try {
        const seedArgs = (i: number, report: string) =>
          ['seed', '--events', dir, '--amqp-url', cluster.urls, '--exchange', exchange, '--partition', `${i}/3`, '--rate', String(RATE), '--max-in-flight', String(WINDOW), '--reconnect-within', '60', '--report', report];
        const runs = [0, 1, 2].map((i) => cli(seedArgs(i, reports[i]!)));
        // Partition i starts on node i+1: the victim's seeder is partition victim-1.
        await untilPosition(defaultCheckpointPath(dir, exchange, { index: victim - 1, count: 3 }), EVENTS / 10);
        if (how === 'stop_app') await cluster.ctl(victim, '-q', 'stop_app');
        else await cluster.kill(victim);
        const ended = await Promise.all(runs);

        // A seeder that failed over can land on a node whose quorum queue client still nacks (the
        // leader was on the lost node) for longer than its ~26 s of nack retries: it then stops with
        // PUBLISH_FAILED and `seed --resume` continues it (seeder/README.md). Seen in fresh-clone CI
        // runs after a kill -9, never when this file ran alone; the rest of the checks still hold.
        const resumeReports: string[] = [];
        for (const [i, run] of ended.entries()) {
          if (run.code === 0) continue;
          expect(run.stderr, `${run.stdout}\n${run.stderr}`).toMatch(/RabbitMQ rejected event .* times \(nack\)/);
          const resumeReport = `${reports[i]!}.resume.json`; // after the first report in file-name order
          const again = await cli([...seedArgs(i, resumeReport), '--resume']);
          expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
          resumeReports.push(resumeReport);
        }
        const onVictim = ended[victim - 1]!.stderr;
        expect(onVictim).toContain(`lost the connection to RabbitMQ at amqp://guest:***@127.0.0.1:${cluster.base + victim}`);
        expect(onVictim).toMatch(new RegExp(`reconnected to RabbitMQ at amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:(?!${cluster.base + victim})\\d+`));
        const results = await Promise.all(reports.map(async (r) => (await readRunReport(r)).result!));
        expect(results[victim - 1]!.reconnects).toBeGreaterThanOrEqual(1);
        const republished = results.reduce((s, r) => s + r.republished, 0);
        expect(republished).toBeLessThanOrEqual(WINDOW * results.reduce((s, r) => s + r.reconnects, 0));

        // The combined view of the three run reports says the whole data set arrived.
        const combined = await cli(['report', ...reports, ...resumeReports]);
        expect(combined.code, combined.stderr).toBe(0);
        expect(combined.stdout).toContain(`the whole data set arrived: ${EVENTS.toLocaleString('en-US')} events in 3 partitions`);

        // An independent consumer on a surviving node: everything, within the bound, in order per key.
        const ids = await drain(cluster.url(1), queue, EVENTS);
        expect(new Set(ids).size).toBe(EVENTS);
        expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
        expect(ids.length - EVENTS).toBeLessThanOrEqual(republished + WINDOW * resumeReports.length);
        expect(keysOutOfOrder(ids)).toEqual([]);
      } finally {
        await cluster.restart(victim);
        await cluster.ctl(1, '-q', 'delete_queue', queue).catch(() => undefined);
        await cluster.ctl(1, '-q', 'eval', `rabbit_exchange:delete(rabbit_misc:r(<<"/">>, exchange, <<"${exchange}">>), false, <<"test">>).`).catch(() => undefined);
      }
    }, 240_000);
  }
});
