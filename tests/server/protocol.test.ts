// Answers to requests fastify's routes never see, or that fail before routing: JSON {error} with
// a status a client can act on, the security headers, and no URL in the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, startFixture, type Fixture } from './fixture';
import { exchange, rawRequest } from './raw-http';

let f: Fixture;
const log = captureLog();
beforeAll(async () => {
  f = await startFixture({ logRequests: true }, log);
});
afterAll(() => f.close());

/** What every error answer must be: JSON {error} with the security headers. */
function expectJsonError(a: { status: number; headers: Record<string, string>; body: string }, status: number) {
  expect(a.status).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(a.body)).toEqual({ error: expect.any(String) });
  expect(a.headers['x-content-type-options']).toBe('nosniff');
  expect(a.headers['x-frame-options']).toBe('DENY');
  expect(a.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
}

describe('path parameters over 100 characters', () => {
  const long = 'a'.repeat(101);
  const secret = `${'b'.repeat(95)}SECRETPATH`;
  it.each([
    ['GET', `/sites/${long}/campaigns.json`],
    ['GET', `/chunks/${long}/poplet.ui.js`],
    ['GET', `/sites/${secret}/campaigns.json`],
  ])('%s %s: 404 JSON, never a 500', async (method, path) => {
    const r = await fetch(`${f.url}${path}`, { method });
    const a = { status: r.status, headers: Object.fromEntries(r.headers), body: await r.text() };
    expectJsonError(a, 404);
  });

  it('HEAD of one: 404, no body', async () => {
    const r = await fetch(`${f.url}/sites/${long}/campaigns.json`, { method: 'HEAD' });
    expect(r.status).toBe(404);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toBe('');
  });

  it('logs no error and never the URL', async () => {
    log.lines.length = 0;
    await fetch(`${f.url}/sites/${secret}/campaigns.json`);
    await fetch(`${f.url}/chunks/${secret}/poplet.collect.js`, { method: 'HEAD' });
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(JSON.stringify(log.lines)).not.toContain('SECRETPATH');
  });

  it('a malformed percent-escape is still a 400 JSON', async () => {
    const a = await rawRequest(f.url, 'GET /sites/%E0%A4%A/campaigns.json HTTP/1.1\r\nHost: poplet.test\r\nConnection: close\r\n\r\n');
    expectJsonError(a, 400);
  });
});

describe('answers node:http gave by itself', () => {
  const raw = (head: string) => rawRequest(f.url, head);

  it('an HTTP/1.1 request without Host: 400 JSON, not an empty 400', async () => {
    const body = '{}';
    const a = await raw(`POST /collect HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expectJsonError(a, 400);
    expect(JSON.parse(a.body).error).toMatch(/^host: /);
    // HTTP/1.0 may omit it.
    const old = await raw('GET /healthz HTTP/1.0\r\n\r\n');
    expect(old.status).toBe(200);
  });

  it('Expect other than 100-continue: 400 JSON, not an empty 417, and nothing stored', async () => {
    const before = f.count();
    const body = JSON.stringify({ id: 'expect-test-0001', site: f.site, wisepop_id: 7, email: 'expect@example.com' });
    const a = await raw(`POST /collect HTTP/1.1\r\nHost: poplet.test\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expectJsonError(a, 400);
    expect(JSON.parse(a.body).error).toMatch(/^expect: /);
    expect(f.count()).toBe(before);
    // 100-continue still works.
    const id = 'expect-test-0002';
    const ok = JSON.stringify({ id, site: f.site, wisepop_id: 7, email: 'continue@example.com' });
    const c = await raw(`POST /collect HTTP/1.1\r\nHost: poplet.test\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${ok.length}\r\n\r\n${ok}`);
    expect(c.status === 100 || c.status === 201).toBe(true);
    expect(f.db.prepare('SELECT COUNT(*) FROM signups WHERE client_id = ?').pluck().get(id)).toBe(1);
  });

  it('CONNECT: a 404 JSON, not a dropped connection', async () => {
    const a = await raw('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
    expect(a.hung).toBe(false);
    expectJsonError(a, 404);
  });

  it('a header block over 16 KB: 400 JSON, not a 431', async () => {
    const headers = Array.from({ length: 3000 }, (_, i) => `X-${i}: 1\r\n`).join('');
    const a = await raw(`GET /healthz HTTP/1.1\r\nHost: poplet.test\r\nConnection: close\r\n${headers}\r\n`);
    expectJsonError(a, 400);
    expect(JSON.parse(a.body).error).toMatch(/^headers: larger than 16 KB/);
  });

  it.each([
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n'],
    ['a bad chunk size', 'POST /collect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
  ])('malformed HTTP (%s): 400 JSON with the security headers', async (_name, data) => {
    const a = await raw(data);
    expectJsonError(a, 400);
  });

  it('malformed HTTP pipelined behind whole requests: they are answered first, in order, then the 400', async () => {
    const id = 'pipelined-0001';
    const body = JSON.stringify({ id, site: f.site, wisepop_id: 7, email: 'pipelined@example.com' });
    const bytes =
      `POST /collect HTTP/1.1\r\nHost: poplet.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
      'GET /healthz HTTP/1.1\r\nHost: poplet.test\r\n\r\nGARBAGE\r\n\r\n';
    const x = await exchange(f.url, [Buffer.from(bytes)], { want: 3, head: [], boundMs: 5_000 });
    expect(x.answers.map((a) => a.status)).toEqual([201, 200, 400]);
    expect(JSON.parse(x.answers[0]!.body.toString())).toMatchObject({ id });
    expect(JSON.parse(x.answers[1]!.body.toString())).toEqual({ ok: true });
    expectJsonError({ ...x.answers[2]!, body: x.answers[2]!.body.toString() }, 400);
    expect(f.db.prepare('SELECT COUNT(*) FROM signups WHERE client_id = ?').pluck().get(id)).toBe(1);
    // Then the connection is closed.
    const after = await exchange(f.url, [Buffer.from(bytes.replace(id, 'pipelined-0002'))], { want: 4, head: [], boundMs: 5_000 });
    expect(after.hung).toBe(false);
    expect(after.closed).toBe(true);
  });

  it('a CORS "preflight" of /collect without Access-Control-Request-Method: no text/plain 400', async () => {
    const r = await fetch(`${f.url}/collect`, { method: 'OPTIONS', headers: { origin: 'https://a.example' } });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    // A real preflight is answered as before.
    const p = await fetch(`${f.url}/collect`, {
      method: 'OPTIONS',
      headers: { origin: 'https://a.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(p.status).toBe(204);
    expect(p.headers.get('access-control-allow-methods')).toBe('POST');
    expect(p.headers.get('access-control-allow-headers')).toBe('content-type');
    // No Origin: not CORS at all, the 404 of a method the route does not serve.
    const none = await fetch(`${f.url}/collect`, { method: 'OPTIONS' });
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ error: 'not found' });
  });
});
