// POPLET_REQUIRE_HTTPS: the API refuses plain http, hooks must post over https, and 'auto' (the
// default) turns it on only when the server can be reached from another machine.
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app';
import { httpsPolicy, isLoopbackHost, loadConfig } from '../../src/server/config';
import { startHookWorker } from '../../src/server/hooks/worker';
import { addHook, makeEnv, signup, startReceiver, waitFor, type Env } from './hooks-fixture';
import { captureLog } from './fixture';

let env: Env;
let app: FastifyInstance | undefined;
let base: string;
const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await app?.close();
  app = undefined;
  env?.cleanup();
});

/** The app built with these settings (host/trust proxy decide 'auto'), listening on 127.0.0.1 whatever `host` says. */
async function start(vars: Record<string, string> = {}, log = captureLog()) {
  env = makeEnv(vars);
  env.deps.log = log;
  app = buildApp(env.deps);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  return log;
}

async function call(path: string, init: { method?: string; body?: unknown; key?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `WISEPOPS-API key="${init.key ?? env.key}"`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

const viaTls = { 'x-forwarded-proto': 'https' };

describe('POPLET_REQUIRE_HTTPS: configuration', () => {
  it('reads on, off and auto (the default), and refuses anything else rather than read it as off', () => {
    expect(loadConfig({}).requireHttps).toBe('auto');
    for (const v of ['1', 'true', 'on', 'YES']) expect(loadConfig({ POPLET_REQUIRE_HTTPS: v }).requireHttps, v).toBe(true);
    for (const v of ['0', 'false', 'off', 'no']) expect(loadConfig({ POPLET_REQUIRE_HTTPS: v }).requireHttps, v).toBe(false);
    expect(loadConfig({ POPLET_REQUIRE_HTTPS: 'auto' }).requireHttps).toBe('auto');
    expect(loadConfig({}, ['--require-https']).requireHttps).toBe(true);
    expect(loadConfig({ POPLET_REQUIRE_HTTPS: '1' }, ['--require-https', 'off']).requireHttps).toBe(false);
    expect(() => loadConfig({ POPLET_REQUIRE_HTTPS: 'of' })).toThrow(/POPLET_REQUIRE_HTTPS must be on, off or auto/);
  });

  it("'auto' requires HTTPS when the server can be reached from another machine, not on loopback", () => {
    const auto = (host: string, trustProxy: boolean | number | string = false) => httpsPolicy({ requireHttps: 'auto', host, trustProxy }).required;
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(auto(host), host).toBe(false);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.4', '192.168.1.20', 'poplet.example.com', '::ffff:10.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(auto(host), host).toBe(true);
    }
    // A trusted proxy in front means traffic from elsewhere, even to a loopback listener.
    expect(auto('127.0.0.1', true)).toBe(true);
    expect(auto('127.0.0.1', 1)).toBe(true);
    expect(auto('127.0.0.1', '127.0.0.1')).toBe(true);
    // An explicit setting wins both ways.
    expect(httpsPolicy({ requireHttps: false, host: '0.0.0.0', trustProxy: true }).required).toBe(false);
    expect(httpsPolicy({ requireHttps: true, host: '127.0.0.1', trustProxy: false }).required).toBe(true);
  });
});

describe('POPLET_REQUIRE_HTTPS: the API', () => {
  it('refuses /api1 over plain http with 403 and a JSON reason, before looking at the key; leaves /collect alone', async () => {
    await start({ POPLET_REQUIRE_HTTPS: '1' });
    for (const [method, path] of [
      ['GET', '/api1/emails'], ['GET', '/api1/stats'], ['GET', '/api1/hooks'], ['POST', '/api1/hooks'],
      ['DELETE', '/api1/hooks?hook_id=1'], ['POST', '/api1/hooks/retry?hook_id=1'], ['DELETE', '/api1/emails?email=a@b.example'],
      // A percent-encoded path reaches the same route: it must meet the same rule.
      ['GET', '/%61pi1/emails'], ['GET', '/api1/%65mails'],
    ] as const) {
      for (const key of [env.key, 'not-a-key']) {
        const r = await call(path, { method, key, body: method === 'POST' ? { event: 'email', target_url: 'https://hooks.example.com/x' } : undefined });
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(r.body!.error).toMatch(/^https required: .*plain http.*rotate/);
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      }
    }
    expect(env.deps.db.prepare('SELECT COUNT(*) FROM hooks').pluck().get()).toBe(0);

    // /collect, the public files and /healthz stay on plain http (see app.ts for why).
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/sites/${env.siteId}/campaigns.json`)).status).toBe(200);
    const collect = await fetch(`${base}/collect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
      body: JSON.stringify({ id: 'https-test-1', site: env.siteId, wisepop_id: 7, email: 'jane@example.com' }),
    });
    expect(collect.status).toBe(201);
  });

  it('does not believe X-Forwarded-Proto from a client that is not a trusted proxy', async () => {
    await start({ POPLET_REQUIRE_HTTPS: '1' });
    expect((await call('/api1/emails', { headers: viaTls })).status).toBe(403);
  });

  it('answers over HTTPS as reported by the trusted proxy, with HSTS', async () => {
    await start({ POPLET_REQUIRE_HTTPS: '1', POPLET_TRUST_PROXY: '127.0.0.1' });
    const r = await call('/api1/emails', { headers: viaTls });
    expect(r.status).toBe(200);
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect((await call('/api1/emails', { headers: { 'x-forwarded-proto': 'http' } })).status).toBe(403);
    expect((await call('/api1/emails')).status).toBe(403);
  });

  it("by default ('auto') a loopback server keeps answering plain http; one listening beyond loopback does not", async () => {
    const quiet = await start();
    expect((await call('/api1/emails')).status).toBe(200);
    expect(quiet.lines.filter((l) => l.level === 'warn')).toEqual([]);
    await app!.close();
    env.cleanup();
    const log = await start({ POPLET_HOST: '0.0.0.0' });
    expect((await call('/api1/emails')).status).toBe(403);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'HTTPS required for the API and hook targets', fields: { why: 'auto: listening on 0.0.0.0, beyond loopback' } }));
  });

  it('warns at start when turned off on a server listening beyond loopback', async () => {
    const log = await start({ POPLET_HOST: '0.0.0.0', POPLET_REQUIRE_HTTPS: 'off' });
    expect((await call('/api1/emails')).status).toBe(200);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^HTTPS not required/), fields: expect.objectContaining({ host: '0.0.0.0' }) }));
  });
});

describe('POPLET_REQUIRE_HTTPS behind a proxy: whose X-Forwarded-Proto counts', () => {
  const trustWarnings = (log: ReturnType<typeof captureLog>) => log.lines.filter((l) => l.level === 'warn' && /^POPLET_TRUST_PROXY=/.test(l.msg ?? ''));

  it('an address list: only from a peer it lists', async () => {
    const log = await start({ POPLET_REQUIRE_HTTPS: '1', POPLET_TRUST_PROXY: '10.0.0.9, 192.168.0.0/16' });
    // This test's client connects from 127.0.0.1, which the list does not name.
    expect((await call('/api1/emails', { headers: viaTls })).status).toBe(403);
    expect(trustWarnings(log)).toEqual([]);
  });

  it.each([['true'], ['1'], ['2']])('POPLET_TRUST_PROXY=%s names no address: every peer counts as the proxy, so a server listening beyond loopback warns at start', async (trust) => {
    const log = await start({ POPLET_HOST: '0.0.0.0', POPLET_TRUST_PROXY: trust });
    expect(trustWarnings(log)).toEqual([
      expect.objectContaining({ fields: { host: '0.0.0.0', trustProxy: trust === 'true' ? true : Number(trust) }, msg: expect.stringMatching(/can claim any IP and HTTPS .*Set it to the proxy's addresses instead/) }),
    ]);
    // What the warning is about: a client connecting directly is believed (README, HTTPS).
    expect((await call('/api1/emails', { headers: viaTls })).status).toBe(200);
    expect((await call('/api1/emails')).status).toBe(403);
  });

  it.each([['true'], ['1']])('POPLET_TRUST_PROXY=%s on a loopback listener does not warn: only this machine connects', async (trust) => {
    const log = await start({ POPLET_TRUST_PROXY: trust });
    expect(trustWarnings(log)).toEqual([]);
    expect((await call('/api1/emails', { headers: viaTls })).status).toBe(200);
  });

  it('a loopback server with no trusted proxy warns once when a request comes through a proxy on this machine', async () => {
    const log = await start();
    const proxied = () => log.lines.filter((l) => l.level === 'warn' && /^a request came through a proxy on this machine/.test(l.msg ?? ''));
    expect((await call('/api1/emails')).status).toBe(200);
    expect(proxied()).toEqual([]);
    expect((await call('/api1/emails', { headers: { 'x-forwarded-for': '203.0.113.7', ...viaTls } })).status).toBe(200);
    expect((await call('/api1/emails', { headers: { 'x-forwarded-for': '203.0.113.8' } })).status).toBe(200);
    expect(proxied()).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/HTTPS is not required\. Set POPLET_TRUST_PROXY=127\.0\.0\.1/), fields: { host: '127.0.0.1', https: expect.stringMatching(/^auto: /) } }),
    ]);
  });
});

describe('POPLET_REQUIRE_HTTPS: hooks', () => {
  it('refuses to create a hook whose target_url is http (422), accepts https', async () => {
    await start({ POPLET_REQUIRE_HTTPS: '1', POPLET_TRUST_PROXY: '127.0.0.1' });
    const refused = await call('/api1/hooks', { method: 'POST', headers: viaTls, body: { event: 'email', target_url: 'http://hooks.example.com/in' } });
    expect(refused).toMatchObject({ status: 422, body: { error: expect.stringMatching(/^target_url must use https/) } });
    const created = await call('/api1/hooks', { method: 'POST', headers: viaTls, body: { event: 'email', target_url: 'https://hooks.example.com/in' } });
    expect(created.status).toBe(201);
    expect(env.deps.db.prepare('SELECT target_url FROM hooks').pluck().all()).toEqual(['https://hooks.example.com/in']);
  });

  it('holds back deliveries to an http hook created before it was on: no connection, the reason in last_error and the log', async () => {
    const log = await start({ POPLET_REQUIRE_HTTPS: '1' });
    const rx = await startReceiver('up');
    cleanups.push(() => rx.close());
    const id = addHook(env.deps, env.siteId, rx.url); // as stored by an earlier run with the option off
    const worker = startHookWorker(env.deps, { pollMs: 10 });
    cleanups.push(() => worker.stop());
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', fields: { hook: id, site: env.siteId } }));
    signup(env.deps, env.siteId, 2);
    const lastError = () => env.deps.db.prepare('SELECT last_error FROM hooks WHERE id = ?').pluck().get(id) as string | null;
    await waitFor(() => lastError() !== null, 5000, 'the refused attempt');
    expect(lastError()).toMatch(/^not sent: target_url must use https/);
    expect(rx.requests).toEqual([]);
    expect(env.deps.db.prepare("SELECT COUNT(*) FROM hook_deliveries WHERE status = 'pending' AND attempts = 1").pluck().get()).toBe(2);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'hook delivery failed', fields: expect.objectContaining({ hook: id, error: expect.stringMatching(/https/) }) }));

    // Held, not lost: with the option turned off again, the batch goes at its retry time
    // (simulated here by a clock an hour ahead).
    await worker.stop();
    env.deps.config = { ...env.deps.config, requireHttps: false };
    const again = startHookWorker(env.deps, { pollMs: 10, now: () => Date.now() + 3_600_000 });
    cleanups.push(() => again.stop());
    await waitFor(() => rx.emails().length === 2, 5000, 'delivery once allowed');
  });
});
