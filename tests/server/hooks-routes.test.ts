import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app';
import { registerErasureRoutes } from '../../src/server/lifecycle/routes';
import { addSite } from '../../src/server/store/sites';
import { startHookWorker } from '../../src/server/hooks/worker';
import { createJournal, journalFiles, readJournal } from '../../src/server/lifecycle/journal';
import type { HookView } from '../../src/server/hooks/routes';
import { addHook, makeEnv, signup, startReceiver, waitFor, type Env } from './hooks-fixture';

const sh = promisify(execFile);
let env: Env;
let app: FastifyInstance;
let base: string;
const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await app?.close();
  env?.cleanup();
});

async function start(vars: Record<string, string> = {}) {
  env = makeEnv({ POPLET_API_PER_MIN: '60', ...vars });
  app = buildApp(env.deps);
  // Until app.ts registers it itself.
  if (!app.hasRoute({ method: 'DELETE', url: '/api1/emails' })) registerErasureRoutes(app, env.deps);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}

async function api(path: string, init: RequestInit & { key?: string } = {}) {
  const res = await fetch(base + path, {
    ...init,
    headers: { authorization: `WISEPOPS-API key="${init.key ?? env.key}"`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, type: res.headers.get('content-type') };
}
const create = (body: unknown, key?: string) => api('/api1/hooks', { method: 'POST', body: JSON.stringify(body), key });

describe('hooks API', () => {
  it('the seed\'s exact curl commands create and delete a hook', async () => {
    await start();
    const create = `curl -s -H 'Authorization: WISEPOPS-API key="${env.key}"' -H 'Content-Type: application/json' -d '{"event":"email","target_url":"https://hooks.example.com/hook"}' '${base}/api1/hooks'`;
    const created = await sh('sh', ['-c', create]);
    const { id } = JSON.parse(created.stdout) as { id: number };
    expect(id).toBeGreaterThan(0);
    const del = `curl -s -w '%{http_code}' -H 'Authorization: WISEPOPS-API key="${env.key}"' -X DELETE '${base}/api1/hooks?hook_id=${id}'`;
    expect((await sh('sh', ['-c', del])).stdout).toMatch(/200$/);
    expect((await api('/api1/hooks')).body).toEqual([]);
  });

  it('creates (201), is idempotent (200, same id), validates (422)', async () => {
    await start();
    const a = await create({ event: 'email', target_url: 'https://hooks.example.com/in' });
    expect(a).toMatchObject({ status: 201, body: { id: expect.any(Number) } });
    expect(await create({ event: 'email', target_url: 'https://hooks.example.com/in' })).toMatchObject({ status: 200, body: { id: a.body.id } });
    const b = await create({ event: 'email', target_url: 'https://hooks.example.com/in', wisepop_id: 123 });
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(a.body.id);
    for (const bad of [
      { event: 'display', target_url: 'https://hooks.example.com/in' },
      { target_url: 'https://hooks.example.com/in' },
      { event: 'email' },
      { event: 'email', target_url: '' },
      { event: 'email', target_url: 'not a url' },
      { event: 'email', target_url: 'ftp://hooks.example.com/in' },
      { event: 'email', target_url: 'https://hooks.example.com/in', wisepop_id: 'abc' },
      { event: 'email', target_url: 'https://hooks.example.com/in', wisepop_id: -3 },
    ]) {
      const r = await create(bad);
      expect(r.status, JSON.stringify(bad)).toBe(422);
      expect(r.body.error).toEqual(expect.any(String));
      expect(r.type).toMatch(/application\/json/);
    }
  });

  it('takes every campaign id /collect takes, as a JSON number or as a string of digits alike', async () => {
    await start();
    const top = Number.MAX_SAFE_INTEGER; // 16 digits: the largest wisepop_id a sign-up may carry
    const a = await create({ event: 'email', target_url: 'https://hooks.example.com/in', wisepop_id: top });
    expect(a.status).toBe(201);
    expect(await create({ event: 'email', target_url: 'https://hooks.example.com/in', wisepop_id: String(top) })).toMatchObject({ status: 200, body: { id: a.body.id } });
    for (const bad of [top + 1, String(top + 1), '99999999999999999']) {
      expect((await create({ event: 'email', target_url: 'https://hooks.example.com/in', wisepop_id: bad })).status, String(bad)).toBe(422);
    }
  });

  it('refuses private, loopback and metadata targets unless private hooks are allowed', async () => {
    await start({ POPLET_ALLOW_PRIVATE_HOOKS: '0' });
    for (const target_url of [
      'http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/x',
      'http://[::1]/x', 'http://[::ffff:192.168.1.1]/x', 'http://[fd00:ec2::254]/', 'http://0.0.0.0/', 'http://100.64.1.1/',
    ]) {
      const r = await create({ event: 'email', target_url });
      expect(r.status, target_url).toBe(422);
      expect(r.body.error).toMatch(/^target_url resolves to a private or reserved address; for a receiver on your own machine or network, start the server with POPLET_ALLOW_PRIVATE_HOOKS=1 \(--allow-private-hooks/);
    }
    expect((await api('/api1/hooks')).body).toEqual([]);
  });

  it('needs the API key, and a site only sees and deletes its own hooks', async () => {
    await start();
    const other = addSite(env.deps.db, env.deps.secret, { domain: 'other.example' });
    const mine = (await create({ event: 'email', target_url: 'https://hooks.example.com/mine' })).body.id;
    const theirs = (await create({ event: 'email', target_url: 'https://hooks.example.com/theirs' }, other.key)).body.id;
    expect((await fetch(`${base}/api1/hooks`)).status).toBe(401);
    expect((await api('/api1/hooks', { key: 'wrong' })).status).toBe(401);
    expect((await api('/api1/hooks')).body.map((h: HookView) => h.id)).toEqual([mine]);
    expect(await api(`/api1/hooks?hook_id=${theirs}`, { method: 'DELETE' })).toMatchObject({ status: 404, body: { error: expect.any(String) } });
    expect((await api(`/api1/hooks?hook_id=999999`, { method: 'DELETE' })).status).toBe(404);
    expect((await api(`/api1/hooks`, { method: 'DELETE' })).status).toBe(422);
    expect(await api(`/api1/hooks?hook_id=${mine}`, { method: 'DELETE' })).toMatchObject({ status: 200, body: { id: mine, deleted: true } });
    expect((await api(`/api1/hooks?hook_id=${mine}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api('/api1/hooks', { key: other.key })).body.map((h: HookView) => h.id)).toEqual([theirs]);
  });

  it('is not rate limited (the per-key limit of the Email API does not apply)', async () => {
    await start({ POPLET_API_PER_MIN: '5' });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await api('/api1/hooks')).status);
    for (let i = 0; i < 10; i++) statuses.push((await create({ event: 'email', target_url: `https://hooks.example.com/${i}` })).status);
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    // The Email API itself is limited with the same key.
    const emails = [];
    for (let i = 0; i < 8; i++) emails.push((await api('/api1/emails')).status);
    expect(emails).toContain(429);
  });

  it('lists delivery state: pending, failed with the last error, and re-sends failed ones on request', async () => {
    await start();
    const rx = await startReceiver('down');
    cleanups.push(() => rx.close());
    const id = addHook(env.deps, env.siteId, rx.url);
    let skew = 0; // simulated time travel on top of the real clock
    const w = startHookWorker(env.deps, { now: () => Date.now() + skew, backoffBaseMs: 1000, pollMs: 10 });
    cleanups.push(() => w.stop());
    signup(env.deps, env.siteId, 2);
    await waitFor(() => rx.requests.length >= 1, 3000, 'attempt');
    await waitFor(() => (env.deps.db.prepare('SELECT last_error FROM hooks').get() as { last_error: string | null }).last_error !== null, 3000, 'error');
    let [h] = (await api('/api1/hooks')).body as HookView[];
    expect(h).toMatchObject({ id, event: 'email', target_url: rx.url, wisepop_id: null, pending: 2, failed: 0, status: 'retrying', last_error: 'HTTP 503' });
    skew += 25 * 3_600_000;
    await waitFor(() => (env.deps.db.prepare("SELECT COUNT(*) AS n FROM hook_deliveries WHERE status = 'failed'").get() as { n: number }).n === 2, 3000, 'failed');
    [h] = (await api('/api1/hooks')).body as HookView[];
    expect(h).toMatchObject({ pending: 0, failed: 2, sent: 0, status: 'failed', last_error: 'HTTP 503', last_error_at: expect.any(String) });
    rx.mode = 'up';
    expect(await api(`/api1/hooks/retry?hook_id=${id}`, { method: 'POST' })).toMatchObject({ status: 200, body: { id, requeued: 2 } });
    await waitFor(() => rx.emails().length === 2, 3000, 're-sent');
    await waitFor(() => (env.deps.db.prepare("SELECT COUNT(*) AS n FROM hook_deliveries WHERE status = 'sent'").get() as { n: number }).n === 2, 3000, 'sent');
    [h] = (await api('/api1/hooks')).body as HookView[];
    expect(h).toMatchObject({ pending: 0, failed: 0, sent: 2, status: 'ok', last_success_at: expect.any(String) });
  });
});

describe('hook_id in the query or the JSON body (the seed: parameters are JSON-encoded)', () => {
  const ids = async () => ((await api('/api1/hooks')).body as HookView[]).map((h) => h.id);
  const del = (body: unknown, query = '', key?: string) =>
    api(`/api1/hooks${query}`, { method: 'DELETE', body: typeof body === 'string' ? body : JSON.stringify(body), key });

  it('DELETE with {"hook_id":N} as a JSON body deletes the hook, as curl sends it', async () => {
    await start();
    const a = (await create({ event: 'email', target_url: 'https://hooks.example.com/a' })).body.id as number;
    const b = (await create({ event: 'email', target_url: 'https://hooks.example.com/b' })).body.id as number;
    const curl = `curl -s -w ' %{http_code}' -H 'Authorization: WISEPOPS-API key="${env.key}"' -H 'Content-Type: application/json' -X DELETE -d '{"hook_id":${a}}' '${base}/api1/hooks'`;
    const { stdout } = await sh('sh', ['-c', curl]);
    expect(stdout).toBe(`${JSON.stringify({ id: a, deleted: true })} 200`);
    expect(await ids()).toEqual([b]);
    // A numeric string, as some clients encode ids, and the same id in both places.
    expect(await del({ hook_id: String(b) }, `?hook_id=${b}`)).toMatchObject({ status: 200, body: { id: b, deleted: true } });
    expect(await ids()).toEqual([]);
  });

  it('the JSON body keeps the rules of the query: 404 for another site\'s or an unknown hook, 422 without a valid id', async () => {
    await start();
    const other = addSite(env.deps.db, env.deps.secret, { domain: 'other.example' });
    const theirs = (await create({ event: 'email', target_url: 'https://hooks.example.com/theirs' }, other.key)).body.id as number;
    expect(await del({ hook_id: theirs })).toMatchObject({ status: 404, body: { error: 'hook not found' } });
    expect(await del({ hook_id: 999999 })).toMatchObject({ status: 404 });
    for (const body of [{}, { hook_id: 'abc' }, { hook_id: 0 }, { hook_id: -4 }, { hook_id: 1.5 }, { hook_id: null }, [theirs], theirs, 'null']) {
      const r = await del(body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.body.error, JSON.stringify(body)).toMatch(/hook_id|JSON object/);
    }
    expect((await api('/api1/hooks', { key: other.key })).body.map((h: HookView) => h.id)).toEqual([theirs]);
  });

  it('refuses a query and a body that name different hooks, and deletes neither', async () => {
    await start();
    const a = (await create({ event: 'email', target_url: 'https://hooks.example.com/a' })).body.id as number;
    const b = (await create({ event: 'email', target_url: 'https://hooks.example.com/b' })).body.id as number;
    const r = await del({ hook_id: b }, `?hook_id=${a}`);
    expect(r).toMatchObject({ status: 422, body: { error: `hook_id given twice with different values (query ${a}, body ${b}): send it once` } });
    expect(r.type).toMatch(/application\/json/);
    expect(await ids()).toEqual([a, b]);
  });

  it('a Content-Type: application/json header with no body still reads hook_id from the query', async () => {
    await start();
    const a = (await create({ event: 'email', target_url: 'https://hooks.example.com/a' })).body.id as number;
    const curl = `curl -s -w ' %{http_code}' -H 'Authorization: WISEPOPS-API key="${env.key}"' -H 'Content-Type: application/json' -X DELETE '${base}/api1/hooks?hook_id=${a}'`;
    expect((await sh('sh', ['-c', curl])).stdout).toBe(`${JSON.stringify({ id: a, deleted: true })} 200`);
    // A body that is not JSON is still a 400, as everywhere else.
    expect(await del('{"hook_id":', `?hook_id=${a}`)).toMatchObject({ status: 400, body: { error: 'body: not valid JSON' } });
  });

  it('reads their body as every route does: 415 for a compressed one or another charset, an empty one of any type as none', async () => {
    await start();
    const a = (await create({ event: 'email', target_url: 'https://hooks.example.com/a' })).body.id as number;
    const send = async (path: string, method: string, body: string | Blob, headers: Record<string, string>) => {
      const res = await fetch(base + path, { method, body, headers: { authorization: `WISEPOPS-API key="${env.key}"`, ...headers } });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    const json = JSON.stringify({ hook_id: a });
    for (const [path, method] of [['/api1/hooks', 'DELETE'], ['/api1/hooks/retry', 'POST']]) {
      // Read as UTF-8, latin-1 text would be another id, or another hook's; gzip bytes are no text at all.
      expect(await send(path!, method!, json, { 'content-type': 'application/json; charset=iso-8859-1' }), path).toMatchObject({
        status: 415, body: { error: 'body: charset iso-8859-1 is not supported: send UTF-8' },
      });
      expect(await send(path!, method!, new Blob([new Uint8Array(gzipSync(json))]), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), path).toMatchObject({
        status: 415, body: { error: expect.stringMatching(/^body: content-encoding gzip is not supported/) },
      });
    }
    expect(await ids()).toEqual([a]);
    // fetch labels a string body text/plain, an empty one too: the id in the query is read.
    expect(await send(`/api1/hooks/retry?hook_id=${a}`, 'POST', '', { 'content-type': 'text/plain;charset=UTF-8' })).toMatchObject({ status: 200, body: { id: a, requeued: 0 } });
    expect(await send(`/api1/hooks?hook_id=${a}`, 'DELETE', '', { 'content-type': 'text/plain;charset=UTF-8' })).toMatchObject({ status: 200, body: { id: a, deleted: true } });
  });

  it('POST /api1/hooks/retry takes hook_id from the JSON body as well', async () => {
    await start();
    const a = (await create({ event: 'email', target_url: 'https://hooks.example.com/a' })).body.id as number;
    expect(await api('/api1/hooks/retry', { method: 'POST', body: JSON.stringify({ hook_id: a }) })).toMatchObject({ status: 200, body: { id: a, requeued: 0 } });
    expect((await api(`/api1/hooks/retry?hook_id=${a + 1}`, { method: 'POST', body: JSON.stringify({ hook_id: a }) })).status).toBe(422);
  });
});

describe('erasure API', () => {
  it('DELETE /api1/emails?email= removes every sign-up of the address for the site, its pending deliveries and its journal lines', async () => {
    await start();
    const other = addSite(env.deps.db, env.deps.secret, { domain: 'other.example' });
    const rx = await startReceiver('down');
    cleanups.push(() => rx.close());
    addHook(env.deps, env.siteId, rx.url);
    const journal = createJournal(env.deps.config.journalDir);
    const [target] = signup(env.deps, env.siteId, 1);
    const keep = signup(env.deps, env.siteId, 2);
    const payload = (email: string, site: string) => ({ id: Math.random().toString(36).slice(2), site, wisepop_id: 1, email, fields: {} });
    const meta = { collected_at: new Date().toISOString(), ip: '203.0.113.9', country_code: 'US' };
    for (const e of [target!, ...keep]) journal.append(payload(e, env.siteId), meta);
    // The same address twice more on this site (different case), and once on another site.
    const { insertSignups } = await import('../../src/server/store/signups');
    const row = (site: string, email: string, id: string) => ({
      site_id: site, client_id: id, email, wisepop_id: 1, ip: '203.0.113.9', country_code: null, other_fields: {}, consent: null, variant: null,
    });
    insertSignups(env.deps.db, [row(env.siteId, target!.toUpperCase(), 'x1'), row(other.site.id, target!, 'x2')]);
    journal.append(payload(target!, other.site.id), meta);
    const count = (sql: string, ...args: unknown[]) => (env.deps.db.prepare(sql).get(...args) as { n: number }).n;
    expect(count('SELECT COUNT(*) AS n FROM hook_deliveries')).toBe(4);

    const r = await api(`/api1/emails?email=${encodeURIComponent(target!)}`, { method: 'DELETE' });
    expect(r).toMatchObject({ status: 200, body: { deleted: 2, deliveries: 2 } });
    expect(count('SELECT COUNT(*) AS n FROM signups WHERE site_id = ? AND lower(email) = lower(?)', env.siteId, target)).toBe(0);
    expect(count('SELECT COUNT(*) AS n FROM signups WHERE site_id = ?', env.siteId)).toBe(2);
    expect(count('SELECT COUNT(*) AS n FROM signups WHERE site_id = ?', other.site.id)).toBe(1);
    expect(count('SELECT COUNT(*) AS n FROM hook_deliveries')).toBe(2);
    const lines = journalFiles(env.deps.config.journalDir).flatMap(readJournal);
    const text = JSON.stringify(lines);
    expect(lines.filter((l) => l.type === 'signup' && l.payload.email === target && l.payload.site === env.siteId)).toEqual([]);
    expect(lines.filter((l) => l.type === 'signup' && l.payload.site === other.site.id)).toHaveLength(1);
    // With the tombstones of the two rows it deleted (hashes of their browser ids: store/tombstones.ts).
    expect(lines.filter((l) => l.type === 'erase')).toEqual([
      { type: 'erase', at: expect.any(String), site: env.siteId, email_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), ids: [expect.stringMatching(/^[0-9a-f]{16}$/), expect.stringMatching(/^[0-9a-f]{16}$/)] },
    ]);
    expect(text.split(target!).length - 1).toBe(1); // only the other site's line holds it
    expect(await api('/api1/emails', { method: 'DELETE' })).toMatchObject({ status: 422, body: { error: 'email is required' } });
    // Too long says so, rather than that the address is missing.
    const long = `${'a'.repeat(64)}@${'b'.repeat(256)}`;
    expect(await api(`/api1/emails?email=${long}`, { method: 'DELETE' })).toMatchObject({
      status: 422, body: { error: 'email is too long: 321 characters, an address has at most 320' },
    });
    expect((await api(`/api1/emails?email=${long.slice(1)}`, { method: 'DELETE' })).status).toBe(200);
    // Two addresses in one request: neither is erased, and the answer says why.
    insertSignups(env.deps.db, [row(env.siteId, 'twice@example.com', 'x2')]);
    expect(await api('/api1/emails?email=twice@example.com&email=other@example.com', { method: 'DELETE' })).toMatchObject({
      status: 422, body: { error: 'email is given more than once: erase one address per request' },
    });
    expect(env.deps.db.prepare(`SELECT COUNT(*) FROM signups WHERE email = 'twice@example.com'`).pluck().get()).toBe(1);
    expect((await fetch(`${base}/api1/emails?email=x@y.z`, { method: 'DELETE' })).status).toBe(401);

    // Case folding beyond ASCII, the same as the journal scrub's.
    insertSignups(env.deps.db, [row(env.siteId, 'ÉLODIE@Example.com', 'x3')]);
    const e = await api(`/api1/emails?email=${encodeURIComponent('élodie@example.com')}`, { method: 'DELETE' });
    expect(e).toMatchObject({ status: 200, body: { deleted: 1 } });
  });
});
