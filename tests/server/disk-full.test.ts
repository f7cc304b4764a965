// A full disk is the server's condition, not the request's: 503 with Retry-After (the request may
// be sent again once there is room), never the 500 of a bug. SQLite's max_page_count makes the
// database file "full" at its current size, as a full disk would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAuth, captureLog, getJson, post, signup, startFixture, type Fixture } from './fixture';

let f: Fixture;
const log = captureLog();
beforeAll(async () => {
  f = await startFixture({ collectPerMinute: 0 }, log);
});
afterAll(() => f.close());

describe('a full disk', () => {
  it('gets 503 with Retry-After from /collect and the API, is logged, and nothing is lost once there is room', async () => {
    const db = f.server.deps.db;
    const before = f.count();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const refused = [];
    for (let i = 0; i < 40; i++) {
      const body = signup(f.site, { fields: { Bio: 'y'.repeat(900) } });
      const r = await post(`${f.url}/collect`, body);
      if (r.status !== 201) refused.push({ body, status: r.status, retry: r.headers.get('retry-after'), json: r.json });
    }
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ status: 503, retry: '60', json: { error: 'the server is out of disk space: retry later' } });
    expect(new Set(refused.map((r) => r.status))).toEqual(new Set([503]));
    const hook = await post(`${f.url}/api1/hooks`, { event: 'email', target_url: `https://93.184.216.34/${'h'.repeat(1500)}` }, apiAuth(f.key));
    expect(hook.status).toBe(503);
    expect(log.lines.some((l) => l.level === 'error' && l.msg === 'request failed')).toBe(true);

    // Room again: each refused sign-up sent again (as the outbox does) is stored.
    db.pragma('max_page_count = 1073741823');
    for (const { body } of refused) expect((await post(`${f.url}/collect`, body)).status).toBe(201);
    expect(f.count()).toBe(before + 40);
    expect((await getJson(`${f.url}/api1/emails?page_size=100`, apiAuth(f.key))).status).toBe(200);
  });
});
