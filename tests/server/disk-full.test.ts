// A full disk is the server's condition, not the request's: 503 with Retry-After (the request may
// be sent again once there is room), never the 500 of a bug. SQLite's max_page_count makes the
// database file "full" at its current size, as a full disk would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCampaigns, apiAuth, captureLog, getJson, post, signup, startFixture, type Fixture } from './fixture';
import { createEventCounter } from '../../src/server/routes/events';
import { readStats, type StatsRow } from '../../src/server/store/events';

let f: Fixture;
const log = captureLog();
beforeAll(async () => {
  f = await startFixture({ collectPerMinute: 0, eventsPerMinute: 0 }, log);
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

  it('keeps the analytics counts a full disk refused, and writes them once there is room', async () => {
    const db = f.server.deps.db;
    addCampaigns(f.db, f.site, { 40: ['a'] });
    const t = Date.now();
    // Each visitor shown is a row, each goal name too: enough to need pages the full file does not have.
    const batches = Array.from({ length: 20 }, (_, b) => ({
      site: f.site,
      visitor: `visitor-${b}-${'v'.repeat(12)}`,
      events: [
        { k: 'display', c: 40, g: 'a', t },
        ...Array.from({ length: 10 }, (_, i) => ({ k: 'goal', c: 40, g: 'a', n: `goal-${b}-${i}-${'n'.repeat(30)}`, r: 1.5, t })),
      ],
    }));
    const failed = () => log.lines.filter((l) => l.msg === 'event counts not written').length;
    const before = failed();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    for (const batch of batches) expect((await post(`${f.url}/events`, batch)).status).toBe(204);
    await new Promise((ok) => setTimeout(ok, 1300)); // a flush, which the full file refuses
    expect(failed()).toBeGreaterThan(before);
    // Room again: the next flush writes them, each once.
    db.pragma('max_page_count = 1073741823');
    await new Promise((ok) => setTimeout(ok, 1300));
    const rows = (await getJson(`${f.url}/api1/stats?wisepop_id=40`, apiAuth(f.key))).json as StatsRow[];
    expect(rows.map((r) => [r.variant, r.displays, r.goals, r.revenue, Object.keys(r.goals_by_name).length, r.visitors, r.visitors_with_goal])).toEqual([
      ['a', 20, 200, 300, 100, 20, 20],
    ]);
  });

  it("keeps at most the daily cap's worth of visitor ids while writes are refused: the counts stay, those visitors are left out", () => {
    // The other site: this one's goal names of the day are used up (100) by the test above.
    const db = f.server.deps.db;
    const counter = createEventCounter(f.server.deps, 3_600_000, { maxVisitorRows: 2 });
    const t = Date.now();
    const day = new Date(t).toISOString().slice(0, 10);
    const failed = () => log.lines.filter((l) => l.msg === 'event counts not written').length;
    const before = failed();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    for (let v = 0; v < 3; v++) {
      counter.add(f.other.site, 'UTC', {
        site: f.other.site,
        visitor: `visitor-capped-${v}`,
        events: [{ k: 'display', c: 41, t }, ...Array.from({ length: 40 }, (_, i) => ({ k: 'goal' as const, c: 41, n: `name-${v}-${i}-${'n'.repeat(30)}`, t }))],
      });
    }
    counter.flush();
    expect(failed()).toBe(before + 1);
    db.pragma('max_page_count = 1073741823');
    counter.stop();
    expect(readStats(f.db, f.other.site, { from: day, to: day, campaign: 41 }).map((r) => [r.displays, r.goals, r.visitors, r.visitors_capped])).toEqual([[3, 120, 0, true]]);
  });
});
