import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCampaigns, apiAuth, captureLog, getJson, post, signup, startFixture, testCampaign, type Fixture } from './fixture';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { addSite } from '../../src/server/store/sites';
import { startServer } from '../../src/server/main';
import { importCampaigns, removeCampaign } from '../../src/server/store/campaigns';
import { run } from '../../src/server/cli';
import type { Campaign, CampaignSet } from '../../src/shared/campaign';
import { createEventCounter, MAX_GOAL_NAMES } from '../../src/server/routes/events';
import { addCounts, addGoals, readNewestStats, type StatsRow } from '../../src/server/store/events';
import { MAX_STATS_DAYS, MAX_STATS_ROWS } from '../../src/server/routes/api';

const demo = JSON.parse(readFileSync(join(import.meta.dirname, '../../demo/campaigns.json'), 'utf8')) as Campaign[];
let f: Fixture;
beforeAll(async () => {
  f = await startFixture({ countryHeader: 'cf-ipcountry', collectPerMinute: 1000, eventsPerMinute: 1000 });
});
afterAll(() => f.close());

describe('GET /sites/:siteId/campaigns.json', () => {
  it('serves live campaigns with the visitor country, ETag, Cache-Control and Vary', async () => {
    importCampaigns(f.db, f.site, [demo[0], { ...demo[1]!, status: 'paused' }]);
    const r = await getJson(`${f.url}/sites/${f.site}/campaigns.json`, { 'cf-ipcountry': 'de' });
    expect(r.status).toBe(200);
    const set = r.json as CampaignSet;
    expect(set).toMatchObject({ site: f.site, timezone: 'UTC', country: 'DE' });
    expect(set.campaigns.map((c) => c.id)).toEqual([demo[0]!.id]);
    expect(r.headers.get('cache-control')).toMatch(/max-age=60/);
    expect(r.headers.get('vary')).toBe('cf-ipcountry');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);

    const again = await fetch(`${f.url}/sites/${f.site}/campaigns.json`, { headers: { 'if-none-match': etag, 'cf-ipcountry': 'DE' } });
    expect(again.status).toBe(304);
    const otherCountry = await fetch(`${f.url}/sites/${f.site}/campaigns.json`, { headers: { 'if-none-match': etag, 'cf-ipcountry': 'US' } });
    expect(otherCountry.status).toBe(200);
    expect(((await otherCountry.json()) as CampaignSet).country).toBe('US');
  });

  it('changes the ETag when a campaign changes, and ignores junk country headers', async () => {
    const before = (await fetch(`${f.url}/sites/${f.site}/campaigns.json`)).headers.get('etag');
    importCampaigns(f.db, f.site, { ...demo[0]!, name: 'Renamed' });
    const r = await getJson(`${f.url}/sites/${f.site}/campaigns.json`, { 'cf-ipcountry': '<script>' });
    expect(r.headers.get('etag')).not.toBe(before);
    expect((r.json as CampaignSet).country).toBeNull();
    expect((r.json as CampaignSet).campaigns[0]!.name).toBe('Renamed');
  });

  it('schedule dates stored by earlier versions with a space for the T are read as they meant, and served strict', async () => {
    const legacy = { ...demo[0]!, id: 901, schedule: { start: '2020-01-01 08:00', end: '2099-12-31 18:30:00' } };
    // As an earlier version stored it, before the validator took the strict form only.
    f.db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, ?, ?, ?)').run(f.site, 901, JSON.stringify(legacy), new Date().toISOString());
    const served = ((await getJson(`${f.url}/sites/${f.site}/campaigns.json`)).json as CampaignSet).campaigns.find((c) => c.id === 901);
    expect(served?.schedule).toMatchObject({ start: '2020-01-01T08:00', end: '2099-12-31T18:30:00' });
    expect(importCampaigns(f.db, f.site, { ...legacy, id: 902 })[0]!.schedule).toMatchObject({ start: '2020-01-01T08:00' });
    f.db.prepare('DELETE FROM campaigns WHERE id IN (901, 902)').run();
  });

  it('at startup, says which stored live campaigns the current schema refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-stale-'));
    try {
      const db = openDb(join(dir, 'poplet.db'));
      const { site } = addSite(db, loadSecret(dir, {}), { domain: 'stale.example' });
      const stale = { ...demo[0]!, id: 77, targeting: { all: [], any: [] } };
      db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, ?, ?, ?)').run(site.id, 77, JSON.stringify(stale), new Date().toISOString());
      db.close();
      const log = captureLog();
      const server = await startServer({ dataDir: dir, host: '127.0.0.1', port: 0, logRequests: false }, log);
      await server.close();
      expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.fields)).toEqual([{ site: site.id, skipped: expect.stringMatching(/^campaign 77.*targeting/) }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a campaign nested thousands of levels deep is refused at import with a message, and one stored anyway is skipped alone from campaigns.json', async () => {
    // Written out: JSON.stringify recurses too. JSON.parse does not.
    const body = `${JSON.stringify({ ...demo[0]!, id: 903, targeting: null }).slice(0, -1).replace(/"targeting":null,?/, '')},"targeting":${'{"not":'.repeat(20_000)}{"type":"language","value":"en"}${'}'.repeat(20_000)}}`;
    const campaign: unknown = JSON.parse(body);
    // The validator recursed down the tree: a RangeError, with no campaign or field named.
    expect(() => importCampaigns(f.db, f.site, campaign)).toThrow(/^campaign 903: campaign: nested more than 64 levels deep$/);
    importCampaigns(f.db, f.site, { ...demo[0]!, id: 904, status: 'live' });
    f.db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, ?, ?, ?)').run(f.site, 903, body, new Date().toISOString());
    try {
      const r = await getJson(`${f.url}/sites/${f.site}/campaigns.json`);
      expect(r.status).toBe(200);
      const ids = (r.json as CampaignSet).campaigns.map((c) => c.id);
      expect(ids).toContain(904);
      expect(ids).not.toContain(903);
    } finally {
      f.db.prepare('DELETE FROM campaigns WHERE id IN (903, 904)').run();
    }
  });

  it('404s an unknown site', async () => {
    expect((await getJson(`${f.url}/sites/nope/campaigns.json`)).status).toBe(404);
  });

  it('refuses invalid campaigns on import, naming the campaign and field, importing none', () => {
    const count = () => f.db.prepare('SELECT COUNT(*) FROM campaigns').pluck().get();
    const before = count();
    expect(() => importCampaigns(f.db, f.site, [demo[2], { ...demo[3]!, trigger: { type: 'teleport' } }])).toThrow(
      new RegExp(`campaign ${demo[3]!.id}: trigger`),
    );
    expect(() => importCampaigns(f.db, f.site, { ...demo[2]!, id: -1 })).toThrow(/id/);
    expect(() => importCampaigns(f.db, f.site, [demo[2], demo[2]])).toThrow(/twice/);
    expect(count()).toBe(before);
  });
});

describe('CLI', () => {
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    await run([...argv, '--data', f.dir], (l) => lines.push(l));
    return lines.join('\n');
  };

  it('adds a site with a key that works on the API, rotates it, sets origins and imports campaigns', async () => {
    const added = await cli('site', 'add', '--domain', 'https://Blog.Example/', '--origin', 'https://blog.example', '--origin', 'http://localhost:3000');
    const id = /site id:\s+(\S+)/.exec(added)![1]!;
    const key = /api key:\s+(\S+)/.exec(added)![1]!;
    expect(added).toContain('https://blog.example, http://localhost:3000');
    expect((await getJson(`${f.url}/api1/emails`, apiAuth(key))).status).toBe(200);

    const rotated = await cli('site', 'rotate-key', id);
    const newKey = /api key:\s+(\S+)/.exec(rotated)![1]!;
    expect(newKey).not.toBe(key);
    expect((await getJson(`${f.url}/api1/emails`, apiAuth(key))).status).toBe(401);
    expect((await getJson(`${f.url}/api1/emails`, apiAuth(newKey))).status).toBe(200);

    await cli('site', 'origins', id, 'https://new.example');
    // The running server sees the CLI's change on the next request.
    expect((await post(`${f.url}/collect`, signup(id), { origin: 'http://localhost:3000' })).status).toBe(403);
    expect((await post(`${f.url}/collect`, signup(id), { origin: 'https://new.example' })).status).toBe(201);

    const file = join(f.dir, 'one.json');
    writeFileSync(file, JSON.stringify(demo[4]));
    expect(await cli('campaign', 'import', file, '--site', id)).toContain(`imported campaign ${demo[4]!.id}`);
    writeFileSync(file, JSON.stringify([{ ...demo[4]!, layout: { type: 'hologram' } }]));
    await expect(cli('campaign', 'import', file, '--site', id)).rejects.toThrow(/layout/);
    expect(await cli('site', 'list')).toContain(`${id}  blog.example`);
  });

  it('refuses bad input', async () => {
    await expect(cli('site', 'add')).rejects.toThrow(/--domain/);
    await expect(cli('site', 'add', '--domain', 'x.example', '--origin', 'ftp://x.example')).rejects.toThrow(/origin/);
    await expect(cli('site', 'rotate-key', 'nosuch')).rejects.toThrow(/unknown site/);
    await expect(cli('frobnicate')).rejects.toThrow(/unknown command/);
  });
});

describe('POST /events and GET /api1/stats', () => {
  beforeAll(() => addCampaigns(f.db, f.site, { 5: [], 6: [], 21: [], 22: [] }));

  it('a batch holds at most 500 events, and the 16 KB body limit comes first for events with real times (README)', async () => {
    // Campaign 999 is not the site's: its events are dropped after the checks, so no count moves.
    const batch = (n: number, t = Date.now()) => JSON.stringify({ site: f.site, events: Array.from({ length: n }, () => ({ k: 'display', c: 999, t })) });
    const send = (body: string) => post(`${f.url}/events`, body, { 'content-type': 'text/plain' });
    expect((await send(batch(370))).status).toBe(204);
    const big = await send(batch(400));
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ error: 'body: larger than 16 KB' });
    expect((await send(batch(500, 1))).status).toBe(204);
    expect((await send(batch(501, 1))).json).toEqual({ error: 'events: must be an array of 1–500 events' });
  });

  it('aggregates per campaign per day in the site time zone; sign-ups count from stored rows', async () => {
    const now = Date.now();
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(now);
    const events = [
      ...Array.from({ length: 8 }, () => ({ k: 'display', c: 5, t: now })),
      { k: 'close', c: 5, t: now },
      { k: 'click', c: 5, t: now },
      { k: 'signup', c: 5, t: now },
      { k: 'display', c: 6, t: now - 3 * 86_400_000 },
      // An absurd client clock counts as now.
      { k: 'display', c: 6, t: 1 },
    ];
    const r = await post(`${f.url}/events`, JSON.stringify({ site: f.site, events }), { 'content-type': 'text/plain' });
    expect(r.status).toBe(204);
    expect((await post(`${f.url}/collect`, signup(f.site, { wisepop_id: 5 }))).status).toBe(201);
    expect((await post(`${f.url}/collect`, signup(f.site, { wisepop_id: 5 }))).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 1300)); // counts are written once a second

    const stats = (await getJson(`${f.url}/api1/stats`, apiAuth(f.key))).json as Array<Record<string, unknown>>;
    expect(stats).toContainEqual({
      day, wisepop_id: 5, variant: null, displays: 8, closes: 1, clicks: 1, signups: 2, conversion_rate: 0.25, goals: 0, revenue: 0, goals_by_name: {},
      visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitor_conversion_rate: 0, visitor_goal_rate: 0, visitors_capped: false,
    });
    expect(stats).toContainEqual(expect.objectContaining({ day, wisepop_id: 6, displays: 1 }));
    const old = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(now - 3 * 86_400_000);
    expect(stats).toContainEqual(expect.objectContaining({ day: old, wisepop_id: 6, displays: 1, conversion_rate: 0 }));

    const one = (await getJson(`${f.url}/api1/stats?from=${day}&to=${day}&wisepop_id=6`, apiAuth(f.key))).json;
    expect(one).toEqual([
      { day, wisepop_id: 6, variant: null, displays: 1, closes: 0, clicks: 0, signups: 0, conversion_rate: 0, goals: 0, revenue: 0, goals_by_name: {}, visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitor_conversion_rate: 0, visitor_goal_rate: 0, visitors_capped: false },
    ]);
    expect((await getJson(`${f.url}/api1/stats?from=2020-02-02&to=2020-01-01`, apiAuth(f.key))).status).toBe(400);
    expect((await getJson(`${f.url}/api1/stats?from=yesterday`, apiAuth(f.key))).status).toBe(400);
    expect((await getJson(`${f.url}/api1/stats`)).status).toBe(401);
  });

  it('sums goals and their revenue per campaign per day, across batches', async () => {
    const now = Date.now();
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(now);
    const goal = (c: number, r?: number) => ({ k: 'goal', c, n: 'purchase', r, t: now });
    const batches = [
      [{ k: 'display', c: 21, t: now }, goal(21, 0.1), goal(22, 0.1)],
      [goal(21, 0.2), goal(21), { ...goal(21, 0), n: 'newsletter' }],
      [{ ...goal(22, 19.99), t: now - 86_400_000 }],
    ];
    // One visitor (an SDK-shaped analytics id), so the visitor counts are known too.
    const visitor = 'V1StGXR8_Z5jdHi6B-myT';
    for (const events of batches) expect((await post(`${f.url}/events`, JSON.stringify({ site: f.site, visitor, events }), { 'content-type': 'text/plain' })).status).toBe(204);
    await new Promise((ok) => setTimeout(ok, 1300));

    const stats = (await getJson(`${f.url}/api1/stats`, apiAuth(f.key))).json as Array<Record<string, unknown>>;
    // 0.1 + 0.2 is read back as 0.3, not 0.30000000000000004
    expect(stats).toContainEqual({
      day, wisepop_id: 21, variant: null, displays: 1, closes: 0, clicks: 0, signups: 0, conversion_rate: 0, goals: 4, revenue: 0.3,
      goals_by_name: { purchase: { goals: 3, revenue: 0.3 }, newsletter: { goals: 1, revenue: 0 } },
      // The visitor was shown 21 and credited goals there, the same day.
      visitors: 1, visitors_signed_up: 0, visitors_with_goal: 1, visitor_conversion_rate: 0, visitor_goal_rate: 1, visitors_capped: false,
    });
    // Shown nothing of 22 that day: its goals count in the totals only.
    expect(stats).toContainEqual(expect.objectContaining({ day, wisepop_id: 22, goals: 1, visitors: 0, visitors_with_goal: 0 }));
    expect(stats).toContainEqual(expect.objectContaining({ day, wisepop_id: 22, displays: 0, goals: 1, revenue: 0.1 }));
    const yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(now - 86_400_000);
    expect(stats).toContainEqual(expect.objectContaining({ day: yesterday, wisepop_id: 22, goals: 1, revenue: 19.99 }));
  });

  it.each([
    [{ site: 'x', events: [{ k: 'goal', c: 1, t: 1 }] }, 422, 'events[0].n'],
    [{ site: 'x', events: [{ k: 'goal', c: 1, n: '', t: 1 }] }, 422, 'events[0].n'],
    [{ site: 'x', events: [{ k: 'display', c: 1, t: 1 }, { k: 'goal', c: 1, n: 'x'.repeat(51), t: 1 }] }, 422, 'events[1].n'],
    [{ site: 'x', events: [{ k: 'goal', c: 1, n: 'buy', r: -5, t: 1 }] }, 422, 'events[0].r'],
    [{ site: 'x', events: [{ k: 'goal', c: 1, n: 'buy', r: '5', t: 1 }] }, 422, 'events[0].r'],
    [{ site: 'x', events: [{ k: 'goal', c: 1, n: 'buy', r: null, t: 1 }] }, 422, 'events[0].r'],
    [{ site: 'x', events: [{ k: 'goal', c: 1, n: 'buy', r: 1e12, t: 1 }] }, 422, 'events[0].r'],
    [{ site: 'x', events: [{ k: 'display', c: 1, n: 'buy', t: 1 }] }, 422, 'events[0]'],
    [{ site: 'x', events: [{ k: 'click', c: 1, r: 3, t: 1 }] }, 422, 'events[0]'],
  ])('refuses the goal event in %j with %i', async (body, status, field) => {
    const r = await post(`${f.url}/events`, body);
    expect(r.status).toBe(status);
    expect(r.json!.error).toContain(field);
  });

  it.each([
    [{ site: 'x', events: [] }, 422, 'events'],
    [{ site: 'x', events: [{ k: 'hover', c: 1, t: 1 }] }, 422, 'events[0].k'],
    [{ site: 'x', events: [{ k: 'display', c: 1.5, t: 1 }] }, 422, 'events[0].c'],
    [{ events: [{ k: 'display', c: 1, t: 1 }] }, 422, 'site'],
    [{ site: 'nosuch', events: [{ k: 'display', c: 1, t: 1 }] }, 404, 'site'],
  ])('refuses %j with %i', async (body, status, field) => {
    const r = await post(`${f.url}/events`, body);
    expect(r.status).toBe(status);
    expect(r.json!.error).toContain(field);
  });

  it('refuses events from a foreign origin', async () => {
    const r = await post(`${f.url}/events`, { site: f.site, events: [{ k: 'display', c: 1, t: Date.now() }] }, { origin: 'https://evil.example' });
    expect(r.status).toBe(403);
  });
});

describe('SDK files', () => {
  it('serves the core and both chunks as cacheable scripts with ETag revalidation', async () => {
    for (const name of ['poplet.js', 'poplet.ui.js', 'poplet.collect.js']) {
      const r = await fetch(`${f.url}/${name}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(r.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
      expect(r.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect((await r.text()).length).toBeGreaterThan(100);
      const again = await fetch(`${f.url}/${name}`, { headers: { 'if-none-match': r.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
  });

  it("serves a build's kept chunks by their key, immutable; an unknown key gets today's chunk, not cached", async () => {
    const dist = mkdtempSync(join(tmpdir(), 'poplet-dist-'));
    const old = 'a1b2c3d4e5f6';
    mkdirSync(join(dist, 'chunks', old), { recursive: true });
    writeFileSync(join(dist, 'poplet.ui.js'), 'today ui');
    writeFileSync(join(dist, 'poplet.collect.js'), 'today collect');
    writeFileSync(join(dist, 'poplet.js'), 'today core');
    writeFileSync(join(dist, 'chunks', old, 'poplet.ui.js'), 'old ui');
    writeFileSync(join(dist, 'chunks', old, 'poplet.collect.js'), 'old collect');
    writeFileSync(join(dist, 'chunks', old, 'poplet.js'), 'old core');
    const g = await startFixture({ distDir: dist });
    try {
      const get = async (path: string) => {
        const r = await fetch(g.url + path);
        const body = await r.text();
        return [r.status, r.headers.get('content-type')!.startsWith('text/javascript') ? body : JSON.parse(body).error, r.headers.get('cache-control')];
      };
      const year = 'public, max-age=31536000, immutable';
      expect(await get(`/chunks/${old}/poplet.ui.js`)).toEqual([200, 'old ui', year]);
      expect(await get(`/chunks/${old}/poplet.collect.js`)).toEqual([200, 'old collect', year]);
      expect(await get('/chunks/ffffffffffff/poplet.ui.js')).toEqual([200, 'today ui', 'no-cache']);
      expect((await get('/poplet.ui.js'))[2]).toBe('public, max-age=300, stale-while-revalidate=86400');
      // Only the two chunks, only keys of the build's shape.
      expect((await get(`/chunks/${old}/poplet.js`))[0]).toBe(404);
      expect((await get('/chunks/..%2f..%2fetc/poplet.ui.js')).slice(0, 2)).toEqual([404, 'key: not a build key']);
      expect((await get('/chunks/A1B2C3D4E5F6/poplet.ui.js'))[0]).toBe(404);
      const etag = (await fetch(`${g.url}/chunks/${old}/poplet.ui.js`)).headers.get('etag')!;
      expect((await fetch(`${g.url}/chunks/${old}/poplet.ui.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      rmSync(join(dist, 'poplet.ui.js'));
      expect((await get('/chunks/ffffffffffff/poplet.ui.js'))[0]).toBe(404);
    } finally {
      await g.close();
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe('POST /events and GET /api1/stats are bounded', () => {
  let g: Fixture;
  const DAY = 86_400_000;
  const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const rows = (sql: string) => g.db.prepare(sql).pluck().get() as number;
  const send = async (events: Array<Record<string, unknown>>) =>
    expect((await post(`${g.url}/events`, JSON.stringify({ site: g.site, events }), { 'content-type': 'text/plain' })).status).toBe(204);
  const flushed = () => new Promise((ok) => setTimeout(ok, 1300)); // counts are written once a second
  const stats = (query: string) => getJson(`${g.url}/api1/stats${query}`, apiAuth(g.key)) as Promise<{ status: number; headers: Headers; json: unknown }>;

  beforeAll(async () => {
    g = await startFixture({ eventsPerMinute: 0, apiPerMinute: 0 });
    addCampaigns(g.db, g.site, { 1: ['a', 'b'] });
    // 2: a control group without variants; 3: no test at all.
    importCampaigns(g.db, g.site, [testCampaign(2, { control: 10 }), testCampaign(3)]);
  });
  afterAll(() => g.close());

  it('counts only the site’s campaigns; a group they never had under no group; a stranger’s flood adds no rows', async () => {
    const now = Date.now();
    await send([
      { k: 'display', c: 1, g: 'a', t: now },
      { k: 'display', c: 1, t: now }, // no test reported: the campaign's null row
      { k: 'display', c: 1, g: 'control', t: now },
      { k: 'display', c: 2, g: 'default', t: now }, // a control group without variants
      { k: 'display', c: 1, g: 'zzz', t: now }, // a group the campaign never had: its null row
      { k: 'display', c: 2, g: 'a', t: now },
      // Groups a campaign without a test never reports (only forged): its null row.
      { k: 'display', c: 3, g: 'default', t: now },
      { k: 'display', c: 3, g: 'control', t: now },
      { k: 'display', c: 999, t: now },
      { k: 'goal', c: 999, n: 'purchase', r: 5, t: now },
    ]);
    // What the review did: any campaign id and group from requests without an Origin.
    for (let b = 0; b < 20; b++) {
      await send(Array.from({ length: 150 }, (_, i) => ({ k: 'goal', c: 10_000 + b * 150 + i, g: `g${i}`, n: `n${b}-${i}`, t: now - (i % 30) * DAY })));
      await send(Array.from({ length: 150 }, (_, i) => ({ k: 'display', c: 1, g: `g${b}-${i}`, t: now })));
    }
    await flushed();
    const r = await stats(`?from=${utcDay(now)}&to=${utcDay(now)}`);
    expect((r.json as StatsRow[]).map((x) => [x.wisepop_id, x.variant, x.displays])).toEqual([
      [1, null, 2 + 20 * 150],
      [1, 'a', 1],
      [1, 'control', 1],
      [2, null, 1],
      [2, 'default', 1],
      [3, null, 2],
    ]);
    expect(rows('SELECT COUNT(*) FROM events_daily')).toBe(6);
    expect(rows('SELECT COUNT(*) FROM goals_daily')).toBe(0);

    // A campaign imported while the server runs counts from the next batch on.
    addCampaigns(g.db, g.site, { 999: ['x'] });
    await send([{ k: 'display', c: 999, g: 'x', t: now }]);
    await flushed();
    expect(rows('SELECT SUM(displays) FROM events_daily WHERE wisepop_id = 999')).toBe(1);
  });

  it('goals after an A/B test ended or a campaign was deleted still count; only ids the site never had are dropped', async () => {
    const now = Date.now();
    addCampaigns(g.db, g.site, { 30: ['A', 'B'], 31: [], 32: ['C'] });
    await send([{ k: 'display', c: 30, g: 'A', t: now }, { k: 'display', c: 31, t: now }]);
    await flushed();
    // Counts not written yet (they are, once a second) count as well.
    await send([{ k: 'display', c: 32, g: 'C', t: now }]);
    // The owner ends the test (the winner's content stays, the variants go) and deletes 31, 32.
    importCampaigns(g.db, g.site, [testCampaign(30)]);
    removeCampaign(g.db, g.site, 31);
    removeCampaign(g.db, g.site, 32);
    // Visitors who saw them in the 30 days before convert: the SDK credits the stored group.
    await send([
      { k: 'goal', c: 30, g: 'A', n: 'purchase', r: 50, t: now }, // a group with counts: kept
      { k: 'goal', c: 30, g: 'B', n: 'purchase', r: 7, t: now }, // never counted: no group
      { k: 'goal', c: 31, n: 'purchase', r: 20, t: now }, // deleted, but has counts
      { k: 'goal', c: 31, g: 'x', n: 'purchase', r: 1, t: now },
      { k: 'goal', c: 32, g: 'C', n: 'purchase', r: 2, t: now },
      { k: 'goal', c: 4242, n: 'purchase', r: 3, t: now }, // never the site's
    ]);
    await flushed();
    const r = await stats(`?from=${utcDay(now)}&to=${utcDay(now)}`);
    expect((r.json as StatsRow[]).filter((x) => [30, 31, 32, 4242].includes(x.wisepop_id)).map((x) => [x.wisepop_id, x.variant, x.displays, x.goals, x.revenue])).toEqual([
      [30, null, 0, 1, 7],
      [30, 'A', 1, 1, 50],
      [31, null, 1, 2, 21],
      [32, 'C', 1, 1, 2],
    ]);
  });

  it(`caps goal names at ${MAX_GOAL_NAMES} per site and day; later names count in the totals only`, async () => {
    const now = Date.now();
    const names = Array.from({ length: MAX_GOAL_NAMES + 50 }, (_, i) => `goal-${i}`);
    await send(names.map((n) => ({ k: 'goal', c: 1, g: 'a', n, r: 1, t: now })));
    // A name already counted keeps counting; one more new name, even on another campaign, does not.
    await send([{ k: 'goal', c: 1, g: 'b', n: 'goal-0', t: now }, { k: 'goal', c: 2, n: 'late', t: now }]);
    // Another day has its own budget.
    await send([{ k: 'goal', c: 1, g: 'a', n: 'yesterday', t: now - DAY }]);
    await flushed();
    const today = utcDay(now);
    expect(rows(`SELECT COUNT(DISTINCT name) FROM goals_daily WHERE day = '${today}'`)).toBe(MAX_GOAL_NAMES);
    expect(rows(`SELECT SUM(goals) FROM events_daily WHERE day = '${today}' AND wisepop_id = 1`)).toBe(names.length + 1);
    expect(rows(`SELECT SUM(revenue) FROM events_daily WHERE day = '${today}' AND wisepop_id = 1`)).toBe(names.length);
    expect(rows(`SELECT goals FROM goals_daily WHERE day = '${today}' AND variant = 'b' AND name = 'goal-0'`)).toBe(1);
    expect(rows(`SELECT COUNT(*) FROM goals_daily WHERE name = 'late'`)).toBe(0);
    expect(rows(`SELECT COUNT(*) FROM goals_daily WHERE name = 'yesterday'`)).toBe(1);

    // A fresh counter (a restart) reads the names already stored and keeps to the cap.
    const counter = createEventCounter(g.server.deps, 60_000);
    counter.add(g.site, 'UTC', { site: g.site, events: [{ k: 'goal', c: 1, g: 'a', n: 'after-restart', t: now }, { k: 'goal', c: 1, g: 'a', n: 'goal-1', t: now }] });
    counter.stop();
    expect(rows(`SELECT COUNT(DISTINCT name) FROM goals_daily WHERE day = '${today}'`)).toBe(MAX_GOAL_NAMES);
    expect(rows(`SELECT goals FROM goals_daily WHERE day = '${today}' AND variant = 'a' AND name = 'goal-1'`)).toBe(2);
  });

  it(`answers at most ${MAX_STATS_DAYS} days and ${MAX_STATS_ROWS} rows per request, 400 beyond`, async () => {
    expect((await stats('?from=2028-01-01&to=2028-12-31')).status).toBe(200); // 366 days
    const long = await stats('?from=2027-01-01&to=2028-01-02');
    expect(long.status).toBe(400);
    expect((long.json as { error: string }).error).toMatch(/^from: at most 366 days/);

    // Rows a database may already hold (counted before the campaign check existed).
    g.db.transaction(() => {
      for (let i = 0; i <= MAX_STATS_ROWS; i++) addCounts(g.db, { site: g.site, campaign: 5000 + (i % 1000), day: '2025-06-01', variant: `v${Math.floor(i / 1000)}` }, { displays: 1 });
    })();
    const many = await stats('?from=2025-06-01&to=2025-06-01');
    expect(many.status).toBe(400);
    expect((many.json as { error: string }).error).toMatch(/^from: 20001 rows .* ask for fewer days or one wisepop_id$/);
    const one = await stats('?from=2025-06-01&to=2025-06-01&wisepop_id=5000');
    expect(one.status).toBe(200);
    expect(one.json).toHaveLength(21);
  });

  it(`answers a plain request (the last 30 days) with its newest ${MAX_STATS_ROWS} rows and poplet-truncated: true, never a 400`, async () => {
    const now = Date.now();
    const today = utcDay(now);
    const yesterday = utcDay(now - DAY);
    const first = await stats('');
    expect(first.headers.get('poplet-truncated')).toBeNull(); // within the cap: whole, no header
    const before = first.json as StatsRow[];
    // Rows a database may already hold (counted before /collect and /events checked campaigns).
    g.db.transaction(() => {
      for (let i = 0; i < MAX_STATS_ROWS; i++) addCounts(g.db, { site: g.site, campaign: 6000 + (i % 1000), day: today, variant: `v${Math.floor(i / 1000)}` }, { displays: 1 });
      addCounts(g.db, { site: g.site, campaign: 6000, day: yesterday, variant: '' }, { displays: 1 });
    })();
    const plain = await stats('');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('poplet-truncated')).toBe('true');
    const rowsOf = plain.json as StatsRow[];
    expect(rowsOf).toHaveLength(MAX_STATS_ROWS);
    // The newest rows, in the usual order: every row of today but the lowest-ordered ones.
    expect(rowsOf.every((r) => r.day === today)).toBe(true);
    expect(rowsOf.at(-1)).toMatchObject({ day: today, wisepop_id: 6999, variant: 'v9' }); // variants order as text
    const sorted = [...rowsOf].sort((a, b) => (a.wisepop_id - b.wisepop_id) || String(a.variant ?? '').localeCompare(String(b.variant ?? '')));
    expect(rowsOf.map((r) => [r.wisepop_id, r.variant])).toEqual(sorted.map((r) => [r.wisepop_id, r.variant]));
    expect(before.length).toBeGreaterThan(0);
    const other = await stats(`?to=${today}`); // the default window too
    expect(other.status).toBe(200);
    // The days before year 1000 and year 0 itself, whose 30 days start at year 0.
    for (const to of ['0999-01-15', '0001-01-01', '0000-01-10']) expect((await stats(`?to=${to}`)).status).toBe(200);
    expect(other.headers.get('poplet-truncated')).toBe('true');
    expect((await stats(`?from=${today}&to=${today}`)).status).toBe(400); // a range the caller chose: as before
  });

  it('a truncated answer never holds a row with only part of its goal names', () => {
    const day = '2024-03-01';
    g.db.transaction(() => {
      for (let c = 1; c <= 4; c++) {
        addCounts(g.db, { site: g.site, campaign: 7000 + c, day, variant: '' }, { goals: 3 });
        for (const name of ['x', 'y', 'z']) addGoals(g.db, { site: g.site, campaign: 7000 + c, day, variant: '' }, name, { goals: 1, revenue: 0 });
      }
    })();
    const q = { from: day, to: day };
    // 5 names fit: campaign 7004 whole (3), 7003 would be cut after 2: left out.
    const r = readNewestStats(g.db, g.site, q, { rows: 100, goalRows: 5 });
    expect(r.truncated).toBe(true);
    expect(r.rows.map((x) => [x.wisepop_id, Object.keys(x.goals_by_name)])).toEqual([[7004, ['x', 'y', 'z']]]);
    const whole = readNewestStats(g.db, g.site, q, { rows: 4, goalRows: 12 });
    expect(whole).toMatchObject({ truncated: false });
    expect(whole.rows).toHaveLength(4);
    expect(readNewestStats(g.db, g.site, q, { rows: 2, goalRows: 12 }).rows.map((x) => x.wisepop_id)).toEqual([7003, 7004]);
  });

  it('/collect stores a sign-up of a made-up campaign or group but counts it only as /events would; it never makes one "had"', async () => {
    const now = Date.now();
    const today = utcDay(now);
    const fake = 987_654;
    const collect = async (extra: Record<string, unknown>) => {
      const r = await post(`${g.url}/collect`, signup(g.site, extra));
      expect(r.status, r.text).toBe(201);
    };
    await collect({ wisepop_id: fake, variant: 'zz', email: 'forged@example.com' });
    await collect({ wisepop_id: 1, variant: 'made-up' }); // a real campaign, a group it never had
    await collect({ wisepop_id: 1, variant: 'b' });
    expect(rows(`SELECT COUNT(*) FROM events_daily WHERE wisepop_id = ${fake}`)).toBe(0);
    expect(rows(`SELECT COUNT(*) FROM events_daily WHERE variant = 'made-up'`)).toBe(0);
    // Stored all the same: the Email API shows it.
    const emails = await getJson(`${g.url}/api1/emails?wisepop_id=${fake}`, apiAuth(g.key));
    expect((emails.json as Array<{ email: string }>).map((e) => e.email)).toEqual(['forged@example.com']);

    // Sign-up counts a database already holds (stored before this check) make nothing "had" either.
    addCounts(g.db, { site: g.site, campaign: fake + 1, day: today, variant: 'yy' }, { signups: 1 });
    addCounts(g.db, { site: g.site, campaign: 2, day: today, variant: 'yy' }, { signups: 1 });
    await send([
      { k: 'display', c: fake, g: 'zz', t: now },
      { k: 'goal', c: fake + 1, g: 'yy', n: 'x', t: now },
      { k: 'display', c: 1, g: 'made-up', t: now },
      { k: 'display', c: 2, g: 'yy', t: now },
    ]);
    await flushed();
    expect(rows(`SELECT COUNT(*) FROM events_daily WHERE wisepop_id IN (${fake}, ${fake + 1}) AND (displays > 0 OR goals > 0)`)).toBe(0);
    expect(rows(`SELECT COUNT(*) FROM events_daily WHERE variant IN ('made-up', 'yy') AND displays > 0`)).toBe(0);

    // A deleted campaign with /events counts is still "had": its late sign-ups count.
    addCampaigns(g.db, g.site, { 40: ['p'] });
    await send([{ k: 'display', c: 40, g: 'p', t: now }]);
    await flushed();
    removeCampaign(g.db, g.site, 40);
    const signupsBefore = rows(`SELECT COALESCE(SUM(signups), 0) FROM events_daily WHERE wisepop_id = 40 AND variant = 'p'`);
    await collect({ wisepop_id: 40, variant: 'p' });
    expect(rows(`SELECT SUM(signups) FROM events_daily WHERE wisepop_id = 40 AND variant = 'p'`)).toBe(signupsBefore + 1);
  });
});
