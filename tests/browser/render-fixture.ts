// Shared set-up of the render e2e tests: a static server with dist/, a fake core (the UiHost)
// implemented in the page that records every call, and campaign builders.
import type { Browser, Page } from 'playwright';
import { launchChromium, watchErrors } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { BUILT_UI_GLOBAL } from '../helpers/chunks';
import type { Campaign, Content, Layout } from '../../src/shared/campaign';

/** The fake host, an external script so that it also runs under a strict CSP. */
const FAKE_HOST = `
window.__calls = [];
window.__result = { ok: true, queued: false };
window.__ctx = { props: { user: { plan: 'pro', tags: { a: 1 } } }, session: { utm: { utm_source: 'news' } } };
window.__host = {
  context: function () { return window.__ctx; },
  displayed: function (c) { __calls.push(['displayed', c.id]); },
  closed: function (c) { __calls.push(['closed', c.id]); },
  clicked: function (c, href) { __calls.push(['clicked', c.id, href]); },
  submit: function (c, fields, consent, hp) {
    __calls.push(['submit', c.id, fields, consent === undefined ? null : consent, hp]);
    if (window.__result === 'reject') return Promise.reject(new Error('boom'));
    return window.__result === 'hang' ? new Promise(function () {}) : Promise.resolve(window.__result);
  },
  noshow: function () { __calls.push(['noshow']); },
  log: function (m) { __calls.push(['log', String(m)]); },
};
window.__show = function (campaign, nonce) {
  if (nonce) window.__host.nonce = nonce;
  window.__shown = window[${JSON.stringify(BUILT_UI_GLOBAL)}].show({ campaign: campaign, content: campaign.content, host: window.__host });
};
`;

export interface PageOptions {
  head?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface Fixture {
  server: StaticServer;
  browser: Browser;
  /** A fresh page with the chunk and the fake host loaded; errors collects page errors. */
  open(opts?: PageOptions & { viewport?: { width: number; height: number }; reducedMotion?: boolean }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** The page globals the fake host defines. */
export type W = Window & {
  __show(c: Campaign, nonce?: string): void;
  __calls: unknown[][];
  __result: unknown;
  __shown: { destroy(): void };
  __xss?: boolean;
  axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> };
};

let n = 0;

export async function fixture(): Promise<Fixture> {
  const server = await startStaticServer();
  const browser = await launchChromium();
  server.pages.set('/favicon.ico', { body: '', type: 'image/x-icon' });
  server.pages.set('/fake-host.js', { body: FAKE_HOST, type: 'text/javascript' });
  return {
    server,
    browser,
    async open(opts = {}) {
      const path = `/page${++n}.html`;
      server.pages.set(path, {
        headers: opts.headers,
        body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Test page</title>${opts.head ?? ''}</head>
<body>${opts.body ?? '<main><h1>Shop</h1><p>Some page text.</p><button id="before">Before</button><div id="slot"></div></main>'}
<script src="/dist/poplet.ui.js"></script><script src="/fake-host.js"></script></body></html>`,
      });
      const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, reducedMotion: opts.reducedMotion ? 'reduce' : 'no-preference' });
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(server.url + path);
      return { page, errors };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export const NEWSLETTER: Content = {
  label: 'Newsletter sign-up',
  steps: [
    {
      blocks: [
        { type: 'heading', text: 'Get 10% off' },
        { type: 'paragraph', text: 'Join our <b>newsletter</b>.', html: true },
        { type: 'email', label: 'Email address', placeholder: 'you@example.com', required: true },
        { type: 'consent', label: 'I agree to receive marketing emails.', required: true },
        { type: 'hidden', name: 'plan', from: 'user.plan' },
        { type: 'hidden', name: 'source', from: 'utm_source' },
        { type: 'button', label: 'Subscribe', action: 'submit' },
      ],
    },
  ],
  success: { blocks: [{ type: 'heading', text: 'Thank you!' }, { type: 'button', label: 'Close', action: 'close' }] },
};

export const LAYOUTS: Layout[] = [
  { type: 'popup' },
  { type: 'fullscreen' },
  { type: 'bar', position: 'top' },
  { type: 'bar', position: 'bottom', push: true },
  { type: 'slidein', position: 'bottom-right' },
  { type: 'slidein', position: 'top-left' },
  { type: 'embed', selector: '#slot' },
];

export function campaign(layout: Layout, content: Content = NEWSLETTER, id = 7): Campaign {
  return { id, name: 'Test', status: 'live', trigger: { type: 'landing' }, layout, content };
}

/** Shows a campaign and waits until the host heard `displayed`. */
export async function show(page: Page, c: Campaign, nonce?: string): Promise<void> {
  await page.evaluate(([c, nonce]) => (window as unknown as W).__show(c, nonce), [c, nonce] as const);
  await page.waitForFunction(() => (window as unknown as W).__calls.some((x) => x[0] == 'displayed' || x[0] == 'log'));
  // Measure the settled layout, not a frame of the enter animation.
  if (await page.locator('poplet-campaign .r').count())
    await page.locator('poplet-campaign .r').last().evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)));
}

export const calls = (page: Page): Promise<unknown[][]> => page.evaluate(() => (window as unknown as W).__calls);

/** The campaign's box (Playwright's CSS engine pierces open shadow roots). */
export const box = (page: Page) => page.locator('poplet-campaign .bx');
