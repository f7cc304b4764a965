// A/B results: daily counters per variant (events, goals, sign-ups, replayed sign-ups), the
// GET /api1/stats rows and `variant` filter, and migration 3 that re-keyed events_daily.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addCampaigns, apiAuth, getJson, post, signup, databaseBefore, startFixture, type Fixture } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';
import { CORE_MIGRATIONS } from '../../src/server/store/schema';
import { openDb } from '../../src/server/store/db';
import { addCounts, readStats, type StatsRow } from '../../src/server/store/events';
import { createJournal } from '../../src/server/lifecycle/journal';
import { replay } from '../../src/server/lifecycle/replay';

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('POST /events, POST /collect and GET /api1/stats per variant', () => {
  let f: Fixture;
  const now = Date.now();
  const today = utcDay(now);
  const yesterday = utcDay(now - DAY);
  const ODD = 'x|y"z'; // a variant id is any string: must not break the server's in-memory keys
  const stats = async (query = '') => (await getJson(`${f.url}/api1/stats${query}`, apiAuth(f.key))) as { status: number; json: unknown };

  beforeAll(async () => {
    f = await startFixture({ collectPerMinute: 1000, eventsPerMinute: 1000, apiPerMinute: 1000 });
    addCampaigns(f.db, f.site, { 31: ['a', 'b', ODD], 30: ['b'] });
    const times = (n: number, e: Record<string, unknown>) => Array.from({ length: n }, () => ({ t: now, ...e }));
    const events = [
      ...times(10, { k: 'display', c: 31, g: 'a' }),
      ...times(5, { k: 'display', c: 31, g: 'b' }),
      ...times(4, { k: 'display', c: 31, g: 'control' }),
      ...times(2, { k: 'display', c: 31 }),
      ...times(1, { k: 'display', c: 31, g: ODD }),
      ...times(3, { k: 'click', c: 31, g: 'a' }),
      ...times(1, { k: 'close', c: 31, g: 'b' }),
      { k: 'signup', c: 31, g: 'a', t: now }, // counted from the stored sign-ups, not from this
      { k: 'goal', c: 31, g: 'a', n: 'purchase', r: 10.5, t: now },
      { k: 'goal', c: 31, g: 'control', n: 'purchase', r: 20, t: now },
      { k: 'goal', c: 31, g: 'control', n: 'purchase', r: 0.25, t: now },
      { k: 'goal', c: 31, n: 'purchase', r: 1, t: now },
      { k: 'display', c: 30, g: 'b', t: now },
      { k: 'display', c: 31, g: 'a', t: now - DAY },
    ];
    const r = await post(`${f.url}/events`, JSON.stringify({ site: f.site, events }), { 'content-type': 'text/plain' });
    expect(r.status).toBe(204);
    for (const variant of ['a', 'a', 'b', undefined]) {
      expect((await post(`${f.url}/collect`, signup(f.site, { wisepop_id: 31, variant }))).status).toBe(201);
    }
    await new Promise((ok) => setTimeout(ok, 1300)); // counts are written once a second
  });
  afterAll(() => f.close());

  it('one row per group, variant null without a test; conversion rate, goals and revenue per row', async () => {
    const r = await stats(`?from=${today}&to=${today}&wisepop_id=31`);
    expect(r.status).toBe(200);
    const row = (variant: string | null, counts: Partial<StatsRow>): StatsRow => ({
      day: today, wisepop_id: 31, variant, displays: 0, closes: 0, clicks: 0, signups: 0, conversion_rate: 0, goals: 0, revenue: 0, goals_by_name: {},
      // No batch carried an analytics id (consent denied): no unique visitors.
      visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitor_conversion_rate: 0, visitor_goal_rate: 0, visitors_capped: false, ...counts,
    });
    expect(r.json).toEqual([
      row(null, { displays: 2, signups: 1, conversion_rate: 0.5, goals: 1, revenue: 1, goals_by_name: { purchase: { goals: 1, revenue: 1 } } }),
      row('a', { displays: 10, clicks: 3, signups: 2, conversion_rate: 0.2, goals: 1, revenue: 10.5, goals_by_name: { purchase: { goals: 1, revenue: 10.5 } } }),
      row('b', { displays: 5, closes: 1, signups: 1, conversion_rate: 0.2 }),
      row('control', { displays: 4, goals: 2, revenue: 20.25, goals_by_name: { purchase: { goals: 2, revenue: 20.25 } } }),
      row(ODD, { displays: 1 }),
    ]);
    // The key order API users see, variant right after the campaign, the unique visitors last.
    expect(Object.keys((r.json as StatsRow[])[0]!)).toEqual([
      'day', 'wisepop_id', 'variant', 'displays', 'closes', 'clicks', 'signups', 'conversion_rate', 'goals', 'revenue', 'goals_by_name',
      'visitors', 'visitors_signed_up', 'visitors_with_goal', 'visitor_conversion_rate', 'visitor_goal_rate', 'visitors_capped',
    ]);
  });

  it('orders rows by day, campaign, then variant', async () => {
    const rows = (await stats()).json as StatsRow[];
    expect(rows.map((x) => [x.day, x.wisepop_id, x.variant])).toEqual([
      [yesterday, 31, 'a'],
      [today, 30, 'b'],
      [today, 31, null],
      [today, 31, 'a'],
      [today, 31, 'b'],
      [today, 31, 'control'],
      [today, 31, ODD],
    ]);
  });

  it('filters by variant, alone or with wisepop_id', async () => {
    expect(((await stats('?variant=control')).json as StatsRow[]).map((x) => [x.day, x.wisepop_id, x.displays])).toEqual([[today, 31, 4]]);
    expect(((await stats('?variant=b')).json as StatsRow[]).map((x) => x.wisepop_id)).toEqual([30, 31]);
    expect(((await stats('?variant=b&wisepop_id=30')).json as StatsRow[]).map((x) => [x.wisepop_id, x.variant])).toEqual([[30, 'b']]);
    expect(((await stats('?variant=a&wisepop_id=31')).json as StatsRow[]).map((x) => x.day)).toEqual([yesterday, today]);
    expect(((await stats(`?variant=${encodeURIComponent(ODD)}`)).json as StatsRow[]).map((x) => x.displays)).toEqual([1]);
    expect((await stats('?variant=nosuch')).json).toEqual([]);
  });

  it.each([
    ['an empty variant', '?variant='],
    ['a variant over 64 characters', `?variant=${'v'.repeat(65)}`],
    ['two variants', '?variant=a&variant=b'],
  ])('refuses %s with 400 and a JSON error naming the field', async (_name, query) => {
    const r = await stats(query);
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toContain('variant');
  });

  it('accepts the longest variant, and still wants the API key', async () => {
    expect((await stats(`?variant=${'v'.repeat(64)}`)).json).toEqual([]);
    expect((await getJson(`${f.url}/api1/stats?variant=a`)).status).toBe(401);
  });

  it('refuses an event whose group is not a string of at most 64 characters, goal or not', async () => {
    for (const [e, field] of [
      [{ k: 'goal', c: 31, n: 'purchase', g: 5, t: now }, 'events[0].g'],
      [{ k: 'display', c: 31, g: 'v'.repeat(65), t: now }, 'events[0].g'],
    ] as const) {
      const r = await post(`${f.url}/events`, { site: f.site, events: [e] });
      expect(r.status).toBe(422);
      expect(r.json!.error).toContain(field);
    }
  });
});

describe('replay', () => {
  let env: Env;
  afterEach(() => env?.cleanup());

  it('counts replayed sign-ups under their variant; a journaled sign-up without fields comes back with none', () => {
    env = makeEnv();
    // Replay counts a sign-up by the rule /collect does: only for a campaign the site has.
    addCampaigns(env.deps.db, env.siteId, { 9: ['b'] });
    const dir = join(env.dir, 'journal');
    const journal = createJournal(dir);
    const at = new Date().toISOString();
    const meta = { collected_at: at, ip: '203.0.113.9', country_code: null };
    journal.append({ id: 'replay-var-01', site: env.siteId, wisepop_id: 9, email: 'a@example.com', fields: {}, variant: 'b' }, meta);
    journal.append({ id: 'replay-var-02', site: env.siteId, wisepop_id: 9, email: 'b@example.com' }, { ...meta, collected_at: new Date(Date.parse(at) + 1).toISOString() });
    journal.close();
    expect(replay(env.deps, dir)).toMatchObject({ inserted: 2 });
    const day = utcDay(Date.parse(at));
    expect(readStats(env.deps.db, env.siteId, { from: day, to: day }).map((r) => [r.variant, r.signups])).toEqual([[null, 1], ['b', 1]]);
    expect(env.deps.db.prepare('SELECT other_fields FROM signups WHERE client_id = ?').pluck().get('replay-var-02')).toBe('{}');
  });
});

describe('migration 3: events_daily per variant', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every count of a database made at the previous version, as the no-test rows', () => {
    dir = mkdtempSync(join(tmpdir(), 'poplet-migrate-'));
    const path = join(dir, 'poplet.db');
    // The database as the previous release left it: every migration before 3 applied.
    const old = databaseBefore(path, 3);
    const row = old.prepare('INSERT INTO events_daily (site_id, wisepop_id, day, displays, closes, clicks, signups, goals, revenue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    row.run('s1', 7, '2026-03-01', 100, 10, 5, 4, 2, 59.9);
    row.run('s1', 7, '2026-03-02', 50, 0, 1, 0, 0, 0);
    row.run('s1', 8, '2026-03-01', 20, 2, 0, 1, 1, 0.5);
    row.run('s2', 7, '2026-03-01', 3, 0, 0, 0, 0, 0);
    const before = old.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day').all() as Array<Record<string, unknown>>;
    old.close();

    const db = openDb(path);
    try {
      expect(db.prepare('SELECT version FROM schema_migrations WHERE version = 3').pluck().get()).toBe(3);
      const after = db.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day').all();
      // Later migrations' columns (7: unique visitors) start at 0.
      const later = { visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitors_dropped: 0 };
      expect(after).toEqual(before.map((r) => ({ ...r, variant: '', ...later })));
      const pk = (db.prepare('PRAGMA table_info(events_daily)').all() as Array<{ name: string; pk: number }>).filter((c) => c.pk).map((c) => c.name);
      expect(pk).toEqual(['site_id', 'wisepop_id', 'day', 'variant']);
      expect(readStats(db, 's1', { from: '2026-03-01', to: '2026-03-01', campaign: 7 })).toEqual([
        {
          day: '2026-03-01', wisepop_id: 7, variant: null, displays: 100, closes: 10, clicks: 5, signups: 4, conversion_rate: 0.04, goals: 2, revenue: 59.9, goals_by_name: {},
          visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitor_conversion_rate: 0, visitor_goal_rate: 0, visitors_capped: false,
        },
      ]);
      // New counts: the no-test row grows, a variant gets its own row beside it.
      addCounts(db, { site: 's1', campaign: 7, day: '2026-03-01', variant: '' }, { displays: 1 });
      addCounts(db, { site: 's1', campaign: 7, day: '2026-03-01', variant: 'a' }, { displays: 9 });
      expect(readStats(db, 's1', { from: '2026-03-01', to: '2026-03-01', campaign: 7 }).map((r) => [r.variant, r.displays])).toEqual([[null, 101], ['a', 9]]);
      // The foreign key to sites survived the rebuild.
      expect(db.prepare('PRAGMA foreign_key_check(events_daily)').all()).toEqual([]);
      db.prepare('DELETE FROM sites WHERE id = ?').run('s2');
      expect(db.prepare('SELECT COUNT(*) FROM events_daily WHERE site_id = ?').pluck().get('s2')).toBe(0);
    } finally {
      db.close();
    }
    // Opening again runs nothing twice.
    openDb(path).close();
  });

  it('an older Poplet refuses a database a newer one migrated, and writes nothing to it', () => {
    dir = mkdtempSync(join(tmpdir(), 'poplet-migrate-'));
    const path = join(dir, 'poplet.db');
    openDb(path).close();
    const future = Math.max(...CORE_MIGRATIONS.map((m) => m.version)) + 1;
    const newer = new Database(path);
    newer.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(future, '2027-01-01T00:00:00.000Z');
    const before = newer.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    newer.close();
    expect(() => openDb(path)).toThrow(`database schema version ${future} comes from a newer Poplet`);
    const check = new Database(path);
    expect(check.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(before);
    check.close();
  });
});
