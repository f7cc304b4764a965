// Unique visitors: POST /events counts the batch's analytics id (wisepops_visitor) once per
// campaign, group and day; GET /api1/stats gives visitors, visitors_signed_up, visitors_with_goal,
// their rates and visitors_capped; the id is validated; visitors_daily keeps a keyed hash per row,
// capped per site and day, deleted with the daily counts (retention, site deletion); migration 7.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addCampaigns, apiAuth, databaseBefore, getJson, post, startFixture, type Fixture } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';
import { createEventCounter, MAX_VISITOR_ROWS } from '../../src/server/routes/events';
import { openDb, type Db } from '../../src/server/store/db';
import { addCounts, readStats, visitorDay, visitorIdKey, visitorToken, type StatsRow } from '../../src/server/store/events';
import { INACTIVE_MS, runRetention } from '../../src/server/lifecycle/retention';
import { addSite } from '../../src/server/store/sites';
import type { AnalyticsEvent } from '../../src/shared/events';

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const flushed = () => new Promise((ok) => setTimeout(ok, 1300)); // counts are written once a second
const count = (db: Db, sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args) as number;
/** The visitor fields of stats rows, by variant. */
const visitorsOf = (rows: StatsRow[]) =>
  rows.map((r) => [r.variant, r.displays, r.visitors, r.visitors_signed_up, r.visitors_with_goal, r.visitor_conversion_rate, r.visitor_goal_rate, r.visitors_capped]);

describe('POST /events and GET /api1/stats: unique visitors', () => {
  let f: Fixture;
  const now = Date.now();
  const today = utcDay(now);
  const yesterday = utcDay(now - DAY);
  const send = async (visitor: string | undefined, events: Array<Record<string, unknown>>) => {
    const r = await post(`${f.url}/events`, JSON.stringify({ site: f.site, visitor, events }), { 'content-type': 'text/plain' });
    expect(r.status).toBe(204);
  };
  const stats = async (query: string) => {
    const r = await getJson(`${f.url}/api1/stats${query}`, apiAuth(f.key));
    expect(r.status).toBe(200);
    return r.json as StatsRow[];
  };
  const display = (c: number, g?: string, t = now) => ({ k: 'display', c, g, t });
  const goal = (c: number, g?: string, t = now) => ({ k: 'goal', c, g, n: 'purchase', r: 10, t });
  const signup = (c: number, g?: string) => ({ k: 'signup', c, g, t: now });

  beforeAll(async () => {
    f = await startFixture({ eventsPerMinute: 0, apiPerMinute: 0 });
    addCampaigns(f.db, f.site, { 61: ['a', 'b'], 62: [], 63: ['a'], 64: [], 65: [] });
  });
  afterAll(() => f.close());

  it('counts each analytics id once per campaign, group and day; sign-ups and goals of the visitors shown; control comparable', async () => {
    const [v1, v2, v3, v4, v5, v6] = Array.from({ length: 6 }, () => nanoid());
    // v1 sees variant a on three page views, signs up and buys; v2 sees a and buys; v3 sees a only.
    await send(v1, [display(61, 'a'), display(61, 'a'), { k: 'close', c: 61, g: 'a', t: now }, signup(61, 'a')]);
    await send(v2, [display(61, 'a'), goal(61, 'a')]);
    await send(v3, [display(61, 'a')]);
    await flushed();
    // Later batches add to the rows already written, without counting v1 again.
    await send(v1, [display(61, 'a'), goal(61, 'a'), goal(61, 'a')]);
    // v4 sees b; v5 and v6 are held back (control), v5 buys anyway.
    await send(v4, [display(61, 'b')]);
    await send(v5, [display(61, 'control'), goal(61, 'control')]);
    await send(v6, [display(61, 'control')]);
    // Consent denied: no id, counted in the totals only.
    await send(undefined, [display(61, 'a'), display(61, 'control'), goal(61, 'control'), signup(61, 'a')]);
    // v6 was shown 61 yesterday too: another day's row, counted there.
    await send(v6, [display(61, 'control', now - DAY)]);
    await flushed();

    const rows = await stats(`?from=${yesterday}&to=${today}&wisepop_id=61`);
    expect(visitorsOf(rows)).toEqual([
      ['control', 1, 1, 0, 0, 0, 0, false],
      // 6 displays (one without an id), 3 visitors (v1, v2, v3): v1 signed up, v1 and v2 bought.
      ['a', 6, 3, 1, 2, 0.3333, 0.6667, false],
      ['b', 1, 1, 0, 0, 0, 0, false],
      // Held back: v5 and v6, v5 bought. Comparable with a's visitor_goal_rate.
      ['control', 3, 2, 0, 1, 0, 0.5, false],
    ]);
    expect(rows.map((r) => r.day)).toEqual([yesterday, today, today, today]);
    // The event totals are unchanged by the ids: three goals of v1/v2 on a, two on control.
    expect(rows.filter((r) => r.day === today).map((r) => [r.variant, r.goals])).toEqual([['a', 3], ['b', 0], ['control', 2]]);
  });

  it('a sign-up or a goal of a visitor not shown the campaign that day counts in the totals only, and makes no row', async () => {
    const v = nanoid();
    // Shown 62 yesterday (another session, another id as far as today goes): a goal today.
    await send(v, [goal(62), signup(62)]);
    // A sign-up event alone of a campaign with no counts: no events_daily row, no group "had".
    await send(v, [signup(63, 'a')]);
    await flushed();
    expect(visitorsOf(await stats(`?from=${today}&to=${today}&wisepop_id=62`))).toEqual([[null, 0, 0, 0, 0, 0, 0, false]]);
    expect((await stats(`?from=${today}&to=${today}&wisepop_id=62`))[0]!.goals).toBe(1);
    expect(await stats(`?from=${today}&to=${today}&wisepop_id=63`)).toEqual([]);
    expect(count(f.db, 'SELECT COUNT(*) FROM visitors_daily WHERE wisepop_id IN (62, 63)')).toBe(0);
  });

  it('a visitor of a group the campaign cannot report counts under no group, like its events', async () => {
    await send(nanoid(), [display(64, 'zzz'), goal(64, 'zzz')]);
    await flushed();
    expect(visitorsOf(await stats(`?from=${today}&to=${today}&wisepop_id=64`))).toEqual([[null, 1, 1, 0, 1, 0, 1, false]]);
  });

  it('stores a keyed hash per row, never the id: one visitor has another token in every row', async () => {
    const v = nanoid();
    await send(v, [display(65), display(65, undefined, now - DAY), display(61, 'a')]);
    await flushed();
    const stored = f.db.prepare('SELECT * FROM visitors_daily').safeIntegers().all() as Array<Record<string, unknown>>;
    expect(Object.keys(stored[0]!)).toEqual(['site_id', 'day', 'wisepop_id', 'variant', 'visitor', 'flags']);
    expect(JSON.stringify(stored, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))).not.toContain(v);
    const dayKey = visitorDay(f.db, f.site, today)!.key;
    const tokens = (f.db.prepare('SELECT visitor FROM visitors_daily WHERE (wisepop_id = 65) OR (wisepop_id = 61 AND day = ? AND visitor = ?)').safeIntegers().pluck().all(
      today, visitorToken(visitorIdKey(f.server.deps.secret), dayKey, { site: f.site, campaign: 61, day: today, variant: 'a' }, v),
    )) as bigint[];
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(3);
  });

  it.each([
    ['shorter than 10 characters', 'v1'],
    ['with a space', 'abc def ghij'],
    ['with a quote', 'abcdefghij"'],
    ['with a non-ASCII letter', 'abcdéfghijk'],
    ['empty', ''],
  ])('refuses a batch whose visitor is %s with 422 naming the field, counting none of it', async (_name, visitor) => {
    const r = await post(`${f.url}/events`, { site: f.site, visitor, events: [display(65)] });
    expect(r.status).toBe(422);
    expect(r.json!.error).toMatch(/^visitor: /);
  });

  it('accepts and counts ids of 10 to 64 characters A–Z a–z 0–9 _ -, and no longer or shorter one', async () => {
    const visitors = async () => (await stats(`?from=${today}&to=${today}&wisepop_id=65`))[0]!.visitors;
    const before = await visitors();
    for (const visitor of ['A-z_09abcd', 'x'.repeat(64)]) {
      expect((await post(`${f.url}/events`, { site: f.site, visitor, events: [display(65)] })).status).toBe(204);
    }
    for (const visitor of ['A-z_09abc', 'y'.repeat(65)]) {
      expect((await post(`${f.url}/events`, { site: f.site, visitor, events: [display(65)] })).status).toBe(422);
    }
    await flushed();
    expect(await visitors()).toBe(before + 2);
  });
});

describe('the per-site daily cap of visitor rows', () => {
  let env: Env;
  afterEach(() => env?.cleanup());
  const now = Date.now();
  const today = utcDay(now);
  const batch = (site: string, visitor: string, events: Array<Partial<AnalyticsEvent>>) => ({
    site, visitor, events: events.map((e) => ({ k: 'display' as const, c: 1, t: now, ...e })) as AnalyticsEvent[],
  });

  it('counts new visitors up to the cap, then marks the rows it left visitors out of; known visitors still convert', () => {
    env = makeEnv();
    addCampaigns(env.deps.db, env.siteId, { 1: ['a', 'b'], 2: [] });
    const site = env.siteId;
    const counter = createEventCounter(env.deps, 60_000, { maxVisitorRows: 3 });
    // Three rows: v1 and v2 on 1/a, v1 on 2.
    counter.add(site, 'UTC', batch(site, 'visitor-0001', [{ g: 'a' }, { c: 2 }]));
    counter.add(site, 'UTC', batch(site, 'visitor-0002', [{ g: 'a' }]));
    counter.flush();
    // Over the cap: v3 on 1/b is not counted (its display is); v1's goal on 1/a still is.
    counter.add(site, 'UTC', batch(site, 'visitor-0003', [{ g: 'b' }, { g: 'b', k: 'goal', n: 'purchase' }]));
    counter.add(site, 'UTC', batch(site, 'visitor-0001', [{ g: 'a', k: 'goal', n: 'purchase' }, { g: 'a' }]));
    // Another day has its own budget.
    counter.add(site, 'UTC', batch(site, 'visitor-0003', [{ g: 'b', t: now - DAY }]));
    counter.stop();
    const rows = readStats(env.deps.db, site, { from: utcDay(now - DAY), to: today });
    expect(rows.map((r) => [r.day, r.wisepop_id, r.variant, r.displays, r.visitors, r.visitors_with_goal, r.visitors_capped])).toEqual([
      [utcDay(now - DAY), 1, 'b', 1, 1, 0, false],
      [today, 1, 'a', 3, 2, 1, false],
      [today, 1, 'b', 1, 0, 0, true],
      [today, 2, null, 1, 1, 0, false],
    ]);
    expect(count(env.deps.db, 'SELECT COUNT(*) FROM visitors_daily WHERE day = ?', today)).toBe(3);

    // A fresh counter (a restart) reads the rows stored and keeps to the cap.
    const again = createEventCounter(env.deps, 60_000, { maxVisitorRows: 3 });
    again.add(site, 'UTC', batch(site, 'visitor-0004', [{ c: 2 }]));
    again.add(site, 'UTC', batch(site, 'visitor-0002', [{ g: 'a', k: 'signup' }]));
    again.stop();
    expect(count(env.deps.db, 'SELECT COUNT(*) FROM visitors_daily WHERE day = ?', today)).toBe(3);
    expect(readStats(env.deps.db, site, { from: today, to: today }).map((r) => [r.variant ?? r.wisepop_id, r.visitors, r.visitors_signed_up, r.visitors_capped])).toEqual([
      ['a', 2, 1, false],
      ['b', 0, 0, true],
      [2, 1, 0, true],
    ]);
  });

  it('a goal or sign-up that arrives before its display (sent at once, where the display waits a second in the browser) still marks the visitor, for a few flushes', () => {
    env = makeEnv();
    addCampaigns(env.deps.db, env.siteId, { 1: ['a'] });
    const site = env.siteId;
    const counter = createEventCounter(env.deps, 60_000);
    // The goal comes first; the server flushes in between; the popup's display batch follows.
    counter.add(site, 'UTC', batch(site, 'visitor-late-1', [{ g: 'a', k: 'goal', n: 'purchase' }, { g: 'a', k: 'signup' }]));
    counter.flush();
    counter.add(site, 'UTC', batch(site, 'visitor-late-1', [{ g: 'a' }]));
    counter.flush();
    // A goal whose display never comes is in the totals only, and waits no longer than that.
    counter.add(site, 'UTC', batch(site, 'visitor-late-2', [{ g: 'a', k: 'goal', n: 'purchase' }]));
    for (let i = 0; i < 4; i++) counter.flush();
    counter.add(site, 'UTC', batch(site, 'visitor-late-2', [{ g: 'a' }]));
    counter.stop();
    expect(readStats(env.deps.db, site, { from: today, to: today }).map((r) => [r.variant, r.displays, r.goals, r.visitors, r.visitors_signed_up, r.visitors_with_goal])).toEqual([
      ['a', 2, 2, 2, 1, 1],
    ]);
  });

  it(`is ${MAX_VISITOR_ROWS.toLocaleString('en')} rows per site and day by default, other sites and days apart`, () => {
    env = makeEnv();
    const { db } = env.deps;
    const site = env.siteId;
    const other = addSite(db, env.deps.secret, { domain: 'other.example' }).site.id;
    for (const s of [site, other]) addCampaigns(db, s, { 1: [] });
    // A day at the cap already, as a flood of made-up ids would have left it; with no key in
    // visitor_days (as when a time zone change makes a closed day countable again), the day's
    // count starts from the rows stored.
    addCounts(db, { site, campaign: 1, day: today, variant: '' }, { displays: MAX_VISITOR_ROWS, visitors: MAX_VISITOR_ROWS });
    const fill = db.prepare('INSERT INTO visitors_daily (site_id, day, wisepop_id, variant, visitor, flags) VALUES (?, ?, 1, ?, ?, 1)');
    db.transaction(() => {
      for (let i = 0; i < MAX_VISITOR_ROWS; i++) fill.run(site, today, '', i);
    })();
    const counter = createEventCounter(env.deps, 60_000);
    counter.add(site, 'UTC', batch(site, nanoid(), [{}]));
    counter.add(other, 'UTC', batch(other, nanoid(), [{}]));
    counter.add(site, 'UTC', batch(site, nanoid(), [{ t: now - DAY }]));
    counter.stop();
    expect(count(db, 'SELECT COUNT(*) FROM visitors_daily WHERE site_id = ? AND day = ?', site, today)).toBe(MAX_VISITOR_ROWS);
    expect(readStats(db, site, { from: utcDay(now - DAY), to: today }).map((r) => [r.displays, r.visitors, r.visitors_capped])).toEqual([
      [1, 1, false],
      [MAX_VISITOR_ROWS + 1, MAX_VISITOR_ROWS, true],
    ]);
    expect(readStats(db, other, { from: today, to: today }).map((r) => [r.visitors, r.visitors_capped])).toEqual([[1, false]]);
  });
});

describe('retention and site deletion', () => {
  let env: Env;
  afterEach(() => env?.cleanup());

  it('the retention job deletes visitor rows older than the window with the daily counts, and keeps newer ones', () => {
    env = makeEnv();
    const { db } = env.deps;
    const now = Date.now();
    addCampaigns(db, env.siteId, { 1: ['a'] });
    // Added as if at the time, by a counter whose clock says so (visitors count on their own day only).
    for (const at of [now - 400 * DAY, now - 10 * DAY]) {
      const counter = createEventCounter(env.deps, 60_000, { now: () => at });
      counter.add(env.siteId, 'UTC', { site: env.siteId, visitor: nanoid(), events: [{ k: 'display', c: 1, g: 'a', t: at }] });
      counter.stop();
    }
    expect(count(db, 'SELECT COUNT(*) FROM visitors_daily')).toBe(2);
    expect(runRetention(db, { retentionDays: 365, now })).toMatchObject({ events: 1 });
    expect(db.prepare('SELECT day FROM visitors_daily').pluck().all()).toEqual([utcDay(now - 10 * DAY)]);
  });

  it('a site deleted for inactivity takes its visitor rows along, and only its own', () => {
    env = makeEnv();
    const { db } = env.deps;
    const now = Date.now();
    const dormant = addSite(db, env.deps.secret, { domain: 'dormant.example' }).site.id;
    for (const site of [env.siteId, dormant]) addCampaigns(db, site, { 1: [] });
    const counter = createEventCounter(env.deps, 60_000);
    for (const site of [env.siteId, dormant]) counter.add(site, 'UTC', { site, visitor: nanoid(), events: [{ k: 'display', c: 1, t: now }] });
    counter.stop();
    const old = new Date(now - INACTIVE_MS - DAY).toISOString();
    db.prepare('UPDATE sites SET last_active_at = ?, created_at = ? WHERE id = ?').run(old, old, dormant);
    db.prepare('UPDATE campaigns SET updated_at = ? WHERE site_id = ?').run(old, dormant);
    // Its counts too (counted displays keep a site: it is in use); its visitor rows stay today's.
    db.prepare('UPDATE events_daily SET day = ? WHERE site_id = ?').run(new Date(now - INACTIVE_MS - 2 * DAY).toISOString().slice(0, 10), dormant);
    expect(runRetention(db, { retentionDays: 0, now }).sites).toBe(1);
    expect(db.prepare('SELECT site_id FROM visitors_daily').pluck().all()).toEqual([env.siteId]);
  });
});

describe('migration 7: unique visitors', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the visitor counts (0) and table to a database of the previous version, keeping every count', () => {
    dir = mkdtempSync(join(tmpdir(), 'poplet-migrate-'));
    const path = join(dir, 'poplet.db');
    const old = databaseBefore(path, 7);
    const row = old.prepare('INSERT INTO events_daily (site_id, wisepop_id, day, variant, displays, closes, clicks, signups, goals, revenue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    row.run('s1', 7, '2026-03-01', 'a', 100, 10, 5, 4, 2, 59.9);
    row.run('s1', 7, '2026-03-01', 'control', 12, 0, 0, 0, 1, 5);
    const before = old.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day, variant').all() as Array<Record<string, unknown>>;
    old.close();

    const db = openDb(path);
    try {
      expect(db.prepare('SELECT version FROM schema_migrations WHERE version = 7').pluck().get()).toBe(7);
      expect(db.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day, variant').all()).toEqual(
        before.map((r) => ({ ...r, visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitors_dropped: 0 })),
      );
      const pk = (db.prepare('PRAGMA table_info(visitors_daily)').all() as Array<{ name: string; pk: number }>).filter((c) => c.pk).map((c) => c.name);
      expect(pk).toEqual(['site_id', 'day', 'wisepop_id', 'variant', 'visitor']);
      // Counted before the upgrade: no visitors, and not a lower bound either.
      expect(readStats(db, 's1', { from: '2026-03-01', to: '2026-03-01' }).map((r) => [r.variant, r.displays, r.visitors, r.visitor_goal_rate, r.visitors_capped])).toEqual([
        ['a', 100, 0, 0, false],
        ['control', 12, 0, 0, false],
      ]);
      db.prepare(`INSERT INTO visitors_daily VALUES ('s2', '2026-03-01', 7, '', 1, 1)`).run();
      expect(db.prepare('PRAGMA foreign_key_check(visitors_daily)').all()).toEqual([]);
      db.prepare('DELETE FROM sites WHERE id = ?').run('s2');
      expect(count(db, 'SELECT COUNT(*) FROM visitors_daily')).toBe(0);
    } finally {
      db.close();
    }
    // Opening again runs nothing twice.
    openDb(path).close();
  });
});
