/**
 * The ledger page as a person sees it: a real seed with one event type unbound (unroutable),
 * `seedline ledger --html`, opened in headless Chromium.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../common/test-support.ts';
import { seedCommand } from '../seeder/cli.ts';
import { launchChromium, openLocalPage } from '../seeder/test-browser.ts';
import { TestConsumer, deleteExchange, uniqueName } from '../seeder/test-helpers.ts';
import { ledgerCommand } from './ledger-cli.ts';
import { fixturePipeline, type FixturePipeline } from './test-support.ts';

describe('seedline ledger --html, opened in headless Chromium', () => {
  let p: FixturePipeline;
  let page: string;
  const exchange = uniqueName('seedline-ledger-page');
  const unbound = 'likes.photo-liked';

  beforeAll(async () => {
    p = await fixturePipeline();
    const consumers = await Promise.all(Object.keys(p.transform.eventsByType).filter((t) => t !== unbound).map((t) => TestConsumer.bind(exchange, { pattern: t, consume: false })));
    try {
      const run = join(p.dir, 'run.json');
      await runCommand(seedCommand(), ['--events', p.events, '--exchange', exchange, '--report', run, '--no-checkpoint', '--progress', 'off']);
      page = join(p.dir, 'ledger.html');
      const out = await runCommand(ledgerCommand(), ['--dump', p.dump, '--events', p.events, '--run', run, '--html', page]);
      expect(out.stdout).toContain(`page: ${page}`);
    } finally {
      await Promise.all(consumers.map((c) => c.close()));
      await deleteExchange(exchange);
    }
  }, 120_000);
  afterAll(async () => {
    await p?.dispose();
    process.exitCode = undefined;
  });

  it('shows the verdict, a flow picture from tables to outcomes, and every balance; loads nothing else', async () => {
    const browser = await launchChromium();
    try {
      const { tab, problems, requests } = await openLocalPage(browser.context, page);

      await expect(tab.locator('#verdict').innerText()).resolves.toMatch(/^ledger: balanced — 1,384 rows extracted|^ledger: balanced/);
      await expect(tab.locator('#verdict').getAttribute('class')).resolves.toBe('balanced');
      // The picture: laid out by the browser, wide, with a box per table, module, type and outcome.
      const box = await tab.locator('svg#flow').boundingBox();
      expect(box!.width).toBeGreaterThan(600);
      expect(box!.height).toBeGreaterThan(200);
      for (const id of ['table:Messages', 'module:chat', 'type:chat.message-sent', 'outcome:delivered', 'outcome:rejected', 'outcome:unroutable', 'outcome:not read']) {
        await expect(tab.locator(`svg#flow g.node[data-id="${id}"]`).count(), id).resolves.toBe(1);
      }
      // The unroutable band carries the unbound type's events, and says so on hover.
      const band = tab.locator(`svg#flow path.band[data-from="type:${unbound}"][data-to="outcome:unroutable"]`);
      await expect(band.getAttribute('data-count')).resolves.toBe(String(p.transform.eventsByType[unbound]));
      await expect(band.locator('title').textContent()).resolves.toBe(`${unbound} → unroutable: ${p.transform.eventsByType[unbound]} events`);
      const bandBox = await band.boundingBox();
      expect(bandBox!.height).toBeGreaterThan(1);
      // Every stage has its table; the seed's names the unroutable events.
      await expect(tab.locator('section[data-stage]').count()).resolves.toBe(4);
      await expect(tab.locator('section[data-stage="seed"]').innerText()).resolves.toContain('returned unroutable');
      await expect(tab.locator('tr.open').count()).resolves.toBe(0);

      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(page).href]);
    } finally {
      await browser.close();
    }
  });

  it('the page is one self-contained file', async () => {
    const html = await readFile(page, 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/);
    expect(html).toContain("default-src 'none'");
  });
});
