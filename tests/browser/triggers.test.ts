// Every trigger type end to end in real Chromium: the real collection server serves the campaign
// set and the scripts, a page on another origin carries the install snippet, and the visitor
// does what the trigger waits for. (Exit intent: journeys-triggers and triggers-mobile.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import type { Campaign, Trigger } from '../../src/shared/campaign';
import { watchErrors } from '../helpers/browser';
import { startSiteServer, type SiteServer } from '../helpers/site-server';

/** One popup per trigger, each on its own path so they never compete for the popup slot. */
const TRIGGERS: Record<string, Trigger> = {
  landing: { type: 'landing', delay: 3 },
  scroll: { type: 'scroll', percent: 50 },
  idle: { type: 'inactivity', seconds: 2 },
  click: { type: 'click', selector: '.buy' },
  event: { type: 'event', name: 'added-to-cart' },
  pageviews: { type: 'pageviews', count: 2 },
  timed: { type: 'landing' },
};

const campaign = (path: string, trigger: Trigger, i: number): Campaign => ({
  id: 100 + i,
  name: `${path} campaign`,
  status: 'live',
  targeting:
    path == 'timed'
      ? { all: [{ type: 'page', field: 'path', op: 'equals', value: '/timed' }, { type: 'time', scope: 'on_site', op: 'gte', value: 3 }] }
      : { type: 'page', field: 'path', op: 'equals', value: `/${path}` },
  trigger,
  frequency: { repeat: { every: 'page' } },
  layout: { type: 'popup' },
  content: {
    label: `${path} offer`,
    steps: [{ blocks: [{ type: 'heading', text: `Shown by ${trigger.type}` }] }],
    success: { blocks: [{ type: 'heading', text: 'Thanks' }] },
  },
});

/**
 * Inactivity (4 s) on a page where a second campaign becomes eligible mid-wait: its targeting
 * matches once the site sets plan=pro, and its event never comes, so it only changes what is armed.
 */
const REARM = 'idle-rearm';
const rearmCampaigns: Campaign[] = [
  campaign(REARM, { type: 'inactivity', seconds: 4 }, 20),
  {
    ...campaign('pro', { type: 'event', name: 'never-sent' }, 21),
    targeting: { all: [{ type: 'page', field: 'path', op: 'equals', value: `/${REARM}` }, { type: 'property', key: 'plan', kind: 'string', op: 'equals', value: 'pro' }] },
  },
];

/**
 * Scroll 50 % on an app shell: the document never scrolls, a <main> filling the window does; a
 * tall menu beside it scrolls too, and must not count.
 */
const SHELL = 'app-shell';
const shellCampaign = campaign(SHELL, { type: 'scroll', percent: 50 }, 22);
/** The same shell with the body's default 8 px margin: the document scrolls too, by 16 px. */
const MARGIN_SHELL = 'app-shell-margin';
const marginShellCampaign = campaign(MARGIN_SHELL, { type: 'scroll', percent: 50 }, 23);

let site: SiteServer;
let browser: Browser;

beforeAll(async () => {
  site = await startSiteServer('shop.example', [...Object.entries(TRIGGERS).map(([path, t], i) => campaign(path, t, i)), ...rearmCampaigns, shellCampaign, marginShellCampaign]);
  browser = site.browser;
  for (const path of [...Object.keys(TRIGGERS), REARM]) {
    site.pages.pages.set(`/${path}`, {
      body: `<!doctype html><html lang="en"><head><title>${path}</title><link rel="icon" href="data:,"><script>${site.snippet}</script></head>
        <body><main><h1>${path}</h1><div style="height:4000px">long page</div></main></body></html>`,
    });
  }
  site.pages.pages.set(`/${SHELL}`, {
    body: `<!doctype html><html lang="en"><head><title>${SHELL}</title><link rel="icon" href="data:,"><script>${site.snippet}</script></head>
      <body style="margin:0"><nav style="position:fixed;left:0;top:0;width:200px;height:100vh;overflow:auto"><div style="height:5000px">menu</div></nav>
      <main style="margin-left:200px;height:100vh;overflow:auto"><h1>${SHELL}</h1><div style="height:4000px">app</div></main></body></html>`,
  });
  site.pages.pages.set(`/${MARGIN_SHELL}`, {
    body: `<!doctype html><html lang="en"><head><title>${MARGIN_SHELL}</title><link rel="icon" href="data:,"><script>${site.snippet}</script></head>
      <body><main style="height:100vh;overflow:auto"><h1>${MARGIN_SHELL}</h1><div style="height:4000px">app</div></main></body></html>`,
  });
});
afterAll(() => site?.close());

async function visit(path: string): Promise<{ page: Page; errors: string[]; popup: ReturnType<Page['getByRole']> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${site.pages.url}/${path}`);
  // The campaign set is loaded and evaluated: from here on, absence is a decision.
  await page.waitForFunction(() => {
    const d = window.wisepops('debug') as { campaigns?: unknown[] } | undefined;
    return !!d && Array.isArray(d.campaigns) && d.campaigns.length > 0;
  });
  return { page, errors, popup: page.getByRole('dialog', { name: `${path} offer` }) };
}

const stillHidden = async (popup: ReturnType<Page['getByRole']>, ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  expect(await popup.isVisible()).toBe(false);
};

describe('every trigger type in Chromium', () => {
  it('landing: shows after its delay, not before', async () => {
    const { popup, errors } = await visit('landing');
    expect(await popup.isVisible()).toBe(false);
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it('scroll: shows once the visitor scrolls past half of the page', async () => {
    const { page, popup, errors } = await visit('scroll');
    await page.mouse.move(600, 400);
    await page.mouse.wheel(0, 600); // about 19 % of the scrollable height
    await stillHidden(popup, 800);
    await page.mouse.wheel(0, 1600); // about 69 %
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it('scroll: on an app shell, where a <main> scrolls and the document does not, the main counts and a menu beside it does not', async () => {
    const { page, popup, errors } = await visit(SHELL);
    await page.mouse.move(100, 400);
    await page.mouse.wheel(0, 5000); // the menu, to its end
    await page.mouse.move(600, 400);
    await page.mouse.wheel(0, 600); // about 19 % of the main's scrollable height
    await stillHidden(popup, 800);
    expect(await page.evaluate(() => [document.querySelector('nav')!.scrollTop > 0, scrollY])).toEqual([true, 0]);
    await page.mouse.wheel(0, 1600); // about 69 %
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it('scroll: on an app shell whose document scrolls a little too (the body\'s default margin), the main counts', async () => {
    const { page, popup, errors } = await visit(MARGIN_SHELL);
    expect(await page.evaluate(() => document.documentElement.scrollHeight - innerHeight)).toBeGreaterThan(0);
    await page.mouse.move(600, 400);
    await page.mouse.wheel(0, 600); // about 19 % of the main's scrollable height
    await stillHidden(popup, 800);
    await page.mouse.wheel(0, 1600); // about 69 %
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(await page.evaluate(() => scrollY)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('inactivity: activity keeps it away, two idle seconds bring it', async () => {
    const { page, popup, errors } = await visit('idle');
    for (let i = 0; i < 6; i++) {
      await page.mouse.move(100 + i * 40, 200);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await popup.isVisible()).toBe(false);
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it('click: a delegated listener catches an element added after the script ran', async () => {
    const { page, popup, errors } = await visit('click');
    await page.evaluate(() => {
      const b = document.createElement('button');
      b.className = 'buy';
      b.textContent = 'Buy';
      document.querySelector('main')!.prepend(b);
    });
    await page.getByRole('heading', { name: 'click' }).click();
    await stillHidden(popup, 500);
    await page.getByRole('button', { name: 'Buy' }).click();
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it("event: wisepops('event', name) fires it, another name does not", async () => {
    const { page, popup, errors } = await visit('event');
    await page.evaluate(() => window.wisepops('event', 'something-else'));
    await stillHidden(popup, 500);
    await page.evaluate(() => window.wisepops('event', 'added-to-cart'));
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it('a "time on site ≥ 3 s" campaign shows while the visitor only reads the page', async () => {
    const { popup, errors } = await visit('timed');
    await stillHidden(popup, 1000);
    await popup.waitFor({ state: 'visible', timeout: 10_000 });
    expect(errors).toEqual([]);
  });

  it("pageviews: the second page view of the session fires it, an SPA wisepops('pageview') counts", async () => {
    const { page, popup, errors } = await visit('pageviews');
    await stillHidden(popup, 800);
    await page.evaluate(() => (history.pushState(null, '', '#route-2'), window.wisepops('pageview')));
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });
});

describe('re-arming mid-page', () => {
  const until = (t: number) => new Promise((r) => setTimeout(r, t - Date.now()));
  const status = (page: Page, id: number) =>
    page.evaluate((i) => (window.wisepops('debug') as { campaigns: Array<{ id: number; status: string }> }).campaigns.find((c) => c.id == i)!.status, id);

  it('inactivity fires on time although another campaign became eligible mid-wait', async () => {
    const { page, popup, errors } = await visit(REARM);
    expect(await status(page, 121)).toBe('skipped');
    await page.mouse.move(300, 300);
    const t0 = Date.now();
    await until(t0 + 3000);
    await page.evaluate(() => window.wisepops('properties', { plan: 'pro' }));
    // The waiting set changed, so the triggers were armed again.
    expect(await status(page, 121)).toBe('eligible');
    expect(await popup.isVisible()).toBe(false);
    // Due 4 s after the last move; a clock restarted by the re-arm would bring it at 7 s.
    await popup.waitFor({ state: 'visible', timeout: t0 + 5500 - Date.now() });
    expect(errors).toEqual([]);
  });

  it("an SPA wisepops('pageview') is a new page: the idle clock starts again", async () => {
    const { page, popup, errors } = await visit(REARM);
    await page.mouse.move(300, 300);
    const t0 = Date.now();
    await until(t0 + 3000);
    await page.evaluate(() => (history.pushState(null, '', '#route-2'), window.wisepops('pageview')));
    await stillHidden(popup, t0 + 5500 - Date.now());
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });
});
