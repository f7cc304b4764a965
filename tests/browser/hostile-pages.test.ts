// Odd host pages in real Chromium, with the real core and both real chunks: a modal the page opens
// while the UI chunk loads, two installs, and (below) pages that change built-in prototypes or
// shadow the global's name. Nothing may reach the page, and Poplet must keep working there.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchChromium, visitorOf, watchErrors } from '../helpers/browser';
import { snippetFor } from '../../src/sdk/snippet';
import type { Campaign } from '../../src/shared/campaign';
import type { DebugLine } from '../../src/sdk/engine/types';

const DIST = resolve(import.meta.dirname, '../../dist');

const POPUP: Campaign = {
  id: 1,
  name: 'Welcome',
  status: 'live',
  trigger: { type: 'landing' },
  layout: { type: 'popup' },
  content: { label: 'Welcome popup', steps: [{ blocks: [{ type: 'heading', text: 'Hello there' }] }], success: { blocks: [] } },
};

/** An A/B test for visitors whose property user.plan is 'gold'. */
const AB = {
  ...POPUP,
  targeting: { type: 'property', key: 'user.plan', kind: 'string', op: 'equals', value: 'gold' },
  variants: [
    { id: 'a', weight: 50 },
    { id: 'b', weight: 50 },
  ],
} as Campaign;
/** Campaign sets by site, other than POPUP alone. */
const SETS: Record<string, Campaign[]> = { ab: [AB] };

let server: Server;
let base: string;
let browser: Browser;
/** Pages by path. */
const pages = new Map<string, string>();
/** Extra response headers of some pages, by path. */
const headers = new Map<string, Record<string, string>>();
/** POST bodies by path, in order. */
const posts: Array<{ path: string; body: string }> = [];
/** While set, requests for the UI chunk wait for it: the chunk is "still loading". */
let uiGate: Promise<void> | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const send = (status: number, type: string, text: string | Buffer) => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers.get(path) }).end(text);
      if (req.method == 'POST') return posts.push({ path, body }), send(path == '/collect' ? 201 : 204, 'application/json', path == '/collect' ? '{}' : '');
      const site = /^\/sites\/([^/]+)\/campaigns\.json$/.exec(path);
      if (site) return send(200, 'application/json', JSON.stringify({ site: site[1], country: null, campaigns: SETS[site[1]] || [POPUP] }));
      if (pages.has(path)) return send(200, 'text/html; charset=utf-8', pages.get(path)!);
      if (path.startsWith('/dist/')) {
        if (path.endsWith('/poplet.ui.js')) await uiGate;
        return readFile(join(DIST, path.slice(6).replace(/\.\./g, ''))).then(
          (b) => send(200, 'text/javascript', b),
          () => send(404, 'text/plain', 'no'),
        );
      }
      send(404, 'text/plain', 'no');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => server?.close(ok));
});

let context: BrowserContext;
let tab: Page;
let errors: string[];
let logs: string[];

beforeEach(async () => {
  await context?.close();
  posts.length = 0;
  uiGate = undefined;
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  tab = await context.newPage();
  errors = watchErrors(tab);
  logs = [];
  tab.on('console', (m) => logs.push(m.text()));
});

const html = (head: string, body = '<h1>Shop</h1>') => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${head}</head><body>${body}</body></html>`;
const snippet = (site = 'shop', global = 'wisepops') => `<script>${snippetFor(`${base}/dist/poplet.js?site=${site}`, global)}</script>`;
/** Counts this global's before-popup-display events in window.before_<global>. */
const counting = (global = 'wisepops') => `<script>${global}('listen', 'before-popup-display', function () { window.before_${global} = (window.before_${global} || 0) + 1; });</script>`;
const gate = () => {
  let open!: () => void;
  uiGate = new Promise<void>((r) => (open = r));
  return open;
};
const debug = (global = 'wisepops') => tab.evaluate((g) => ((window as unknown as Record<string, (c: string) => { campaigns: DebugLine[] }>)[g]('debug').campaigns), global);
const HELD = { id: 1, name: 'Welcome', status: 'eligible', reason: 'waiting: a modal is open' };
const SHOWN = { id: 1, name: 'Welcome', status: 'shown' };
const popups = () => tab.locator('poplet-campaign').count();

describe("a modal the page opens while the UI chunk loads comes first", () => {
  it("the page's consent dialog, opened after the trigger fired: the popup waits for it, then shows", async () => {
    pages.set(
      '/cmp.html',
      html(snippet() + counting(), `<h1>Shop</h1><dialog id="cmp"><p>We use cookies</p><button id="ok" onclick="this.closest('dialog').close()">Accept</button></dialog>`),
    );
    const release = gate();
    // Not until "load": a chunk script added before the load event delays it, and the gate holds the chunk.
    await tab.goto(base + '/cmp.html', { waitUntil: 'domcontentloaded' });
    // The landing trigger fired and the popup is on its way: only the chunk is missing.
    await tab.waitForFunction(() => (window as unknown as { before_wisepops?: number }).before_wisepops === 1);
    await tab.evaluate(() => (document.getElementById('cmp') as HTMLDialogElement).showModal());
    release();
    await expect.poll(debug, { timeout: 10_000 }).toEqual([HELD]);
    expect(await popups()).toBe(0);
    // The visitor can answer the dialog: nothing of Poplet's is over it.
    await tab.click('#ok');
    await expect.poll(debug, { timeout: 10_000 }).toEqual([SHOWN]);
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('two installs (two globals, two sites): one popup at a time, the other once it is closed', async () => {
    pages.set('/two.html', html(snippet() + snippet('shop2', 'poplet2') + counting() + counting('poplet2')));
    const release = gate();
    // Not until "load": one install can ask for the (held) chunk while the other's script still
    // loads, and a script added before the load event delays it: "load" would wait for the gate.
    await tab.goto(base + '/two.html', { waitUntil: 'domcontentloaded' });
    await tab.waitForFunction(() => {
      const w = window as unknown as { before_wisepops?: number; before_poplet2?: number };
      return w.before_wisepops === 1 && w.before_poplet2 === 1;
    });
    release();
    const both = async () => [(await debug())[0].status, (await debug('poplet2'))[0].status].sort();
    await expect.poll(both, { timeout: 10_000 }).toEqual(['eligible', 'shown']);
    expect(await popups()).toBe(1);
    await tab.keyboard.press('Escape');
    await expect.poll(both, { timeout: 10_000 }).toEqual(['shown', 'shown']);
    // The closed popup plays its exit animation beside the new one for a moment: then one is left.
    await expect.poll(popups, { timeout: 10_000 }).toBe(1);
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    expect(errors).toEqual([]);
  });
});

/** This context's analytics events as the server received them, batch by batch (a batch whose events are not a list shows as it came). */
const batches = async () => {
  const visitor = await visitorOf(context);
  return posts
    .filter((p) => p.path == '/events')
    .map((p) => JSON.parse(p.body) as { visitor?: string; events: unknown })
    .filter((b) => b.visitor === visitor)
    .map((b) => b.events);
};

describe('built-in prototypes changed by the page', () => {
  it("Prototype.js's Array.prototype.toJSON: records keep from page to page, analytics events go as lists", async () => {
    const PROTOTYPE = `<script>Array.prototype.toJSON = function () { return '[' + this.map(function (v) { return JSON.stringify(v) }).join(', ') + ']' };</script>`;
    pages.set('/prototype.html', html(PROTOTYPE + snippet()));
    await tab.goto(base + '/prototype.html?poplet_debug=1');
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    await tab.keyboard.press('Escape');
    await expect.poll(async () => (await batches()).flat(), { timeout: 10_000 }).toMatchObject([{ k: 'display' }, { k: 'close' }]);
    await tab.goto(base + '/prototype.html?poplet_debug=1');
    // Closed once: the record says so on the next page.
    await expect.poll(debug, { timeout: 10_000 }).toEqual([{ id: 1, name: 'Welcome', status: 'skipped', reason: 'stopped after a close' }]);
    const ctx = await tab.evaluate(() => (window.wisepops('debug') as unknown as { context: { totalPageviews: number; visits: number[] } }).context);
    expect([ctx.totalPageviews, ctx.visits.length]).toEqual([2, 1]);
    expect(logs.filter((l) => /record reset|not saved/.test(l))).toEqual([]);
    // The page keeps its own toJSON.
    expect(await tab.evaluate(() => JSON.stringify([1, 2]))).toBe('"[1, 2]"');
    expect(errors).toEqual([]);
  });

  it("Prototype.js 1.6's other changes (Array#reduce returning the array, Enumerable map/filter/find/some/every, Object.keys by for-in): dot-path targeting matches, A/B draws both variants", async () => {
    // Prototype's semantics, enumerable as it makes them, over the natives.
    const PROTOTYPE = `<script>(function () {
      var $break = {}, A = Array.prototype;
      function each(f) { var i = 0; try { for (var j = 0; j < this.length; j++) f(this[j], i++); } catch (e) { if (e != $break) throw e; } }
      A.reduce = function () { return this.length > 1 ? this : this[0]; };
      A.map = function (f) { var r = []; each.call(this, function (v, i) { r.push(f(v, i)); }); return r; };
      A.filter = function (f) { var r = []; each.call(this, function (v, i) { if (f(v, i)) r.push(v); }); return r; };
      A.find = function (f) { var r; each.call(this, function (v, i) { if (f(v, i)) { r = v; throw $break; } }); return r; };
      A.some = function (f) { var r = false; each.call(this, function (v, i) { if (r = !!f(v, i)) throw $break; }); return r; };
      A.every = function (f) { var r = true; each.call(this, function (v, i) { if (!(r = !!f(v, i))) throw $break; }); return r; };
      Object.keys = function (o) { var k = []; for (var p in o) k.push(p); return k; };
    })();</script>`;
    pages.set('/prototype-ab.html', html(PROTOTYPE + snippet('ab') + `<script>wisepops('properties', { user: { plan: 'gold' } });</script>`));
    const groups = new Set<unknown>();
    for (let i = 0; i < 16 && groups.size < 2; i++) {
      // Left first: the page shown last may still write its display record after the clearing.
      await tab.goto('about:blank');
      await context.clearCookies();
      await tab.goto(base + '/prototype-ab.html');
      await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
      groups.add(await tab.evaluate(() => (window.wisepops('debug') as unknown as { context: { history: Record<number, { g?: string }> } }).context.history[1].g));
    }
    // Both, in 16 draws of 50/50 (one in 32,768 to fail by chance); the last variant alone before.
    expect([...groups].sort()).toEqual(['a', 'b']);
    expect(errors).toEqual([]);
  });

  it('an enumerable Object.prototype.clone (a legacy library, or prototype pollution): popups show, records keep', async () => {
    pages.set('/clone.html', html(`<script>Object.prototype.clone = function () { return this };</script>` + snippet()));
    await tab.goto(base + '/clone.html?poplet_debug=1');
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    await tab.keyboard.press('Escape');
    await expect.poll(async () => (await batches()).flat(), { timeout: 10_000 }).toMatchObject([{ k: 'display' }, { k: 'close' }]);
    expect((await context.cookies()).map((c) => c.name).sort()).toEqual(['wisepops', 'wisepops_session', 'wisepops_visitor', 'wisepops_visits']);
    await tab.goto(base + '/clone.html?poplet_debug=1');
    await expect.poll(debug, { timeout: 10_000 }).toEqual([{ id: 1, name: 'Welcome', status: 'skipped', reason: 'stopped after a close' }]);
    expect(logs.filter((l) => /record reset|not saved|triggers/.test(l))).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe('a page that silenced its console', () => {
  it.each([
    ['console.log = null', 'console.log = null;'],
    ['a console.log that throws', "console.log = function () { throw Error('no console here') };"],
  ])('%s, in debug mode: nothing reaches the page, the popup shows and the calls return', async (_, silence) => {
    pages.set('/silent.html', html(`<script>${silence}</script>` + snippet() + `<script>wisepops('nosuch'); wisepops('event', 42);</script>`));
    await tab.goto(base + '/silent.html?poplet_debug=1');
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    const threw = await tab.evaluate(() => {
      const out: string[] = [];
      for (const args of [['nosuch'], ['goal', ''], ['pageview'], ['properties', { a: 1 }]])
        try {
          (window.wisepops as unknown as (...a: unknown[]) => unknown)(...args);
        } catch (e) {
          out.push(args[0] + ': ' + e);
        }
      return out;
    });
    await tab.keyboard.press('Escape');
    await expect.poll(async () => (await batches()).flat(), { timeout: 10_000 }).toMatchObject([{ k: 'display' }, { k: 'close' }]);
    expect(threw).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe("the global's name taken by an element of the page", () => {
  const props = () => tab.evaluate(() => (window.wisepops('debug') as unknown as { context: { props: unknown } }).context.props);
  const installed = () => tab.waitForFunction(() => (window as unknown as { wisepops?: { poplet?: number } }).wisepops?.poplet === 1);

  it.each([
    ['<div id="wisepops">', '<div id="wisepops">promo</div>'],
    ['<form name="wisepops"> with controls named poplet and q', '<form name="wisepops"><input name="poplet"><input name="q"></form>'],
    ['a cross-origin <iframe name="wisepops">', '<iframe name="wisepops" src="ORIGIN/frame.html"></iframe>'],
  ])('%s before the snippet: calls made before the script loads are kept', async (_, element) => {
    pages.set('/frame.html', html(''));
    const other = base.replace('127.0.0.1', 'localhost');
    pages.set('/named.html', html('', element.replace('ORIGIN', other) + snippet() + `<script>wisepops('properties', { plan: 'pro' }); window.after = 1;</script>`));
    await tab.goto(base + '/named.html');
    await installed();
    expect(await tab.evaluate(() => (window as unknown as { after?: number }).after)).toBe(1);
    expect(await props()).toEqual({ plan: 'pro' });
    expect(errors).toEqual([]);
  });

  it('<form name="wisepops"> with a control named poplet, and the script without the snippet: it installs all the same', async () => {
    pages.set('/nosnippet.html', html('', `<form name="wisepops"><input name="poplet"><input name="q"></form><script src="${base}/dist/poplet.js?site=shop"></script>`));
    await tab.goto(base + '/nosnippet.html');
    await installed();
    await tab.evaluate(() => window.wisepops('properties', { plan: 'pro' }));
    expect(await props()).toEqual({ plan: 'pro' });
    expect(errors).toEqual([]);
  });
});

// Markup a page lets its users post (a comment, a profile) often keeps <img name> and <iframe
// name>, which the document exposes under that name over its own properties: an
// <img name="currentScript"> answers document.currentScript. Taken for Poplet's own tag, its src
// chose the site, the collection server the sign-ups go to and the UI chunk the page runs.
describe('document.currentScript clobbered by markup of the page', () => {
  it.each([
    ['<img name="currentScript">', '<img name="currentScript" src="EVIL">'],
    ['<embed name="currentScript">', '<embed name="currentScript" src="EVIL" type="text/plain">'],
    ['<iframe name="currentScript">', '<iframe name="currentScript" src="EVIL"></iframe>'],
  ])('%s: the script still reads its own tag, and loads nothing from the src of that element', async (_, element) => {
    const other = base.replace('127.0.0.1', 'localhost');
    const asked: string[] = [];
    tab.on('request', (r) => asked.push(r.url()));
    await tab.route(other + '/evil/**', (r) => r.fulfill({ contentType: 'text/javascript', body: 'window.__pwned = 1' }));
    pages.set('/clobber.html', html(snippet(), element.replace('EVIL', `${other}/evil/poplet.js?site=evil`)));
    await tab.goto(base + '/clobber.html');
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    expect(asked.filter((u) => u.includes('/evil/') && !u.endsWith('/evil/poplet.js?site=evil'))).toEqual([]);
    expect(asked.some((u) => u.endsWith('/sites/shop/campaigns.json'))).toBe(true);
    expect(await tab.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

describe('storage blocked', () => {
  it.each([
    ['a sandboxed iframe (allow-scripts only)', '/sandboxed.html'],
    ['a page under CSP sandbox', '/csp-sandbox.html'],
  ])('%s: page views log no engine error', async (_, path) => {
    const inner = html(snippet() + `<script>wisepops('options', { iframes: true, debug: true })</script>`);
    pages.set('/inner.html', inner);
    pages.set('/sandboxed.html', html('', `<iframe sandbox="allow-scripts" src="/inner.html"></iframe>`));
    pages.set('/csp-sandbox.html', inner);
    headers.set('/csp-sandbox.html', { 'content-security-policy': 'sandbox allow-scripts' });
    await tab.goto(base + path);
    // An opaque origin: the campaign set is refused (no CORS here), which comes after the page view.
    await expect.poll(() => logs.filter((l) => l.startsWith('[poplet] campaigns not loaded')), { timeout: 10_000 }).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('[poplet] context'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('engine error'))).toEqual([]);
  });
});

// The snippet is an inline script: a policy without 'unsafe-inline' runs it only with the page's
// nonce on its tag (or its hash). README, Content-Security-Policy.
describe('a Content-Security-Policy without unsafe-inline', () => {
  it.each([
    ['the documented host list', (b: string) => `script-src ${b} 'nonce-s1'; connect-src ${b}; style-src 'none'`],
    ["'strict-dynamic'", (b: string) => `script-src 'nonce-s1' 'strict-dynamic'; connect-src ${b}; style-src 'none'`],
  ])('%s and the nonce on the snippet: the core and both chunks load, the popup shows', async (_, csp) => {
    pages.set('/csp.html', html(snippet().replace('<script>', '<script nonce="s1">')));
    headers.set('/csp.html', { 'content-security-policy': csp(base) });
    await tab.goto(base + '/csp.html');
    await tab.getByRole('dialog', { name: 'Welcome popup' }).waitFor();
    await tab.keyboard.press('Escape');
    await expect.poll(async () => (await batches()).flat(), { timeout: 10_000 }).toMatchObject([{ k: 'display' }, { k: 'close' }]);
    expect(errors).toEqual([]);
  });

  it('the snippet without the nonce is refused by the browser: nothing installs', async () => {
    pages.set('/csp.html', html(snippet()));
    headers.set('/csp.html', { 'content-security-policy': `script-src ${base}; connect-src ${base}` });
    await tab.goto(base + '/csp.html');
    await expect.poll(() => errors.some((e) => e.includes('Content Security Policy'))).toBe(true);
    expect(await tab.evaluate(() => typeof (window as unknown as { wisepops?: unknown }).wisepops)).toBe('undefined');
  });
});
