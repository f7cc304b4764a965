// Answers to requests fastify's routes never see, or that fail before routing: JSON {error} with
// a status a client can act on, the security headers, and no URL in the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, startFixture, type Fixture } from './fixture';
import { rawRequest } from './raw-http';

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
