import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAuth, getJson, post, signup, startFixture, type Fixture } from './fixture';
import type { EmailRow } from '../../src/shared/signup';
import { touchSite } from '../../src/server/store/sites';
import { rawRequest } from './raw-http';

let f: Fixture;
const TOTAL = 250;
beforeAll(async () => {
  f = await startFixture({ collectPerMinute: 100_000, apiPerMinute: 100_000 });
  // Concurrent bursts: many land in the same millisecond and must still get distinct collected_at.
  for (let i = 0; i < TOTAL; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => post(`${f.url}/collect`, signup(f.site, { wisepop_id: (i + j) % 3 === 0 ? 11 : 12 }))),
    );
  }
  await post(`${f.url}/collect`, signup(f.other.site), { origin: 'https://other.example' });
});
afterAll(() => f.close());

const emails = (query: string, key = f.key) => getJson(`${f.url}/api1/emails${query}`, apiAuth(key));

describe('GET /api1/emails', () => {
  it('returns the seed shape, oldest first, 100 by default', async () => {
    const r = await emails('');
    expect(r.status).toBe(200);
    const rows = r.json as EmailRow[];
    expect(rows).toHaveLength(100);
    // The seed's keys in its order, then Poplet's consent.
    expect(Object.keys(rows[0]!)).toEqual(['collected_at', 'email', 'wisepop_id', 'ip', 'country_code', 'other_fields', 'consent']);
    expect(rows[0]).toMatchObject({ ip: '127.0.0.1', country_code: null, other_fields: { City: 'Lyon' }, consent: null });
    const times = rows.map((x) => Date.parse(x.collected_at));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
  });

  it('pages (1-based, page_size up to 1,000) with no repeats and no gaps', async () => {
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const rows = (await emails(`?page=${page}&page_size=40`)).json as EmailRow[];
      seen.push(...rows.map((x) => x.email));
      if (rows.length < 40) break;
    }
    const all = ((await emails('?page_size=1000')).json as EmailRow[]).map((x) => x.email);
    expect(all).toHaveLength(TOTAL);
    expect(seen).toEqual(all);
    expect(new Set(all).size).toBe(TOTAL);
  });

  it('collected_after is strictly after: following the last collected_at never repeats or misses a row', async () => {
    const seen: string[] = [];
    let after = '2000-01-01T00:00:00.000Z';
    for (;;) {
      const rows = (await emails(`?collected_after=${encodeURIComponent(after)}&page_size=17`)).json as EmailRow[];
      if (!rows.length) break;
      seen.push(...rows.map((x) => x.email));
      after = rows[rows.length - 1]!.collected_at;
    }
    const all = ((await emails('?page_size=1000')).json as EmailRow[]).map((x) => x.email);
    expect(seen).toEqual(all);
  });

  it('paging by collected_after misses no row when rows are erased between pages; page numbers do (README says so)', async () => {
    const g = await startFixture({ collectPerMinute: 0, apiPerMinute: 0 });
    try {
      for (let i = 0; i < 30; i++) expect((await post(`${g.url}/collect`, signup(g.site))).status).toBe(201);
      const get = async (q: string) => (await getJson(`${g.url}/api1/emails${q}`, apiAuth(g.key))).json as EmailRow[];
      const erase = async (email: string) =>
        expect((await fetch(`${g.url}/api1/emails?email=${encodeURIComponent(email)}`, { method: 'DELETE', headers: apiAuth(g.key) })).status).toBe(200);
      const all = (await get('?page_size=1000')).map((r) => r.email);

      // By page: erasing two rows of page 1 after reading it moves two rows of page 2 onto page 1.
      const p1 = await get('?page=1&page_size=10');
      await erase(p1[0]!.email);
      await erase(p1[9]!.email);
      const p2 = await get('?page=2&page_size=10');
      expect(p2[0]!.email).toBe(all[12]); // rows 11 and 12 were never seen

      // By collected_after: the same erasures (and the cursor's own row going) skip nothing.
      const seen: string[] = [];
      let after = '2000-01-01T00:00:00.000Z';
      for (let round = 0; ; round++) {
        const rows = await get(`?collected_after=${encodeURIComponent(after)}&page_size=7`);
        if (!rows.length) break;
        seen.push(...rows.map((r) => r.email));
        after = rows.at(-1)!.collected_at;
        if (round === 0) {
          await erase(rows[0]!.email);
          await erase(rows.at(-1)!.email);
        }
      }
      // What is left: the 5 first-page rows kept, then every row after them, all seen.
      const left = (await get('?page_size=1000')).map((r) => r.email);
      expect(left).toHaveLength(26);
      expect(seen.slice(7)).toEqual(left.slice(5));
      expect(seen).toHaveLength(28);
    } finally {
      await g.close();
    }
  });

  it('new sign-ups after a poll appear after the last collected_at seen', async () => {
    const rows = (await emails('?page_size=1000')).json as EmailRow[];
    const last = rows[rows.length - 1]!.collected_at;
    const body = signup(f.site);
    await post(`${f.url}/collect`, body);
    const next = (await emails(`?collected_after=${encodeURIComponent(last)}`)).json as EmailRow[];
    expect(next.map((x) => x.email)).toEqual([body.email]);
  });

  it('collected_after in another time zone is the same instant, its + sent unencoded (a space in the query) too', async () => {
    const rows = (await emails('?page_size=1000')).json as EmailRow[];
    const cut = rows[100]!.collected_at;
    // The same instant two hours east and five hours west, milliseconds kept.
    const at = (hours: number) => new Date(Date.parse(cut) + hours * 3_600_000).toISOString().slice(0, 23);
    const expected = rows.slice(101).map((x) => x.email);
    for (const query of [
      encodeURIComponent(cut),
      encodeURIComponent(`${at(2)}+02:00`),
      encodeURIComponent(`${at(-5)}-05:00`),
      `${at(2)}+02:00`, // curl 'https://…?collected_after=…+02:00': the query string reads + as a space
      `${at(2)}+0200`,
    ]) {
      const r = await emails(`?page_size=1000&collected_after=${query}`);
      expect(r.status, query).toBe(200);
      expect((r.json as EmailRow[]).map((x) => x.email), query).toEqual(expected);
    }
    // A space anywhere else is still no date.
    expect((await emails(`?collected_after=${encodeURIComponent(`${at(2)} 02`)}`)).status).toBe(400);
  });

  it('returns the consent text the visitor ticked with the sign-up, null when the form had none', async () => {
    const text = 'I agree to receive the newsletter and accept the privacy policy (v3, 2026-01).';
    const ticked = signup(f.site, { consent: text });
    const none = signup(f.site);
    expect((await post(`${f.url}/collect`, ticked)).status).toBe(201);
    expect((await post(`${f.url}/collect`, none)).status).toBe(201);
    const rows = (await emails('?page_size=1000')).json as Array<EmailRow & { consent: string | null }>;
    expect(rows.find((x) => x.email === ticked.email)?.consent).toBe(text);
    expect(rows.find((x) => x.email === none.email)).toHaveProperty('consent', null);
  });

  it('filters by wisepop_id', async () => {
    const rows = (await emails('?wisepop_id=11&page_size=1000')).json as EmailRow[];
    expect(rows.length).toBe(Math.ceil(TOTAL / 3));
    expect(rows.every((x) => x.wisepop_id === 11)).toBe(true);
  });

  it('only ever shows the key’s own site', async () => {
    const rows = (await emails('?page_size=1000', f.other.key)).json as EmailRow[];
    expect(rows).toHaveLength(1);
  });

  it.each([
    ['?page=0', 'page'],
    ['?page_size=1001', 'page_size'],
    ['?page_size=abc', 'page_size'],
    ['?wisepop_id=-3', 'wisepop_id'],
    ['?collected_after=yesterday', 'collected_after'],
    ['?collected_after=2019-13-45T10:00:00Z', 'collected_after'],
    ['?collected_after=2019-02-30', 'collected_after'],
    // Past SQLite's integer range as an OFFSET: these were 500s.
    ['?page=100000000000000000000', 'page'],
    ['?page=1e400', 'page'],
    ['?page_size=1000&page=9223372036854776', 'page'],
    ['?page=1000001', 'page'],
    ['?page_size=1e400', 'page_size'],
    ['?wisepop_id=1e400', 'wisepop_id'],
    ['?wisepop_id=100000000000000000000', 'wisepop_id'],
  ])('refuses %s with 400 naming the parameter', async (query, name) => {
    const r = await emails(query);
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toContain(name);
  });

  it('accepts the last page number it allows', async () => {
    const r = await emails('?page=1000000&page_size=1000');
    expect(r.status).toBe(200);
    expect(r.json).toEqual([]);
  });

  it('401 without a key or with a wrong one; 403 with another site’s key', async () => {
    expect((await getJson(`${f.url}/api1/emails`)).status).toBe(401);
    expect((await getJson(`${f.url}/api1/emails`, { authorization: 'Bearer abc' })).status).toBe(401);
    const wrong = await emails('', 'x'.repeat(32));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'invalid API key' });
    const cross = await emails(`?site=${f.site}`, f.other.key);
    expect(cross.status).toBe(403);
    expect((await emails(`?site=${f.site}`)).status).toBe(200);
  });

  it('reads the key in every spelling of the header HTTP allows (RFC 9110 auth-param), and single-quoted', async () => {
    const k = f.key;
    const spellings = [
      `WISEPOPS-API key="${k}"`,
      `wisepops-api KEY="${k}"`,
      `WISEPOPS-API  key="${k}"`,
      `WISEPOPS-API key = "${k}"`,
      `WISEPOPS-API key=${k}`,
      `WISEPOPS-API key='${k}'`,
      `WISEPOPS-API key="${k}", version=1`,
      `WISEPOPS-API version=1, key=${k}`,
    ];
    for (const authorization of spellings) expect([authorization, (await getJson(`${f.url}/api1/emails?page_size=1`, { authorization })).status]).toEqual([authorization, 200]);
    // Not a key: named twice (which one?), empty, or not after the scheme.
    for (const authorization of [`WISEPOPS-API key=${k}, key=${k}`, 'WISEPOPS-API key=""', `WISEPOPS-API ${k}`, `WISEPOPS-APIkey="${k}"`]) {
      const r = await getJson(`${f.url}/api1/emails?page_size=1`, { authorization });
      expect([authorization, r.status, (r.json as { error: string }).error]).toEqual([authorization, 401, 'missing API key: Authorization: WISEPOPS-API key="..."']);
    }
  });

  it('refuses two Authorization headers (node:http would read the first one only) with a 400', async () => {
    for (const [first, second] of [[f.key, f.other.key], ['wrong', f.key]]) {
      const r = await rawRequest(f.url, `GET /api1/emails HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: WISEPOPS-API key="${first}"\r\nAuthorization: WISEPOPS-API key="${second}"\r\n\r\n`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ error: 'authorization: sent more than once; send one API key' });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

describe('GET /api1/stats parameters', () => {
  it.each([
    ['?to=9999-99-99', 'to'],
    ['?from=9999-99-99', 'from'],
    ['?from=2026-02-30&to=2026-03-01', 'from'],
    ['?from=2026-01-01&to=2026-13-01', 'to'],
    ['?to=2026-1-1', 'to'],
    ['?wisepop_id=100000000000000000000', 'wisepop_id'],
    ['?wisepop_id=1e400', 'wisepop_id'],
  ])('refuses %s with 400 naming the parameter, never a 500', async (query, name) => {
    const r = await getJson(`${f.url}/api1/stats${query}`, apiAuth(f.key));
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toContain(name);
  });

  it('takes a real last day of a month, and the default window before a given day', async () => {
    expect((await getJson(`${f.url}/api1/stats?from=2028-02-29&to=2028-02-29`, apiAuth(f.key))).status).toBe(200);
    expect((await getJson(`${f.url}/api1/stats?to=9999-12-31`, apiAuth(f.key))).status).toBe(200);
  });
});

describe('API rate limits', () => {
  it('limits each key (429 with Retry-After) without touching other keys', async () => {
    const g = await startFixture({ apiPerMinute: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await getJson(`${g.url}/api1/emails`, apiAuth(g.key))).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const r = await fetch(`${g.url}/api1/emails`, { headers: apiAuth(g.key) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(12);
      expect((await r.json()) as unknown).toEqual({ error: expect.stringContaining('rate limit') });
      expect((await getJson(`${g.url}/api1/emails`, apiAuth(g.other.key))).status).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('stops key guessing per IP after 20 wrong keys a minute', async () => {
    const g = await startFixture();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 22; i++) statuses.push((await getJson(`${g.url}/api1/emails`, apiAuth(`guess${i}`))).status);
      expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(20)).toEqual([429, 429]);
    } finally {
      await g.close();
    }
  });

  it('a guess that is right, once the IP is over the limit, is refused like a wrong one (429 tells nothing of the key)', async () => {
    const g = await startFixture();
    try {
      for (let i = 0; i < 20; i++) expect((await getJson(`${g.url}/api1/emails`, apiAuth(`guess${i}`))).status).toBe(401);
      const right = await getJson(`${g.url}/api1/emails`, apiAuth(g.key));
      expect(right.status).toBe(429);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The hooks API, not rate limited per key, is refused all the same: the limit is on guessing.
      expect((await getJson(`${g.url}/api1/hooks`, apiAuth(g.key))).status).toBe(429);
    } finally {
      await g.close();
    }
  });
});

describe('POST /collect rate limit', () => {
  it('limits per IP and site with 429 and Retry-After; other sites are unaffected; nothing stored', async () => {
    const g = await startFixture({ collectPerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(`${g.url}/collect`, signup(g.site))).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      const r = await post(`${g.url}/collect`, signup(g.site));
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(g.count()).toBe(3);
      expect((await post(`${g.url}/collect`, signup(g.other.site), { origin: 'https://other.example' })).status).toBe(201);
    } finally {
      await g.close();
    }
  });
});

describe('site activity', () => {
  it('an authenticated API call stamps the site active (the retention job reads it), a rejected one does not', async () => {
    const at = (site: string) => f.db.prepare('SELECT last_active_at FROM sites WHERE id = ?').pluck().get(site) as string | null;
    f.db.prepare('UPDATE sites SET last_active_at = NULL WHERE id IN (?, ?)').run(f.site, f.other.site);
    expect((await emails('?page_size=1', 'not-a-key')).status).toBe(401);
    expect(at(f.site)).toBeNull();
    const before = Date.now();
    expect((await emails('?page_size=1')).status).toBe(200);
    expect(Date.parse(at(f.site)!)).toBeGreaterThanOrEqual(before - 1);
    expect(at(f.other.site)).toBeNull();
  });

  it('is written at most once per UTC day, by API calls and sign-ups alike', async () => {
    const at = (site: string) => f.db.prepare('SELECT last_active_at FROM sites WHERE id = ?').pluck().get(site) as string | null;
    const set = (value: string) => f.db.prepare('UPDATE sites SET last_active_at = ? WHERE id = ?').run(value, f.site);
    const today = new Date().toISOString().slice(0, 10);
    set(`${today}T00:00:00.000Z`);
    expect((await emails('?page_size=1')).status).toBe(200);
    expect((await post(`${f.url}/collect`, signup(f.site))).status).toBe(201);
    expect(at(f.site)).toBe(`${today}T00:00:00.000Z`);
    // Last active on an earlier day: the next call stamps today.
    const yesterday = new Date(Date.parse(`${today}T00:00:00.000Z`) - 1).toISOString();
    set(yesterday);
    const before = Date.now();
    expect((await emails('?page_size=1')).status).toBe(200);
    expect(Date.parse(at(f.site)!)).toBeGreaterThanOrEqual(before - 1);
    set(yesterday);
    expect((await post(`${f.url}/collect`, signup(f.site))).status).toBe(201);
    expect(Date.parse(at(f.site)!)).toBeGreaterThanOrEqual(before - 1);
  });

  it('touchSite compares with the start of the UTC day', () => {
    const at = () => f.db.prepare('SELECT last_active_at FROM sites WHERE id = ?').pluck().get(f.other.site) as string | null;
    f.db.prepare('UPDATE sites SET last_active_at = NULL WHERE id = ?').run(f.other.site);
    touchSite(f.db, f.other.site, Date.parse('2026-05-01T23:59:59.999Z'));
    expect(at()).toBe('2026-05-01T23:59:59.999Z');
    touchSite(f.db, f.other.site, Date.parse('2026-05-01T23:59:59.999Z') - 3_600_000);
    expect(at()).toBe('2026-05-01T23:59:59.999Z');
    touchSite(f.db, f.other.site, Date.parse('2026-05-02T00:00:00.000Z'));
    expect(at()).toBe('2026-05-02T00:00:00.000Z');
    touchSite(f.db, f.other.site, Date.parse('2026-05-02T18:00:00.000Z'));
    expect(at()).toBe('2026-05-02T00:00:00.000Z');
  });
});
