/**
 * The report page as a user sees it: a real seed run against the local RabbitMQ writes the
 * run report, `seedline report` renders it, and headless Chromium opens the file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../common/test-support.ts';
import { seedCommand } from '../cli.ts';
import { chartPoints } from './report-html.ts';
import { readRunReport, type RunReport } from './report.ts';
import { reportCommand } from './report-cli.ts';
import { launchChromium, openLocalPage } from '../test-browser.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from '../test-helpers.ts';

describe('seedline report, opened in headless Chromium', () => {
  let events: string;
  let report: RunReport;
  let page: string;
  const exchange = uniqueName('seedline-report');

  beforeAll(async () => {
    events = await writeEventsDataset(await makeEvents(500));
    // Only chat.* is bound: the members events come back unroutable, so the page has returns to show.
    const consumer = await TestConsumer.bind(exchange, { pattern: 'chat.#' });
    try {
      const json = join(events, '..', 'run.json');
      await runCommand(seedCommand(), ['--events', events, '--exchange', exchange, '--rate', '200', '--report', json, '--no-checkpoint', '--progress', 'off']);
      await runCommand(reportCommand(), [json]);
      report = await readRunReport(json);
      page = join(events, '..', 'run.html');
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });
  afterAll(async () => {
    await removeDataset(events);
    process.exitCode = undefined;
  });

  it('renders both charts with a point per second, the summary, and loads nothing else', async () => {
    const browser = await launchChromium();
    try {
      const { tab, problems, requests } = await openLocalPage(browser.context, page);

      const expected = chartPoints(report.seconds).length;
      expect(expected).toBeGreaterThanOrEqual(2); // 500 events at 200/s: about 2.5 s
      for (const series of ['target', 'achieved', 'p50', 'p99']) {
        const path = tab.locator(`svg path[data-series="${series}"]`);
        await expect(path.count(), series).resolves.toBe(1);
        const d = (await path.getAttribute('d')) ?? '';
        const drawn = d.match(/[ML]/g)?.length ?? 0;
        if (series === 'target' || series === 'achieved') expect(drawn, series).toBe(expected);
        else expect(drawn, series).toBeGreaterThanOrEqual(expected - 1); // a second without confirms leaves a gap
        // Laid out by the browser: the line has a real extent on the page.
        const box = await path.boundingBox();
        expect(box!.width, series).toBeGreaterThan(100);
        await expect(tab.locator(`svg circle.point.${series}`).count()).resolves.toBe(drawn);
      }

      await expect(tab.title()).resolves.toBe(`seedline run report — ${report.result!.runId}`);
      await expect(tab.locator('#rate-chart > title').textContent()).resolves.toBe('Target vs achieved rate (events/s)');
      const summary = (await tab.locator('#summary').innerText()).replace(/\s+/g, ' ');
      expect(summary).toContain('published 500');
      expect(summary).toContain('confirmed 500');
      expect(summary).toContain('returned (unroutable) 250');
      await expect(tab.locator('#returned').innerText()).resolves.toMatch(/members\.member-registered\s+250/);
      const percentiles = await tab.locator('#distribution td').allInnerTexts();
      expect(percentiles[0]).toBe('500');
      expect(percentiles).toHaveLength(8);
      await expect(tab.locator('#rate-chart .tick.y').count()).resolves.toBeGreaterThan(2);

      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(page).href]);
    } finally {
      await browser.close();
    }
  });

  it('the page is one self-contained file', async () => {
    const html = await readFile(page, 'utf8');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/);
  });
});
