import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../seeder/test-helpers.ts';
import { runDemo } from './run-demo.ts';

describe('seedline demo ends with the ledger', () => {
  const exchange = uniqueName('seedline-demo-test');
  const queue = uniqueName('seedline-demo-test-q');
  let out = '';
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
    const c = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await c.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteExchange(exchange);
    await c.close();
  });

  it("prints the ledger's one-line verdict and where its page is, last", async () => {
    out = await mkdtemp(join(tmpdir(), 'seedline-demo-ledger-'));
    const lines: string[] = [];
    const result = await runDemo({ out, preset: 'tiny', exchange, queue, progress: 'off', onStage: (l) => lines.push(l) });
    expect(result.ledger.balanced).toBe(true);
    const last = lines[lines.length - 1]!;
    expect(last).toMatch(/^ledger: {3}balanced — [\d,]+ rows extracted → .* → [\d,]+ routed \(0 unroutable, 0 not selected\); nothing unaccounted for; page /);
    expect(last.endsWith(join(out, 'ledger.html'))).toBe(true);
    expect(await readFile(join(out, 'ledger.html'), 'utf8')).toContain('<svg id="flow"');
  }, 180_000);
});
