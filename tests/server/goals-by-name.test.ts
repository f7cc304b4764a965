// Goals per goal name: POST /events counts each goal in the totals (events_daily) and under its
// name (goals_daily); GET /api1/stats returns goals_by_name per row; retention and site deletion
// clear the names with the totals; migration 4 adds the table to a database of the previous version.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addCampaigns, apiAuth, getJson, post, databaseBefore, startFixture, type Fixture } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';
import { openDb, type Db } from '../../src/server/store/db';
import { addCounts, addGoals, readStats, type CountKey, type GoalCounts, type StatsRow } from '../../src/server/store/events';
import { INACTIVE_MS, runRetention } from '../../src/server/lifecycle/retention';
import { addSite } from '../../src/server/store/sites';

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Entries by name, in one order whatever order the object has (integer-like keys come first in JS). */
const byName = (o: Record<string, GoalCounts>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const wait = () => new Promise((ok) => setTimeout(ok, 1300)); // counts are written once a second

describe('POST /events and GET /api1/stats: goals per name', () => {
  let f: Fixture;
  const now = Date.now();
  const today = utcDay(now);
  const yesterday = utcDay(now - DAY);
  const stats = async (query: string) => {
    const r = await getJson(`${f.url}/api1/stats${query}`, apiAuth(f.key));
    expect(r.status).toBe(200);
    return r.json as StatsRow[];
  };
  const send = async (events: Array<Record<string, unknown>>) =>
    expect((await post(`${f.url}/events`, JSON.stringify({ site: f.site, events }), { 'content-type': 'text/plain' })).status).toBe(204);
  const goal = (c: number, n: string, extra: Record<string, unknown> = {}) => ({ k: 'goal', c, n, t: now, ...extra });

  beforeAll(async () => {
    f = await startFixture({ eventsPerMinute: 1000, apiPerMinute: 1000 });
    addCampaigns(f.db, f.site, { 41: ['a', 'b'], 42: ['a'], 43: [], 44: ['a', 'a|b', 'x'] });
  });
  afterAll(() => f.close());

  it('two goal names on one campaign, group and day come out apart with their revenue; the totals are unchanged', async () => {
    await send([
      ...Array.from({ length: 5 }, () => ({ k: 'display', c: 41, g: 'a', t: now })),
      goal(41, 'purchase', { g: 'a', r: 100.1 }),
      goal(41, 'purchase', { g: 'a', r: 0.1 }),
      goal(41, 'trial-started', { g: 'a' }),
      goal(41, 'trial-started', { g: 'a' }),
      goal(41, 'newsletter', { g: 'a', r: 0 }),
      goal(41, 'purchase', { g: 'b', r: 7 }),
      goal(41, 'purchase', { g: 'a', r: 3, t: now - DAY }),
      goal(42, 'trial-started', { g: 'a' }),
    ]);
    await wait();
    // A second flush adds to the rows the first one wrote.
    await send([goal(41, 'purchase', { g: 'a', r: 0.2 }), goal(41, 'demo-booked', { g: 'a', r: 50 })]);
    await wait();

    const rows = await stats(`?from=${yesterday}&to=${today}&wisepop_id=41`);
    expect(rows.map((r) => [r.day, r.variant, r.goals, r.revenue, r.goals_by_name])).toEqual([
      [yesterday, 'a', 1, 3, { purchase: { goals: 1, revenue: 3 } }],
      [
        today, 'a', 7, 150.4,
        // 100.1 + 0.1 + 0.2 is read back rounded to 4 decimals, like the totals.
        { 'demo-booked': { goals: 1, revenue: 50 }, newsletter: { goals: 1, revenue: 0 }, purchase: { goals: 3, revenue: 100.4 }, 'trial-started': { goals: 2, revenue: 0 } },
      ],
      [today, 'b', 1, 7, { purchase: { goals: 1, revenue: 7 } }],
    ]);
    const a = rows[1]!;
    expect(a).toMatchObject({ displays: 5, goals: 7, revenue: 150.4 });
    // The names add up to the totals.
    const names = Object.values(a.goals_by_name);
    expect(names.reduce((n, g) => n + g.goals, 0)).toBe(a.goals);
    expect(names.reduce((n, g) => n + g.revenue, 0)).toBeCloseTo(a.revenue, 4);
    // Filters apply to the names: campaign 42 and variant b keep their own goals only.
    expect((await stats(`?from=${today}&to=${today}&wisepop_id=42`)).map((r) => r.goals_by_name)).toEqual([{ 'trial-started': { goals: 1, revenue: 0 } }]);
    expect((await stats(`?from=${today}&to=${today}&variant=b`)).map((r) => [r.wisepop_id, r.goals_by_name])).toEqual([[41, { purchase: { goals: 1, revenue: 7 } }]]);
  });

  it('a row without goals has an empty goals_by_name', async () => {
    await send([{ k: 'display', c: 43, t: now }, { k: 'click', c: 43, t: now }]);
    await wait();
    expect(await stats(`?from=${today}&to=${today}&wisepop_id=43`)).toEqual([
      {
        day: today, wisepop_id: 43, variant: null, displays: 1, closes: 0, clicks: 1, signups: 0, conversion_rate: 0, goals: 0, revenue: 0, goals_by_name: {},
        visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitor_conversion_rate: 0, visitor_goal_rate: 0, visitors_capped: false,
      },
    ]);
  });

  it('keeps names with spaces, quotes, unicode and | exactly, apart from each other and from the group', async () => {
    const odd = ['gift card "VIP" | 10%', "l'achat – 購入 🎉", 'purchase', 'Purchase', 'purchase ', '__proto__', 'constructor', '2026', 'n'.repeat(50)];
    await send([
      ...odd.map((n, i) => goal(44, n, { g: 'x', r: i + 1 })),
      // JSON-keyed rows: a separator-joined key would make these two one row.
      goal(44, 'c', { g: 'a|b', r: 1 }),
      goal(44, 'b|c', { g: 'a', r: 2 }),
    ]);
    await wait();
    const rows = await stats(`?from=${today}&to=${today}&wisepop_id=44`);
    expect(rows.map((r) => r.variant)).toEqual(['a', 'a|b', 'x']);
    expect(byName(rows[0]!.goals_by_name)).toEqual([['b|c', { goals: 1, revenue: 2 }]]);
    expect(byName(rows[1]!.goals_by_name)).toEqual([['c', { goals: 1, revenue: 1 }]]);
    const x = rows[2]!;
    expect(byName(x.goals_by_name)).toEqual(byName(Object.fromEntries(odd.map((n, i) => [n, { goals: 1, revenue: i + 1 }]))));
    // '__proto__' is an own key of the JSON sent, not a prototype.
    expect(Object.keys(x.goals_by_name)).toContain('__proto__');
    expect(Object.getPrototypeOf(x.goals_by_name)).toBe(Object.prototype);
    expect(x).toMatchObject({ goals: odd.length, revenue: (odd.length * (odd.length + 1)) / 2 });
    expect((await stats(`?from=${today}&to=${today}&variant=${encodeURIComponent('a|b')}`)).map((r) => [r.wisepop_id, r.goals_by_name])).toEqual([[44, { c: { goals: 1, revenue: 1 } }]]);
  });
});

/** One goal written as /events writes it: the totals and the name, in one transaction. */
function countGoal(db: Db, key: CountKey, name: string, revenue: number): void {
  db.transaction(() => {
    addCounts(db, key, { goals: 1, revenue });
    addGoals(db, key, name, { goals: 1, revenue });
  })();
}
const goalsByNameRows = (db: Db, site: string) => db.prepare('SELECT COUNT(*) FROM goals_daily WHERE site_id = ?').pluck().get(site) as number;

describe('retention and site deletion', () => {
  let env: Env;
  afterEach(() => env?.cleanup());

  it('drops goals per name older than the window with the daily totals, and keeps newer ones', () => {
    env = makeEnv();
    const { db } = env.deps;
    const now = Date.now();
    const key = (ago: number): CountKey => ({ site: env.siteId, campaign: 1, day: utcDay(now - ago * DAY), variant: '' });
    countGoal(db, key(400), 'purchase', 10);
    countGoal(db, key(400), 'newsletter', 0);
    countGoal(db, key(10), 'purchase', 20);
    const r = runRetention(db, { retentionDays: 365, now });
    expect(r).toMatchObject({ events: 1, goalsByName: 2 });
    expect(db.prepare('SELECT day, name, goals, revenue FROM goals_daily').all()).toEqual([{ day: key(10).day, name: 'purchase', goals: 1, revenue: 20 }]);
    expect(readStats(db, env.siteId, { from: key(400).day, to: key(0).day }).map((x) => [x.day, x.goals_by_name])).toEqual([
      [key(10).day, { purchase: { goals: 1, revenue: 20 } }],
    ]);
  });

  it('a site deleted for inactivity takes its goals per name along, and only its own', () => {
    env = makeEnv();
    const { db } = env.deps;
    const now = Date.now();
    const dormant = addSite(db, env.deps.secret, { domain: 'dormant.example' }).site.id;
    const old = new Date(now - INACTIVE_MS - DAY).toISOString();
    db.prepare('UPDATE sites SET last_active_at = ?, created_at = ? WHERE id = ?').run(old, old, dormant);
    for (const site of [env.siteId, dormant]) countGoal(db, { site, campaign: 1, day: utcDay(now), variant: 'a' }, 'purchase', 5);
    // Its totals dated back (counted goals keep a site: it is in use); its row per name stays today's.
    db.prepare('UPDATE events_daily SET day = ? WHERE site_id = ?').run(utcDay(now - INACTIVE_MS - 2 * DAY), dormant);
    expect(goalsByNameRows(db, dormant)).toBe(1);
    expect(runRetention(db, { retentionDays: 0, now }).sites).toBe(1);
    expect(goalsByNameRows(db, dormant)).toBe(0);
    expect(goalsByNameRows(db, env.siteId)).toBe(1);
  });
});

describe('migration 4: goals_daily', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the table to a database of the previous version and keeps every count; old goals stay in the totals only', () => {
    dir = mkdtempSync(join(tmpdir(), 'poplet-migrate-'));
    const path = join(dir, 'poplet.db');
    const old = databaseBefore(path, 4);
    const row = old.prepare('INSERT INTO events_daily (site_id, wisepop_id, day, variant, displays, closes, clicks, signups, goals, revenue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    row.run('s1', 7, '2026-03-01', 'a', 100, 10, 5, 4, 2, 59.9);
    row.run('s1', 7, '2026-03-01', '', 30, 0, 0, 0, 1, 5);
    row.run('s2', 7, '2026-03-01', 'control', 3, 0, 0, 0, 1, 0);
    const before = old.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day, variant').all() as Array<Record<string, unknown>>;
    old.close();

    const db = openDb(path);
    try {
      expect(db.prepare('SELECT version FROM schema_migrations WHERE version = 4').pluck().get()).toBe(4);
      // Later migrations' columns (7: unique visitors) start at 0.
      const later = { visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitors_dropped: 0 };
      expect(db.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day, variant').all()).toEqual(before.map((r) => ({ ...r, ...later })));
      const pk = (db.prepare('PRAGMA table_info(goals_daily)').all() as Array<{ name: string; pk: number }>).filter((c) => c.pk).map((c) => c.name);
      expect(pk).toEqual(['site_id', 'wisepop_id', 'day', 'variant', 'name']);
      expect(db.prepare('SELECT COUNT(*) FROM goals_daily').pluck().get()).toBe(0);
      // Goals counted before the upgrade have no name to be split by.
      expect(readStats(db, 's1', { from: '2026-03-01', to: '2026-03-01' }).map((r) => [r.variant, r.goals, r.revenue, r.goals_by_name])).toEqual([
        [null, 1, 5, {}],
        ['a', 2, 59.9, {}],
      ]);
      // New goals add to the old totals and are kept by name from now on.
      countGoal(db, { site: 's1', campaign: 7, day: '2026-03-01', variant: 'a' }, 'purchase', 0.1);
      expect(readStats(db, 's1', { from: '2026-03-01', to: '2026-03-01', variant: 'a' }).map((r) => [r.goals, r.revenue, r.goals_by_name])).toEqual([
        [3, 60, { purchase: { goals: 1, revenue: 0.1 } }],
      ]);
      countGoal(db, { site: 's2', campaign: 7, day: '2026-03-01', variant: 'control' }, 'purchase', 1);
      expect(db.prepare('PRAGMA foreign_key_check(goals_daily)').all()).toEqual([]);
      db.prepare('DELETE FROM sites WHERE id = ?').run('s2');
      expect(goalsByNameRows(db, 's2')).toBe(0);
      expect(goalsByNameRows(db, 's1')).toBe(1);
    } finally {
      db.close();
    }
    // Opening again runs nothing twice.
    openDb(path).close();
  });
});
