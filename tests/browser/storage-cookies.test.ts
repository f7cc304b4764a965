// The records as Chromium keeps them, where only a real cookie jar tells: shared cookie domains
// (host-only and domain cookies of the same name are distinct there), and installs under
// different globals. Hosts under *.shop.test resolve to the local test server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { CHROMIUM_ARGS, watchErrors } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { snippetFor } from '../../src/sdk/snippet';
import { decode, encode } from '../../src/sdk/storage/codec';

let browser: Browser;
let server: StaticServer;
let origin: string;

const html = (body: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${body}</head><body></body></html>`;
const snippet = (global = 'wisepops') => snippetFor(`${origin}/dist/poplet.js?site=shop`, global);
type Wp = { wisepops(...a: unknown[]): unknown; readyFired?: number };

beforeAll(async () => {
  server = await startStaticServer();
  origin = `http://a.b.shop.test:${server.port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP *.shop.test 127.0.0.1'],
  });
  server.pages.set(
    '/two.html',
    {
      body: html(`<script>${snippet()}</script><script>${snippet('poplet2')};
        wisepops('properties', { a: 1 });
        poplet2('properties', { b: 2 });
        var n = 0;
        function ready() { if (++n == 2) window.readyFired = 1; }
        wisepops('listen', 'ready', ready);
        poplet2('listen', 'ready', ready);</script>`),
    },
  );
  server.pages.set('/sites/shop/campaigns.json', { body: JSON.stringify({ site: 'shop', country: null, campaigns: [] }), type: 'application/json' });
  // The shared domain comes from the page's ?d= (none when absent), as a site's config would. The
  // script comes from the page's own host (campaigns.json is same-origin), so any *.shop.test works.
  server.pages.set(
    '/domain.html',
    {
      body: html(`<script>${snippetFor('/dist/poplet.js?site=shop')};
        var d = new URLSearchParams(location.search).get('d');
        if (d != null) wisepops('options', { cookieDomain: d });
        wisepops('listen', 'ready', function () { window.readyFired = 1; });</script>`),
    },
  );
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('cookieDomain', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(() => context.close());

  /** Every wisepops_visits cookie the page sees: [domain, total page views]. */
  const visits = async () =>
    (await context.cookies(origin + '/')).filter((c) => c.name == 'wisepops_visits').map((c) => [c.domain, decode(decodeURIComponent(c.value))![1]]);
  const load = async (d?: string) => {
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(`${origin}/domain.html${d == null ? '' : '?d=' + d}`);
    await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
    return { p, errors };
  };

  it('a deploy that widens it: the copy under the old, narrower domain is removed, the history carries over', async () => {
    await context.clearCookies();
    await (await load('b.shop.test')).p.close();
    expect(await visits()).toEqual([['.b.shop.test', 1]]);
    const { p, errors } = await load('shop.test');
    expect(await visits()).toEqual([['.shop.test', 2]]);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('changed at run time: one copy, under the new domain, and later writes are read back', async () => {
    await context.clearCookies();
    const { p, errors } = await load('b.shop.test');
    await p.evaluate(() => (window as unknown as Wp).wisepops('options', { cookieDomain: 'shop.test' }));
    expect(await visits()).toEqual([['.shop.test', 1]]);
    await p.evaluate(() => (history.pushState(null, '', '#route-2'), (window as unknown as Wp).wisepops('pageview')));
    expect(await visits()).toEqual([['.shop.test', 2]]);
    await p.close();
    await (await load('shop.test')).p.close();
    expect(await visits()).toEqual([['.shop.test', 3]]);
    expect(errors).toEqual([]);
  });

  it('narrowed between deploys: the wider copy is left and hides the new one; loaded wide, then narrowed at run time, the records move (README, Options)', async () => {
    await context.clearCookies();
    await (await load('shop.test')).p.close();
    await (await load('b.shop.test')).p.close();
    // Not Poplet's to delete from b.shop.test: it comes first, so the count is stuck.
    expect((await visits()).sort()).toEqual([['.b.shop.test', 2], ['.shop.test', 1]]);
    const { p, errors } = await load('shop.test');
    await p.evaluate(() => (window as unknown as Wp).wisepops('options', { cookieDomain: 'b.shop.test' }));
    expect(await visits()).toEqual([['.b.shop.test', 2]]);
    expect(errors).toEqual([]);
    await p.close();
  });

  it("cleared at run time with '': the records become host-only", async () => {
    await context.clearCookies();
    const { p, errors } = await load('shop.test');
    await p.evaluate(() => (window as unknown as Wp).wisepops('options', { cookieDomain: '' }));
    expect(await visits()).toEqual([['a.b.shop.test', 1]]);
    expect(errors).toEqual([]);
    await p.close();
  });
});

describe('a page moving the records', () => {
  // Each page moves every record as it loads, and tabs the browser restores together load at
  // once: a record deleted and then set again was missing for a moment, and another tab reading
  // it then found no opt-out (and showed a popup) and no history (and wrote that back).
  // example.com and x.a.b.shop.test are refused (the host is not under them): the records are
  // host-only there, and that copy is the one each write replaces.
  it.each(['', 'shop.test', '.B.Shop.Test', 'example.com', 'x.a.b.shop.test'])("cookieDomain '%s': never leaves one missing, even for a moment", async (d) => {
    const context = await browser.newContext();
    const url = `${origin}/domain.html?d=${d}`;
    const load = async () => {
      const p = await context.newPage();
      const errors = watchErrors(p);
      await p.goto(url);
      await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
      return { p, errors };
    };
    const first = await load();
    await first.p.evaluate(() => (window as unknown as Wp).wisepops('noshow'));
    // What the page's every cookie write left: how many of the two records document.cookie shows.
    await context.addInitScript(() => {
      const w = window as unknown as { seen: number[] };
      const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
      w.seen = [];
      Object.defineProperty(document, 'cookie', {
        get: () => cookie.get!.call(document),
        set: (v) => (cookie.set!.call(document, v), w.seen.push(cookie.get!.call(document).split('; ').filter((c: string) => /^wisepops_(noshow|visits)=/.test(c)).length)),
      });
    });
    const second = await load();
    const seen = await second.p.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.length).toBeGreaterThan(4);
    expect(seen.filter((n) => n != 2)).toEqual([]);
    const accepted = d && !/^(example\.com|x\.)/.test(d);
    expect((await context.cookies(url)).filter((c) => c.name == 'wisepops_noshow').map((c) => c.domain)).toEqual([accepted ? '.' + d.replace(/^\./, '').toLowerCase() : 'a.b.shop.test']);
    expect([...first.errors, ...second.errors]).toEqual([]);
    await context.close();
  });
});

describe('a cookieDomain the browser refuses (a staging host with the live setting, a public suffix)', () => {
  it.each(['example.com', 'test', 'x.www.shop.test'])('%s: the records are kept host-only and the history holds, with one debug line', async (d) => {
    const context = await browser.newContext();
    const url = `http://www.shop.test:${server.port}/domain.html?poplet_debug=1&d=${d}`;
    const load = async () => {
      const p = await context.newPage();
      const errors = watchErrors(p);
      const logs: string[] = [];
      p.on('console', (m) => logs.push(m.text()));
      await p.goto(url);
      await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
      return { p, errors, logs };
    };
    const first = await load();
    await first.p.evaluate(() => (window as unknown as Wp).wisepops('noshow'));
    const jar = await context.cookies(url);
    expect(jar.map((c) => [c.name, c.domain]).sort()).toEqual([
      ['wisepops_noshow', 'www.shop.test'],
      ['wisepops_session', 'www.shop.test'],
      ['wisepops_visitor', 'www.shop.test'],
      ['wisepops_visits', 'www.shop.test'],
    ]);
    expect(first.logs.filter((l) => l.includes('cookieDomain refused'))).toEqual([`[poplet] cookieDomain refused, records host-only: ${d}`]);
    const second = await load();
    const ctx = (await second.p.evaluate(() => (window as unknown as Wp).wisepops('debug'))) as { context: { noshow: boolean; totalPageviews: number } };
    expect([ctx.context.noshow, ctx.context.totalPageviews]).toEqual([true, 2]);
    expect([...first.errors, ...second.errors]).toEqual([]);
    await context.close();
  });
});

describe("the records' total size", () => {
  it('stays under 5,000 bytes of Cookie header in the extreme case: a long history, properties at their size, ten visits, long landing URL, UTM values and referrer', async () => {
    // A history an older version let grow to 4,000 bytes (about 100 campaigns with A/B groups).
    const entries: unknown[][] = [];
    const state = () => encode([1, entries]);
    while (encodeURIComponent(state()).length < 3950) entries.push([entries.length + 1, 3, 1, 0, 0, 1700000000 + entries.length, 9, 'group-' + entries.length]);
    const context = await browser.newContext();
    const url = `http://www.shop.test:${server.port}/total.html`;
    // Ten visits already, the most the visits record keeps.
    const day = (n: number) => Math.floor(Date.now() / 1000) - n * 86400;
    const visits = encode([day(300), 99999, Array.from({ length: 10 }, (_, i) => day(30 - i))]);
    await context.addCookies([
      { name: 'wisepops', value: state(), url },
      { name: 'wisepops_visits', value: visits, url },
    ]);
    server.pages.set(
      '/total.html',
      {
        body: html(`<script>${snippetFor('/dist/poplet.js?site=shop')};
          wisepops('options', { defaultConsent: 'granted' });
          // About 1,150 bytes once stored: under the properties' size.
          wisepops('properties', { a: 'x'.repeat(255), b: 'x'.repeat(255), c: 'x'.repeat(255), d: 'x'.repeat(255), e: 'x'.repeat(100) });
          wisepops('noshow');
          wisepops('listen', 'ready', function () { wisepops('event', 'x'); wisepops('consent', 'granted'); window.readyFired = 1; });</script>`),
      },
    );
    const page = await context.newPage();
    const errors = watchErrors(page);
    const utm = ['source', 'medium', 'campaign', 'term', 'content'].map((k) => `utm_${k}=` + "'".repeat(300)).join('&');
    await page.goto(`${url}?${utm}&q=${'~'.repeat(3000)}`, { referer: 'https://ref.example/' + 'z'.repeat(3000) });
    await page.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
    const jar = await context.cookies(url);
    expect(jar.map((c) => c.name).sort()).toEqual(['wisepops', 'wisepops_noshow', 'wisepops_props', 'wisepops_session', 'wisepops_visitor', 'wisepops_visits']);
    // As the browser sends them with every request to the site.
    const header = jar.map((c) => `${c.name}=${c.value}`).join('; ');
    expect(header.length).toBeLessThan(5000);
    const debug = (await page.evaluate(() => (window as unknown as Wp).wisepops('debug'))) as { context: { props: Record<string, string>; history: Record<number, unknown> } };
    expect(Object.keys(debug.context.props)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // The least recently seen campaigns went, the latest stayed.
    const kept = Object.keys(debug.context.history).map(Number);
    expect(kept.length).toBeGreaterThan(40);
    expect(Math.max(...kept)).toBe(entries.length);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('another app on a parent domain', () => {
  it("an install with no cookieDomain on a.shop.test leaves the .shop.test records of the same names alone, opt-out included", async () => {
    const context = await browser.newContext();
    const base = (host: string) => `http://${host}:${server.port}/domain.html`;
    const load = async (url: string) => {
      const p = await context.newPage();
      const errors = watchErrors(p);
      await p.goto(url);
      await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
      return { p, errors };
    };
    /** The wisepops* cookies on .shop.test: name and value. */
    const shared = async () =>
      (await context.cookies(base('www.shop.test')))
        .filter((c) => c.domain == '.shop.test' && c.name.startsWith('wisepops'))
        .map((c) => `${c.name}=${c.value}`)
        .sort();
    // The other app: another Poplet on www.shop.test sharing its records on shop.test, where the
    // visitor clicked "don't show popups again".
    const other = await load(base('www.shop.test') + '?d=shop.test');
    await other.p.evaluate(() => (window as unknown as Wp).wisepops('noshow'));
    await other.p.close();
    const before = await shared();
    expect(before.map((c) => c.split('=')[0])).toEqual(expect.arrayContaining(['wisepops_noshow', 'wisepops_visits', 'wisepops_session']));
    const { p, errors } = await load(base('a.shop.test'));
    // A later page view there deletes and rewrites every record too.
    await p.evaluate(() => (history.pushState(null, '', '#route-2'), (window as unknown as Wp).wisepops('pageview')));
    expect(await shared()).toEqual(before);
    expect(errors).toEqual([]);
    await p.close();
    // Back on www, the visitor is still opted out.
    const www = await load(base('www.shop.test') + '?d=shop.test');
    expect(await www.p.evaluate(() => ((window as unknown as Wp).wisepops('debug') as { context: { noshow: boolean } }).context.noshow)).toBe(true);
    expect(other.errors.concat(www.errors)).toEqual([]);
    await context.close();
  });
});

describe('the real Wisepops on a parent domain, in its own format', () => {
  it("its cookies of the same names are skipped, not reset on every page: this install's history holds", async () => {
    const context = await browser.newContext();
    const url = `${origin}/domain.html`;
    // As the Wisepops script leaves them when it shares its records on the site's domain.
    const foreign = [
      { name: 'wisepops', value: encodeURIComponent('{"v":3,"popups":{"1":{"d":4}}}') },
      { name: 'wisepops_visits', value: encodeURIComponent('{"v":3,"visits":[1735722000]}') },
      { name: 'wisepops_props', value: encodeURIComponent('{"plan":"old"}') },
    ].map((c) => ({ ...c, domain: '.shop.test', path: '/' }));
    await context.addCookies(foreign);
    const totals: number[] = [];
    const errors: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await context.newPage();
      errors.push(...watchErrors(p));
      await p.goto(url);
      await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
      if (i == 0) await p.evaluate(() => (window as unknown as Wp).wisepops('properties', { plan: 'new' }));
      const ctx = ((await p.evaluate(() => (window as unknown as Wp).wisepops('debug'))) as { context: { totalPageviews: number; props: unknown } }).context;
      totals.push(ctx.totalPageviews);
      expect(ctx.props).toEqual({ plan: 'new' });
      await p.close();
    }
    expect(totals).toEqual([1, 2, 3]);
    // Left as they were: another app's.
    const left = (await context.cookies(url)).filter((c) => c.domain == '.shop.test').map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path }));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(left.sort(byName)).toEqual([...foreign].sort(byName));
    expect(errors).toEqual([]);
    await context.close();
  });

  it("its opt-out counts on every page: opting back in here does not last past the page, as that cookie is not this install's to delete (README, Cookies)", async () => {
    const context = await browser.newContext();
    const url = `${origin}/domain.html`;
    const noshow = { name: 'wisepops_noshow', value: '1', domain: '.shop.test', path: '/' };
    await context.addCookies([noshow]);
    const opted = (p: Page) => p.evaluate(() => ((window as unknown as Wp).wisepops('debug') as { context: { noshow: boolean } }).context.noshow);
    const p = await context.newPage();
    const errors = watchErrors(p);
    const load = async () => {
      await p.goto(url);
      await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
    };
    await load();
    expect(await opted(p)).toBe(true);
    await p.evaluate(() => (window as unknown as Wp).wisepops('noshow', false));
    expect(await opted(p)).toBe(false);
    await load();
    expect(await opted(p)).toBe(true);
    const left = (await context.cookies(url)).filter((c) => c.domain == '.shop.test').map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path }));
    expect(left).toEqual([noshow]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('installs under different globals', () => {
  it("each keeps its own records, so one page view counts once in each; the real Wisepops cookies are left alone", async () => {
    const context = await browser.newContext();
    // Left by the real Wisepops script, in its own format.
    await context.addCookies([{ name: 'wisepops_noshow', value: '1', url: origin }]);
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(`${origin}/two.html`);
    await p.waitForFunction(() => (window as unknown as Wp).readyFired === 1);
    const cookies = Object.fromEntries((await context.cookies(origin + '/')).map((c) => [c.name, decodeURIComponent(c.value)]));
    expect(decode(cookies.poplet2_visits)![1]).toBe(1);
    expect(decode(cookies.poplet2_props)).toEqual([{ b: 2 }]);
    expect(cookies.poplet2_noshow).toBeUndefined();
    // The wisepops install takes the Wisepops opt-out over, rewritten in its own format.
    expect(decode(cookies.wisepops_visits)![1]).toBe(1);
    expect(decode(cookies.wisepops_props)).toEqual([{ a: 1 }]);
    expect(cookies.wisepops_noshow).toBe('[1]');
    expect(errors).toEqual([]);
    await context.close();
  });
});
