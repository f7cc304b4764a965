// A single-page app in real Chromium: one document, the router calling wisepops('pageview') after
// each history.pushState. The real collection server serves the campaign set and the scripts;
// the pages come from another origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import type { Campaign } from '../../src/shared/campaign';
import { launchChromium, watchErrors } from '../helpers/browser';
import { startSiteServer, type SiteServer } from '../helpers/site-server';

/** Each app lives under its own first path segment, so its campaigns meet no other test's. */
const campaign = (id: number, app: string, extra: Partial<Campaign>): Campaign => ({
  id,
  name: `C${id}`,
  status: 'live',
  targeting: { type: 'page', field: 'path', op: 'starts_with', value: `/${app}/` },
  trigger: { type: 'landing' },
  layout: { type: 'popup' },
  content: { label: `Offer ${id}`, steps: [{ blocks: [{ type: 'heading', text: `Offer ${id}` }] }], success: { blocks: [{ type: 'heading', text: 'Thanks' }] } },
  ...extra,
});

const CAMPAIGNS: Campaign[] = [
  // Shows on every page view, and a close does not stop it.
  campaign(1, 'every-page', { frequency: { repeat: { every: 'page' }, stopAfter: { close: false } } }),
  campaign(2, 'routes-away', {}),
  campaign(3, 'late-slot', { layout: { type: 'embed', selector: '#newsletter' } }),
];
/** Each app's page, and what it runs after the snippet. */
const APPS: Record<string, string> = {
  'every-page': '',
  // A listener asked about the popup moves the app to another route (a guard redirecting, a
  // router reacting to the event), where the campaign's targeting does not apply.
  'routes-away': `wisepops('listen', 'before-popup-display', function () {
      if (location.pathname != '/routes-away/home') return;
      history.pushState({}, '', '/signed-out/login');
      wisepops('pageview');
    });`,
  'late-slot': '',
};

let site: SiteServer;
let browser: Browser;

beforeAll(async () => {
  site = await startSiteServer('spa.example', CAMPAIGNS);
  browser = site.browser;
  for (const [app, script] of Object.entries(APPS))
    site.pages.pages.set(`/${app}/home`, {
      body: `<!doctype html><html lang="en"><head><title>${app}</title><link rel="icon" href="data:,"><script>${site.snippet}</script><script>${script}</script></head>
        <body><main><h1>${app}</h1><div style="height:3000px">app</div></main></body></html>`,
    });
  // A page of another site on the same host, without Poplet: a place to leave to and come back from.
  site.pages.pages.set('/elsewhere', { body: '<!doctype html><title>elsewhere</title><link rel="icon" href="data:,"><p>elsewhere</p>' });
});
afterAll(() => site?.close());

async function open(app: string, b = browser): Promise<{ page: Page; errors: string[] }> {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${site.pages.url}/${app}/home`);
  await page.waitForFunction(() => {
    const d = window.wisepops('debug') as { campaigns?: unknown[] } | undefined;
    return !!d && Array.isArray(d.campaigns) && d.campaigns.length > 0;
  });
  return { page, errors };
}

/** The router: the URL first, then the page view, as README's `router.afterEach`. */
const route = (page: Page, path: string) =>
  page.evaluate((p) => {
    history.pushState({}, '', p);
    window.wisepops('pageview');
  }, path);

const displays = (page: Page, id: number) =>
  page.evaluate((i) => ((window.wisepops('debug')!.context.history as Record<number, { d: number }>)[i] || { d: 0 }).d, id);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SPA route changes', () => {
  it('a popup still open from the previous route, closed on this one, does not come straight back: it showed on this page view', async () => {
    const { page, errors } = await open('every-page');
    const popup = page.getByRole('dialog', { name: 'Offer 1' });
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    await route(page, '/every-page/pricing');
    // Popups stay across a route change (README: the visitor may be halfway through a form).
    expect(await popup.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await popup.waitFor({ state: 'hidden', timeout: 5000 });
    await sleep(800);
    expect(await popup.isVisible()).toBe(false);
    expect(await displays(page, 1)).toBe(1);
    // The next route is a new page view: it shows again there.
    await route(page, '/every-page/about');
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(errors).toEqual([]);
  });

  it("the router's report of the first route, after the script counted it, is the same page view: the landing page is not counted twice", async () => {
    const { page, errors } = await open('every-page');
    const pageviews = () => page.evaluate(() => (window.wisepops('debug')!.context.session as { pageviews: number }).pageviews);
    const popup = page.getByRole('dialog', { name: 'Offer 1' });
    await popup.waitFor({ state: 'visible', timeout: 5000 });
    expect(await pageviews()).toBe(1);
    // As Vue's router.afterEach or a React effect does once the app has mounted, after poplet.js ran.
    await page.evaluate(() => window.wisepops('pageview'));
    expect(await pageviews()).toBe(1);
    expect(await displays(page, 1)).toBe(1);
    // Only that first report: a later call on the same URL is a page view of its own.
    await page.evaluate(() => window.wisepops('pageview'));
    expect(await pageviews()).toBe(2);
    await route(page, '/every-page/pricing');
    expect(await pageviews()).toBe(3);
    expect(errors).toEqual([]);
  });

  it('a page view the site records when its landing page comes back from the back/forward cache is a page view, not the claimed first one', async () => {
    const bfcache = await launchChromium({ bfcache: true });
    try {
      const { page, errors } = await open('every-page', bfcache);
      const pageviews = () => page.evaluate(() => (window.wisepops('debug')!.context.session as { pageviews: number }).pageviews);
      await page.getByRole('dialog', { name: 'Offer 1' }).waitFor({ state: 'visible', timeout: 5000 });
      // As a site does that counts page views on a bfcache restore.
      await page.evaluate(() =>
        addEventListener('pageshow', (e) => {
          if (!e.persisted) return;
          window.wisepops('pageview');
          (window as unknown as { restored: boolean }).restored = true;
        }),
      );
      await page.goto(`${site.pages.url}/elsewhere`);
      // A restore fires no load event.
      await page.goBack({ waitUntil: 'commit' });
      // The same document, restored (a reload would have run the script again, without the listener).
      await page.waitForFunction(() => (window as unknown as { restored?: boolean }).restored, null, { timeout: 5000 });
      expect(await pageviews()).toBe(2);
      expect(errors).toEqual([]);
    } finally {
      await bfcache.close();
    }
  });

  it("an embed waits for its element, which the route draws after loading its data, and fills it then", async () => {
    const { page, errors } = await open('late-slot');
    const status = () => page.evaluate(() => window.wisepops('debug')!.campaigns.find((c) => c.id == 3));
    await expect.poll(status).toMatchObject({ status: 'eligible', reason: 'waiting for #newsletter' });
    await sleep(1200);
    expect(await displays(page, 3)).toBe(0);
    // The route's data arrives: the framework draws the slot.
    await page.evaluate(() => document.querySelector('main')!.insertAdjacentHTML('beforeend', '<section id="newsletter"></section>'));
    await page.locator('#newsletter poplet-campaign').getByRole('heading', { name: 'Offer 3' }).waitFor();
    await expect.poll(status).toMatchObject({ status: 'shown' });
    await expect.poll(() => displays(page, 3)).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a page view recorded by a before-popup-display listener ends the old page\'s batch: its popup is not drawn on the new route', async () => {
    const { page, errors } = await open('routes-away');
    await page.waitForFunction(() => location.pathname == '/signed-out/login');
    await sleep(800);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await displays(page, 2)).toBe(0);
    const debug = await page.evaluate(() => window.wisepops('debug')!.campaigns.find((c) => c.id == 2));
    expect(debug).toMatchObject({ status: 'skipped' });
    expect(errors).toEqual([]);
  });
});
