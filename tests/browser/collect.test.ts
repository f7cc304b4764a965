// The outbox in real Chromium against a real node:http /collect that the test breaks and mends:
// a sign-up made while the endpoint is down arrives once it is back, under one id.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchChromium, watchErrors } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { outboxScript } from '../helpers/outbox-script';

interface Hit {
  id: string;
  status: number;
  type: string;
}

/** A /collect stand-in: records every request, answers 503 while `down`, 201 then 200 (dedupe). */
async function startCollect() {
  const hits: Hit[] = [];
  const stored = new Set<string>();
  const state = { down: false };
  const read = (req: IncomingMessage) =>
    new Promise<string>((ok) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => ok(body));
    });
  const server: Server = createServer(async (req, res) => {
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-headers': 'content-type', 'access-control-allow-methods': 'POST' };
    if (req.method == 'OPTIONS') return void res.writeHead(204, cors).end();
    const { id } = JSON.parse(await read(req)) as { id: string };
    const status = state.down ? 503 : stored.has(id) ? 200 : 201;
    if (status != 503) stored.add(id);
    hits.push({ id, status, type: String(req.headers['content-type']) });
    res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(status == 503 ? { error: 'down' } : { id, collected_at: new Date().toISOString() }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stored,
    state,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

let browser: Browser;
let site: StaticServer;
let collect: Awaited<ReturnType<typeof startCollect>>;
let context: BrowserContext;
let page: Page;
let errors: string[];

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};
const submit = (id: string) =>
  page.evaluate((id) => (window as unknown as { outbox: { submit(p: unknown): Promise<unknown> } }).outbox.submit({ id, site: 's1', wisepop_id: 3, email: 'ann@example.com', fields: {} }), id);
const outboxIds = () => page.evaluate(() => (JSON.parse(localStorage.getItem('poplet_outbox') ?? '{"items":[]}') as { items: Array<{ p: { id: string } }> }).items.map((i) => i.p.id));

beforeAll(async () => {
  collect = await startCollect();
  site = await startStaticServer();
  // Flushed at once, as the engine's first page view does.
  site.pages.set('/outbox.js', { body: await outboxScript(collect.url, 'window.outbox.flush();'), type: 'text/javascript' });
  site.pages.set('/', { body: '<!doctype html><title>shop</title><script src="/outbox.js"></script><p>shop</p>' });
  site.pages.set('/next', { body: '<!doctype html><title>next</title><p>next page</p>' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await collect?.close();
});

beforeEach(async () => {
  await context?.close();
  collect.hits.length = 0;
  collect.stored.clear();
  collect.state.down = false;
  context = await browser.newContext();
  page = await context.newPage();
  errors = watchErrors(page);
  await page.goto(site.url + '/');
});

describe('sign-up outbox in Chromium', () => {
  it('delivers at once when the endpoint is up', async () => {
    await expect(submit('up-aaaaaaaaaa')).resolves.toEqual({ ok: true, queued: false });
    expect(collect.hits).toEqual([{ id: 'up-aaaaaaaaaa', status: 201, type: 'application/json' }]);
    expect(await outboxIds()).toEqual([]);
  });

  it('endpoint failing, then back: the next page view delivers the same id', async () => {
    collect.state.down = true;
    await expect(submit('down-bbbbbbbbbb')).resolves.toEqual({ ok: true, queued: true });
    expect(await outboxIds()).toEqual(['down-bbbbbbbbbb']);
    expect(collect.stored.size).toBe(0);
    collect.state.down = false;
    await page.reload();
    await until(() => collect.stored.size == 1);
    await until(() => collect.hits.some((h) => h.status == 201));
    await expect.poll(outboxIds).toEqual([]);
    // every attempt (fetch, beacon on reload, resend) carried the one id
    expect(new Set(collect.hits.map((h) => h.id))).toEqual(new Set(['down-bbbbbbbbbb']));
    expect(collect.hits.filter((h) => h.status == 201)).toHaveLength(1);
    // Chromium itself logs the 503 as a failed resource; nothing else may reach the console.
    expect(errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
  });

  it('network down (offline), then the online event: delivered once, at once', async () => {
    await context.setOffline(true);
    await expect(submit('off-cccccccccc')).resolves.toEqual({ ok: true, queued: true });
    expect(collect.hits).toEqual([]);
    // Let the first timed retry (2 s) fail too: the next one is 4 s away, so a delivery within
    // 2 s of coming back online can only be the online event's doing, not the backoff timer's.
    const attempts = () => page.evaluate(() => (JSON.parse(localStorage.getItem('poplet_outbox') ?? '{"items":[]}') as { items: Array<{ n: number }> }).items[0]?.n);
    await expect.poll(attempts, { timeout: 6000 }).toBe(2);
    await context.setOffline(false);
    await until(() => collect.stored.has('off-cccccccccc'), 2000);
    expect(collect.hits.filter((h) => h.status == 201)).toHaveLength(1);
    await expect.poll(outboxIds).toEqual([]);
  });

  it('leaving the page while the endpoint fails: the sign-up goes by sendBeacon, and again next visit without a duplicate', async () => {
    collect.state.down = true;
    await submit('bye-dddddddddd');
    collect.state.down = false;
    await page.goto(site.url + '/next');
    await until(() => collect.hits.some((h) => h.type.startsWith('text/plain'))).catch((e) => {
      throw new Error(e.message + ' ' + JSON.stringify(collect.hits));
    });
    expect(collect.hits.find((h) => h.type.startsWith('text/plain'))).toMatchObject({ id: 'bye-dddddddddd', status: 201 });
    // the outbox still holds it (a beacon's fate is unknown): the next visit resends, the server dedupes
    await page.goto(site.url + '/');
    await until(() => collect.hits.some((h) => h.status == 200));
    expect(collect.stored).toEqual(new Set(['bye-dddddddddd']));
    await expect.poll(outboxIds).toEqual([]);
  });
});
