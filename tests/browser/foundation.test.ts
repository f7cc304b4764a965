// The foundation in real Chromium: snippet + queued call before load, the records as cookies
// (names, attributes, decoded content), a new visit after the session ends, no page errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Cookie } from 'playwright';
import { launchChromium, watchErrors } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { snippetFor } from '../../src/sdk/snippet';
import { decode } from '../../src/sdk/storage/codec';

let browser: Browser;
let server: StaticServer;

const page = (body: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${body}</head><body><h1>Shop</h1></body></html>`;
const snippet = (site: string) => `<script>${snippetFor(`${server.url}/dist/poplet.js?site=${site}`)}</script>`;
const value = (cookies: Cookie[], name: string) => decode(decodeURIComponent(cookies.find((c) => c.name === name)!.value))!;
/**
 * The browser session ends: session cookies go. A browser takes more than a second to start
 * again, and a visit starting in the same second as the last one is that one (two tabs that
 * started it together), so this waits for the next second.
 */
const endSession = async (context: BrowserContext) => {
  for (const name of ['wisepops_session', 'wisepops_visitor']) await context.clearCookies({ name });
  await new Promise((ok) => setTimeout(ok, 1010 - (Date.now() % 1000)));
};

beforeAll(async () => {
  server = await startStaticServer();
  browser = await launchChromium();
  // An empty campaign set: the collection server's answer for a site with no live campaign.
  server.pages.set('/sites/shop/campaigns.json', { body: JSON.stringify({ site: 'shop', country: null, campaigns: [] }), type: 'application/json' });
  server.pages.set(
    '/landing.html',
    {
      body: page(`${snippet('shop')}<script>
        wisepops('properties', { plan: 'gold', user: { since: new Date(Date.UTC(2024, 0, 2)) } });
        wisepops('listen', 'ready', function () { window.readyFired = (window.readyFired || 0) + 1; });
        wisepops('bogus-command', 1);
      </script>`),
    },
  );
  server.pages.set('/offline.html', { body: page(`${snippet('nowhere')}<script>wisepops('event', 'x')</script>`) });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('foundation in Chromium', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(() => context.close());

  it('replays the queued call and writes the records as first-party cookies', async () => {
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(`${server.url}/landing.html?utm_source=news&utm_campaign=spring`, { referer: 'https://www.google.com/' });
    await p.waitForFunction(() => (window as unknown as { readyFired?: number }).readyFired === 1);
    const before = Date.now() / 1000;
    const cookies = await context.cookies();
    const names = cookies.map((c) => c.name).sort();
    expect(names).toEqual(['wisepops_props', 'wisepops_session', 'wisepops_visitor', 'wisepops_visits']);
    for (const c of cookies) {
      expect(c.path).toBe('/');
      expect(c.sameSite).toBe('Lax');
      expect(c.secure).toBe(false);
      expect(c.domain).toBe('127.0.0.1');
    }
    const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
    // persistent: two years asked, which Chromium caps at 400 days (RFC 6265bis); session: none
    for (const n of ['wisepops_props', 'wisepops_visits']) {
      expect(byName[n].expires - before).toBeGreaterThan(399 * 86400);
      expect(byName[n].expires - before).toBeLessThanOrEqual(400 * 86400 + 5);
    }
    expect(byName.wisepops_session.expires).toBe(-1);
    expect(byName.wisepops_visitor.expires).toBe(-1);

    expect(value(cookies, 'wisepops_props')).toEqual([{ plan: 'gold', user: { since: '2024-01-02T00:00:00.000Z' } }]);
    const visits = value(cookies, 'wisepops_visits') as [number, number, number[]];
    expect(visits[1]).toBe(1);
    expect(visits[2]).toHaveLength(1);
    const session = value(cookies, 'wisepops_session');
    expect(session[2]).toBe(1);
    expect(session[3]).toBe(`${server.url}/landing.html?utm_source=news&utm_campaign=spring`);
    expect(session[4]).toBe('https://www.google.com/');
    expect(session[5]).toEqual(['news', '', 'spring', '', '']);
    expect(value(cookies, 'wisepops_visitor')[0]).toMatch(/^[\w-]{21}$/);

    const dbg = (await p.evaluate(() => (window as unknown as { wisepops(c: string): unknown }).wisepops('debug'))) as { context: { props: unknown; device: string } };
    expect(dbg.context.props).toEqual({ plan: 'gold', user: { since: '2024-01-02T00:00:00.000Z' } });
    expect(dbg.context.device).toBe('desktop');
    expect(errors).toEqual([]);
    await p.close();
  });

  it('a reload in the same session adds a page view; after the session ends it adds a visit', async () => {
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(`${server.url}/landing.html`);
    await p.waitForFunction(() => (window as unknown as { readyFired?: number }).readyFired === 1);
    let visits = value(await context.cookies(), 'wisepops_visits') as [number, number, number[]];
    expect(visits[1]).toBe(2);
    expect(visits[2]).toHaveLength(1);
    await endSession(context);
    await p.reload();
    await p.waitForFunction(() => (window as unknown as { readyFired?: number }).readyFired === 1);
    visits = value(await context.cookies(), 'wisepops_visits') as [number, number, number[]];
    expect(visits[1]).toBe(3);
    expect(visits[2]).toHaveLength(2);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('debug mode prints the context to the console with the [poplet] prefix', async () => {
    const p = await context.newPage();
    const logs: string[] = [];
    p.on('console', (m) => logs.push(m.text()));
    await p.goto(`${server.url}/landing.html?poplet_debug=1`);
    await p.waitForFunction(() => (window as unknown as { readyFired?: number }).readyFired === 1);
    expect(logs.some((l) => l.startsWith('[poplet] context'))).toBe(true);
    expect(logs.some((l) => l.startsWith('[poplet] unknown command: bogus-command'))).toBe(true);
    await p.close();
  });

  it('ready waits for the campaign set: a ready listener sees it evaluated; a set that fails to load still ends in ready', async () => {
    const campaign = {
      id: 7, name: 'Later', status: 'live', trigger: { type: 'event', name: 'never' }, layout: { type: 'popup' },
      content: { label: 'x', steps: [{ blocks: [{ type: 'heading', text: 'x' }] }], success: { blocks: [{ type: 'heading', text: 'y' }] } },
    };
    server.pages.set('/sites/slow/campaigns.json', { body: JSON.stringify({ site: 'slow', country: null, campaigns: [campaign] }), type: 'application/json' });
    for (const site of ['slow', 'missing'])
      server.pages.set(`/${site}.html`, {
        body: page(`${snippet(site)}<script>
          wisepops('listen', 'ready', function () { window.atReady = wisepops('debug').campaigns.map(function (c) { return c.id + ' ' + c.status; }); });
        </script>`),
      });
    const p = await context.newPage();
    const errors = watchErrors(p);
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    await p.route('**/sites/slow/campaigns.json', async (r) => (await held, r.continue()));
    await p.goto(`${server.url}/slow.html`);
    const atReady = () => p.evaluate(() => (window as unknown as { atReady?: string[] }).atReady);
    await p.waitForFunction(() => typeof window.wisepops == 'function' && !('q' in window.wisepops));
    await new Promise((r) => setTimeout(r, 300));
    expect(await atReady()).toBeUndefined();
    release();
    await p.waitForFunction(() => (window as unknown as { atReady?: unknown }).atReady !== undefined);
    expect(await atReady()).toEqual(['7 eligible']);
    // No campaign set for this site (404): ready comes all the same, with nothing to show.
    await p.goto(`${server.url}/missing.html`);
    await p.waitForFunction(() => (window as unknown as { atReady?: unknown }).atReady !== undefined);
    expect(await atReady()).toEqual([]);
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    await p.close();
  });
});

describe('consent in Chromium: a CMP that answers once, as Wisepops documents it', () => {
  it('denied by default: session cookies only; granted: persistent and remembered on later pages and sessions until denied', async () => {
    // Every page says "denied until the CMP answers"; the CMP answers on the first page only.
    server.pages.set('/cmp.html', {
      body: page(`${snippet('shop')}<script>
        wisepops('options', { defaultConsent: 'denied' });
        wisepops('listen', 'ready', function () { window.readyFired = 1; });
      </script>`),
    });
    const context = await browser.newContext();
    const p = await context.newPage();
    const errors = watchErrors(p);
    const open = async () => {
      await p.goto(`${server.url}/cmp.html`);
      await p.waitForFunction(() => (window as unknown as { readyFired?: number }).readyFired === 1);
    };
    const lifetimes = async () => Object.fromEntries((await context.cookies()).map((c) => [c.name, c.expires == -1 ? 'session' : 'persistent']));
    const wp = (...a: unknown[]) => p.evaluate((a) => (window as unknown as { wisepops(...a: unknown[]): unknown }).wisepops(...a), a);

    await open();
    expect(await lifetimes()).toEqual({ wisepops_session: 'session', wisepops_visits: 'session' });
    await wp('consent', 'granted');
    expect(await lifetimes()).toEqual({ wisepops: 'persistent', wisepops_session: 'session', wisepops_visits: 'persistent', wisepops_visitor: 'session' });
    // The grant is in the state record's flags (2), with no history yet.
    expect(value(await context.cookies(), 'wisepops')).toEqual([2, []]);
    const id = value(await context.cookies(), 'wisepops_visitor')[0];

    // Next page: nobody calls consent, defaultConsent is still 'denied': the grant holds.
    await open();
    expect(await lifetimes()).toMatchObject({ wisepops: 'persistent', wisepops_visits: 'persistent', wisepops_visitor: 'session' });
    expect(value(await context.cookies(), 'wisepops_visitor')[0]).toBe(id);
    // Next browser session too (session cookies gone): a new analytics id, records still persistent.
    await endSession(context);
    await open();
    expect(await lifetimes()).toMatchObject({ wisepops: 'persistent', wisepops_visits: 'persistent', wisepops_visitor: 'session' });
    const visits = value(await context.cookies(), 'wisepops_visits') as [number, number, number[]];
    expect(visits[2]).toHaveLength(2);

    // Denied: back to session-only at once, the analytics id and the grant gone, on later pages too.
    await wp('consent', 'denied');
    const denied = { wisepops: 'session', wisepops_session: 'session', wisepops_visits: 'session' };
    expect(await lifetimes()).toEqual(denied);
    // Remembered as denied (4), for the browser session: all a denied record may live.
    expect(value(await context.cookies(), 'wisepops')).toEqual([4, []]);
    await open();
    expect(await lifetimes()).toEqual(denied);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('without a collection server', () => {
  it('campaign loading fails quietly: no exception reaches the page', async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(`${server.url}/offline.html`);
    await p.waitForFunction(() => !!(window as unknown as { wisepops: { poplet?: number } }).wisepops.poplet);
    await p.waitForTimeout(300);
    // Chromium itself reports the failed request; the script adds nothing.
    expect(errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
    expect((await context.cookies()).map((c) => c.name)).toContain('wisepops_visits');
    await context.close();
  });
});
