/**
 * Test support: Debian's Chromium, headless, driven by playwright-core. No skipping when it
 * is missing: scripts/ensure-services.sh installs it (CI runs that first).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep a headless Chromium off the network and away from the profile it does not have. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser with a fresh profile of its own; `close()` also removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/ensure-services.sh (it apt-get installs chromium)`);
  const profile = await mkdtemp(join(tmpdir(), 'seedline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a local file in a new tab of `context`, recording what a self-contained page must not
 * have: console errors, page errors, and requests (only the file itself is expected).
 */
export async function openLocalPage(context: BrowserContext, file: string): Promise<{ tab: Page; problems: string[]; requests: string[] }> {
  const tab = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  tab.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  tab.on('pageerror', (e) => problems.push(e.message));
  tab.on('request', (r) => requests.push(r.url()));
  await tab.goto(pathToFileURL(file).href);
  return { tab, problems, requests };
}
