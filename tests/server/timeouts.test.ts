// A client that stops sending: its request times out with a JSON 408 (POPLET_REQUEST_TIMEOUT), and
// it cannot hold a shutdown open; a sign-up in flight at shutdown still completes and is stored.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config';
import { openDb } from '../../src/server/store/db';
import { join } from 'node:path';
import { signup, startFixture, type Fixture } from './fixture';
import { collectHead, rawConnect, type RawConnection } from './raw-http';

let fixtures: Fixture[] = [];
let conns: RawConnection[] = [];
afterEach(async () => {
  for (const c of conns) c.socket.destroy();
  conns = [];
  await Promise.all(fixtures.map((f) => f.close()));
  fixtures = [];
});

async function start(config: Parameters<typeof startFixture>[0]): Promise<Fixture> {
  const f = await startFixture({ collectPerMinute: 0, ...config });
  fixtures.push(f);
  return f;
}

async function open(f: Fixture): Promise<RawConnection> {
  const c = await rawConnect(f.url);
  conns.push(c);
  return c;
}

/** Resolves true once `p` settles, false if it has not within `ms` (a hang). */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((ok) => setTimeout(() => ok(false), ms).unref())]);

/** Resolves once nothing accepts connections on the server's port any more (it stopped listening). */
async function stoppedListening(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  for (;;) {
    const refused = await new Promise<boolean>((ok) => {
      const s = connect(Number(port), hostname);
      s.once('connect', () => (s.destroy(), ok(false)));
      s.once('error', () => ok(true));
    });
    if (refused) return;
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

describe('request timeout', () => {
  it('answers a body that stops arriving with a JSON 408 and closes the connection', async () => {
    const f = await start({ requestTimeoutMs: 300 });
    const c = await open(f);
    c.send(`${collectHead(100)}{"id":`);
    const a = await c.answer(10_000);
    expect(a.hung).toBe(false);
    expect(a.status).toBe(408);
    expect(JSON.parse(a.body)).toEqual({ error: expect.stringMatching(/^request timeout: /) });
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(a.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(a.headers.connection).toBe('close');
    expect(a.closed).toBe(true);
  });

  it('answers headers that stop arriving the same way', async () => {
    const f = await start({ requestTimeoutMs: 300 });
    const c = await open(f);
    c.send('GET /healthz HTTP/1.1\r\nHost: poplet.test\r\nX-Slow: ');
    const a = await c.answer(10_000);
    expect(a.hung).toBe(false);
    expect(a.status).toBe(408);
    expect(JSON.parse(a.body).error).toMatch(/^request timeout: /);
  });

  it('keeps answering other clients while requests stall, and stores a complete sign-up as usual', async () => {
    const f = await start({ requestTimeoutMs: 300 });
    const stalled = await Promise.all(Array.from({ length: 20 }, () => open(f)));
    for (const c of stalled) c.send(`${collectHead(100)}{`);
    const body = JSON.stringify(signup(f.site));
    const c = await open(f);
    c.send(collectHead(Buffer.byteLength(body), 'Connection: close\r\n') + body);
    expect((await c.answer()).status).toBe(201);
    const answers = await Promise.all(stalled.map((s) => s.answer(10_000)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 408));
  });

  it('is POPLET_REQUEST_TIMEOUT seconds, 15 by default, at least 1', () => {
    expect(loadConfig({}).requestTimeoutMs).toBe(15_000);
    expect(loadConfig({ POPLET_REQUEST_TIMEOUT: '30' }).requestTimeoutMs).toBe(30_000);
    expect(() => loadConfig({ POPLET_REQUEST_TIMEOUT: '0' })).toThrow(/POPLET_REQUEST_TIMEOUT must be at least 1/);
    expect(() => loadConfig({ POPLET_REQUEST_TIMEOUT: '1.5' })).toThrow(/POPLET_REQUEST_TIMEOUT/);
    // The shutdown's grace: never longer than 5 s, nor than the request timeout.
    expect(loadConfig({}).shutdownGraceMs).toBe(5_000);
    expect(loadConfig({ POPLET_REQUEST_TIMEOUT: '2' }).shutdownGraceMs).toBe(2_000);
  });
});

describe('shutdown', () => {
  it('is not held open by a stalled upload, half-sent headers or an idle keep-alive connection', async () => {
    // A request timeout far longer than the test: only the shutdown's own bound can end these.
    const f = await start({ requestTimeoutMs: 600_000, shutdownGraceMs: 300 });
    const upload = await open(f);
    upload.send(`${collectHead(100)}{"id":`);
    const headers = await open(f);
    headers.send('GET /healthz HTTP/1.1\r\nHost: poplet.test\r\n');
    const idle = await open(f);
    idle.send('GET /healthz HTTP/1.1\r\nHost: poplet.test\r\n\r\n');
    await new Promise((ok) => setTimeout(ok, 50));
    expect(await settlesWithin(f.server.close(), 10_000)).toBe(true);
    for (const c of [upload, headers, idle]) expect((await c.answer(1_000)).closed).toBe(true);
    // The stalled upload was never answered, so never acknowledged: its client sends it again.
    expect(f.count()).toBe(0);
  });

  it('lets a sign-up in flight finish: it gets its 201, with Connection: close, and is stored', async () => {
    const f = await start({ requestTimeoutMs: 600_000, shutdownGraceMs: 5_000 });
    const body = JSON.stringify(signup(f.site));
    const c = await open(f);
    // All but the last byte: the request is in flight when the shutdown begins.
    c.send(collectHead(Buffer.byteLength(body)) + body.slice(0, -1));
    await new Promise((ok) => setTimeout(ok, 50));
    const closing = f.server.close();
    await stoppedListening(f.url);
    c.send(body.slice(-1));
    const a = await c.answer(10_000);
    expect(a.status).toBe(201);
    expect(a.headers.connection).toBe('close');
    expect(await settlesWithin(closing, 10_000)).toBe(true);
    const db = openDb(join(f.dir, 'poplet.db'));
    try {
      expect(db.prepare('SELECT COUNT(*) FROM signups WHERE client_id = ?').pluck().get(JSON.parse(body).id)).toBe(1);
    } finally {
      db.close();
    }
  });

  it('stores every sign-up it acknowledged while shutting down under load', async () => {
    const f = await start({ requestTimeoutMs: 600_000, shutdownGraceMs: 300 });
    const acked: string[] = [];
    let stop = false;
    const clients = Array.from({ length: 20 }, async () => {
      while (!stop) {
        const body = signup(f.site);
        try {
          const r = await fetch(`${f.url}/collect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          if (r.status === 200 || r.status === 201) acked.push(body.id);
          else expect([503]).toContain(r.status); // arrived while closing: not acknowledged, retried
        } catch {
          stop = true; // refused or reset: not acknowledged
        }
      }
    });
    while (acked.length < 50) await new Promise((ok) => setTimeout(ok, 5));
    expect(await settlesWithin(f.server.close(), 10_000)).toBe(true);
    stop = true;
    await Promise.all(clients);
    const db = openDb(join(f.dir, 'poplet.db'));
    try {
      const stored = new Set(db.prepare('SELECT client_id FROM signups').pluck().all() as string[]);
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      db.close();
    }
  });
});
