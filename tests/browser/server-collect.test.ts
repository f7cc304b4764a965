// A real Chromium page on another origin posts a sign-up to /collect (preflighted JSON, then a
// sendBeacon text/plain one); both rows are visible through /api1/emails. A page on an origin the
// site does not allow reads the server's 403, so the outbox drops the sign-up and says why.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import { launchChromium, watchErrors } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { outboxScript } from '../helpers/outbox-script';
import { startFixture, type Fixture, apiAuth } from '../server/fixture';
import { setOrigins } from '../../src/server/store/sites';
import { SIGNUP_LIMITS, type EmailRow } from '../../src/shared/signup';

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
    { collected_at: result.body.collected_at, email: 'ada@example.com', wisepop_id: 42, ip: '127.0.0.1', country_code: null, other_fields: { Name: 'Ada <b>L</b>' }, consent: null },
    expect.objectContaining({ email: 'grace@example.com', wisepop_id: 42 }),
  ]);
  expect(errors).toEqual([]);
});

it('a page on an origin the site does not allow reads the 403: the outbox drops the sign-up and reports the error', async () => {
  // The owner allowed one host; the visitor is on another (www. vs apex, a second domain).
  const other = await startStaticServer();
  try {
    other.pages.set('/outbox.js', { body: await outboxScript(f.url, '', f.site), type: 'text/javascript' });
    other.pages.set('/', { body: '<!doctype html><title>elsewhere</title><link rel="icon" href="data:,"><script src="/outbox.js"></script>' });
    const page = await browser.newPage();
    await page.goto(`${other.url}/`);
    const before = f.count();
    const outcome = await page.evaluate(async ({ server, site }) => {
      const r = await fetch(`${server}/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'browser-evil-00003', site, wisepop_id: 1, email: 'x@example.com', fields: {} }),
        credentials: 'omit',
      });
      return { status: r.status, body: await r.json() };
    }, { server: f.url, site: f.site });
    // Before, the preflight was refused: the page saw a network error (status 0), not this.
    expect(outcome).toEqual({ status: 403, body: { error: 'origin: not allowed for this site' } });

    const submitted = await page.evaluate(
      (site) =>
        (window as unknown as { outbox: { submit(p: unknown): Promise<unknown> } }).outbox.submit({
          id: 'browser-evil-00004', site, wisepop_id: 1, email: 'y@example.com', fields: {},
        }),
      f.site,
    );
    // Not "queued": the form shows the error instead of a success that would never be stored.
    expect(submitted).toEqual({ ok: false, error: 'origin: not allowed for this site' });
    expect(await page.evaluate(() => localStorage.getItem('poplet_outbox'))).toBeNull();
    expect(f.count()).toBe(before);
  } finally {
    await other.close();
  }
});

it('the outbox delivers the largest sign-up a form can make (about 150 KB: over the 64 KB browsers allow a keepalive request)', async () => {
  page$.pages.set('/outbox.js', { body: await outboxScript(f.url, '', f.site), type: 'text/javascript' });
  page$.pages.set('/big', { body: '<!doctype html><title>big form</title><link rel="icon" href="data:,"><script src="/outbox.js"></script>' });
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${page$.url}/big`);
  const fields = Object.fromEntries(Array.from({ length: SIGNUP_LIMITS.fields }, (_, i) => [`Answer ${i}`, '€'.repeat(SIGNUP_LIMITS.value)]));
  const submitted = await page.evaluate(
    ({ site, fields }) =>
      (window as unknown as { outbox: { submit(p: unknown): Promise<unknown> } }).outbox.submit({
        id: 'browser-big-000005', site, wisepop_id: 9, email: 'long@example.com', fields,
      }),
    { site: f.site, fields },
  );
  // Sent with keepalive, the browser refused it before it left (a network error every time):
  // `queued: true`, and retried for ever.
  expect(submitted).toEqual({ ok: true, queued: false });
  const row = f.db.prepare("SELECT other_fields FROM signups WHERE email = 'long@example.com'").pluck().get() as string;
  expect(JSON.parse(row)).toEqual(fields);
  expect(errors).toEqual([]);
});
