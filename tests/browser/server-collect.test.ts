// A real Chromium page on another origin posts a sign-up to /collect (preflighted JSON, then a
// sendBeacon text/plain one); both rows are visible through /api1/emails.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import { launchChromium, watchErrors } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { startFixture, type Fixture, apiAuth } from '../server/fixture';
import { setOrigins } from '../../src/server/store/sites';
import type { EmailRow } from '../../src/shared/signup';

let f: Fixture;
let page$: StaticServer;
let browser: Browser;
beforeAll(async () => {
  f = await startFixture();
  page$ = await startStaticServer();
  setOrigins(f.db, f.site, [page$.url]);
  page$.pages.set('/', { body: '<!doctype html><title>shop</title><link rel="icon" href="data:,"><p>shop</p>' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await page$?.close();
  await f?.close();
});

it('stores a cross-origin sign-up from a real page and shows it in the Email API', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${page$.url}/`);
  const result = await page.evaluate(
    async ({ server, site }) => {
      const res = await fetch(`${server}/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'browser-signup-0001', site, wisepop_id: 42, email: 'ada@example.com', fields: { Name: 'Ada <b>L</b>' } }),
        credentials: 'omit',
      });
      const beacon = navigator.sendBeacon(
        `${server}/collect`,
        JSON.stringify({ id: 'browser-beacon-0002', site, wisepop_id: 42, email: 'grace@example.com', fields: {} }),
      );
      return { status: res.status, body: await res.json(), beacon };
    },
    { server: f.url, site: f.site },
  );
  expect(result.status).toBe(201);
  expect(result.body).toMatchObject({ id: 'browser-signup-0001' });
  expect(result.beacon).toBe(true);

  let rows: EmailRow[] = [];
  for (let i = 0; i < 50 && rows.length < 2; i++) {
    rows = (await (await fetch(`${f.url}/api1/emails`, { headers: apiAuth(f.key) })).json()) as EmailRow[];
    if (rows.length < 2) await new Promise((ok) => setTimeout(ok, 100));
  }
  expect(rows).toEqual([
    { collected_at: result.body.collected_at, email: 'ada@example.com', wisepop_id: 42, ip: '127.0.0.1', country_code: null, other_fields: { Name: 'Ada <b>L</b>' } },
    expect.objectContaining({ email: 'grace@example.com', wisepop_id: 42 }),
  ]);
  expect(errors).toEqual([]);
});

it('a page on a foreign origin cannot post (CORS refused, nothing stored)', async () => {
  const other = await startStaticServer();
  try {
    other.pages.set('/', { body: '<!doctype html><title>evil</title>' });
    const page = await browser.newPage();
    await page.goto(`${other.url}/`);
    const before = f.count();
    const outcome = await page.evaluate(async ({ server, site }) => {
      try {
        const r = await fetch(`${server}/collect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: 'browser-evil-00003', site, wisepop_id: 1, email: 'x@example.com', fields: {} }),
        });
        return `status ${r.status}`;
      } catch {
        return 'blocked';
      }
    }, { server: f.url, site: f.site });
    expect(outcome).toBe('blocked');
    expect(f.count()).toBe(before);
  } finally {
    await other.close();
  }
});
