// The whole Poplet stack for end-to-end tests: the collection server (real SQLite file in a temp
// data dir, hooks allowed to loopback) and the demo website on another 127.0.0.1 port, provisioned
// exactly as `npm start` does it (demo site, key, campaigns, webhook to the demo's receiver).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server/main';
import { silentLog } from '../../src/server/log';
import type { Browser, BrowserContext, Locator, Page } from 'playwright';
import { DEMO_CAMPAIGNS, provisionSite, registerDemoHook } from '../../demo/provision';
import { startDemoSite, type DemoSite } from '../../demo/site-server';
import type { EmailRow } from '../../src/shared/signup';
import type { Campaign } from '../../src/shared/campaign';
import type { DebugLine } from '../../src/sdk/engine/types';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, watchErrors } from './browser';

export interface Stack {
  /** Collection server base URL (same across restarts). */
  serverUrl: string;
  site: DemoSite;
  siteId: string;
  apiKey: string;
  dataDir: string;
  /** GET /api1/emails with the demo key. */
  emails(query?: Record<string, string>): Promise<EmailRow[]>;
  /** Graceful stop of the collection server (the demo site keeps running). */
  stopServer(): Promise<void>;
  /** Start it again on the same port and data dir. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One Chromium and one stack per test file: started before its tests, closed after them.
 * Read `env.browser` / `env.stack` inside tests (they exist once beforeAll has run).
 */
export function withStack(): { browser: Browser; stack: Stack } {
  const env = {} as { browser: Browser; stack: Stack };
  beforeAll(async () => {
    [env.browser, env.stack] = await Promise.all([launchChromium(), startStack()]);
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.stack?.close();
  });
  return env;
}

export async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'poplet-e2e-'));
  const dbPath = join(dataDir, 'poplet.db');
  const config = { dataDir, dbPath, host: '127.0.0.1', allowPrivateHooks: true, logRequests: false };
  const site = await startDemoSite();
  const first = await startServer({ ...config, port: 0 }, silentLog);
  let server: { url: string; close(): Promise<void> } | undefined = first;
  const serverUrl = first.url.replace(/\/$/, '');
  const port = Number(new URL(serverUrl).port);
  const { siteId, apiKey } = provisionSite({ dataDir, dbPath, origins: [site.url] });
  await registerDemoHook(serverUrl, apiKey, site.hookUrl);
  site.configure({ serverUrl, siteId, apiKey });

  return {
    serverUrl,
    site,
    siteId,
    apiKey,
    dataDir,
    async emails(query = {}) {
      const r = await fetch(`${serverUrl}/api1/emails?${new URLSearchParams(query)}`, {
        headers: { Authorization: `WISEPOPS-API key="${apiKey}"` },
      });
      if (!r.ok) throw new Error(`/api1/emails → ${r.status} ${await r.text()}`);
      return (await r.json()) as EmailRow[];
    },
    async stopServer() {
      await server?.close();
      server = undefined;
    },
    async restartServer() {
      server = await startServer({ ...config, port }, silentLog);
    },
    async close() {
      await server?.close();
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---- Visitors on the stack: what every journey does in the browser ----

export const DEMO = JSON.parse(readFileSync(DEMO_CAMPAIGNS, 'utf8')) as Campaign[];

const byId = (id: number): Campaign => {
  const c = DEMO.find((x) => x.id === id);
  if (!c) throw new Error(`no demo campaign ${id}`);
  return c;
};

/** The first words a visitor sees of a demo campaign (its first block's text). */
export function firstText(id: number): string {
  const b = byId(id).content.steps[0]!.blocks[0]!;
  if (!('text' in b)) throw new Error(`campaign ${id} does not open with text`);
  return b.text;
}

/** A demo campaign on screen, found by its accessible name (content.label), whatever its role. */
export function campaignBox(page: Page, id: number): Locator {
  const name = byId(id).content.label;
  return page
    .getByRole('dialog', { name, exact: true })
    .or(page.getByRole('region', { name, exact: true }))
    .or(page.getByRole('complementary', { name, exact: true }));
}

export interface Visitor {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen on the page. */
  errors: string[];
}

/** A brand-new visitor: fresh browser context, desktop viewport, optionally a fake clock from `clock` (epoch ms). */
export async function newVisitor(browser: Browser, opts: { clock?: number } = {}): Promise<Visitor> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (opts.clock !== undefined) await context.clock.install({ time: opts.clock });
  const page = await context.newPage();
  return { context, page, errors: watchErrors(page) };
}

/** Runs in the page: the debug lines of `wisepops('debug')`, or null before the first evaluation. */
function readDebug(): unknown[] | null {
  try {
    const out = window.wisepops('debug') as unknown;
    const list = Array.isArray(out) ? out : (out as { campaigns?: unknown } | null)?.campaigns;
    return Array.isArray(list) && list.length > 0 ? list : null;
  } catch {
    return null;
  }
}

/**
 * Waits until Poplet has loaded the campaign set and evaluated it on this page view (its debug
 * lines exist), then `settleMs` more so landing triggers and their short delays have had time to
 * fire. Used before asserting that something is NOT shown, so the absence means a decision.
 */
export async function settled(page: Page, settleMs = 1200): Promise<DebugLine[]> {
  await page.waitForFunction(readDebug, undefined, { timeout: 10_000, polling: 100 });
  await page.waitForTimeout(settleMs);
  return (await page.evaluate(readDebug)) as DebugLine[];
}

/** Texts of the demo campaigns visible on the page right now. */
export async function visibleCampaigns(page: Page): Promise<number[]> {
  const ids: number[] = [];
  for (const c of DEMO) if (await page.getByText(firstText(c.id), { exact: true }).isVisible()) ids.push(c.id);
  return ids;
}

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. Checks that call
 * the Email API should poll slowly (its per-key limit is 60 requests a minute).
 */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 8000,
  what = 'condition',
  intervalMs = 150,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
