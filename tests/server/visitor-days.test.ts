// Unique visitors are counted on the site's today and yesterday only, each such site-day with a
// random key (visitor_days) that is deleted once the day can no longer be counted, and with its
// row count kept beside the key so the daily cap never counts visitors_daily; migration 8 moves a
// schema-7 database to that.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { nanoid } from 'nanoid';
import { afterEach, describe, expect, it } from 'vitest';
import { addCampaigns, databaseBefore, post, startFixture, type Fixture } from './fixture';
import { createEventCounter } from '../../src/server/routes/events';
import { loadConfig, type ServerDeps } from '../../src/server/config';
import { silentLog } from '../../src/server/log';
import { startServer } from '../../src/server/main';
import { openDb, type Db } from '../../src/server/store/db';
import { idToken, readStats, visitorDay, visitorIdKey, visitorToken, type CountKey } from '../../src/server/store/events';
import type { AnalyticsEvent, EventBatch } from '../../src/shared/events';

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const count = (db: Db, sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args) as number;
const tokens = (db: Db, sql: string, ...args: unknown[]) => db.prepare(sql).safeIntegers().pluck().all(...args) as bigint[];
const displays = (site: string, visitor: string | undefined, times: number[], c = 1): EventBatch => ({
  site, visitor, events: times.map((t): AnalyticsEvent => ({ k: 'display', c, t })),
});

const dirs: string[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-visitor-days-'));
  dirs.push(dir);
  return dir;
}
/** A database with sites inserted as rows (ids and time zones chosen by the test), and deps to count with. */
function depsWith(sites: Array<[id: string, timezone: string]>, secret = randomBytes(32)): ServerDeps {
  const dir = tempDir();
  const config = loadConfig({ POPLET_DATA: dir });
  const db = openDb(config.dbPath);
  cleanups.push(() => db.close());
  const add = db.prepare(`INSERT INTO sites (id, domain, key_hash, key_enc, timezone, created_at) VALUES (?, 'shop.example', ?, 'x', ?, '2026-01-01T00:00:00.000Z')`);
  for (const [id, tz] of sites) add.run(id, `hash-${id}`, tz);
  return { db, config, secret, log: silentLog };
}

describe('visitors are counted on the site\'s today and yesterday only', () => {
  it('one batch with displays dated over the last 30 days writes visitor rows for today and yesterday, the rest in the totals only (real HTTP)', async () => {
    const f: Fixture = await startFixture({ eventsPerMinute: 0 });
    cleanups.push(() => f.close());
    addCampaigns(f.db, f.site, { 1: [] });
    const now = Date.now();
    const times = Array.from({ length: 30 }, (_, i) => now - i * DAY);
    for (let v = 0; v < 3; v++) {
      const r = await post(`${f.url}/events`, JSON.stringify(displays(f.site, nanoid(), times)), { 'content-type': 'text/plain' });
      expect(r.status).toBe(204);
    }
    await f.server.close(); // writes what is pending
    const countable = [utcDay(now - DAY), utcDay(now)];
    expect(f.db.prepare('SELECT DISTINCT day FROM visitors_daily ORDER BY day').pluck().all()).toEqual(countable);
    expect(count(f.db, 'SELECT COUNT(*) FROM visitors_daily')).toBe(6);
    const rows = readStats(f.db, f.site, { from: utcDay(now - 29 * DAY), to: utcDay(now) });
    expect(rows).toHaveLength(30);
    for (const r of rows) expect([r.day, r.displays, r.visitors], r.day).toEqual([r.day, 3, countable.includes(r.day) ? 3 : 0]);
    expect(f.db.prepare('SELECT day FROM visitor_days ORDER BY day').pluck().all()).toEqual(countable);
  });

  it("today and yesterday are the site's own, in its time zone", () => {
    // 10:30 UTC on 10 March is 00:30 on 11 March in Kiritimati (UTC+14): yesterday there is 10 March.
    const now = Date.UTC(2026, 2, 10, 10, 30);
    const deps = depsWith([['kiri', 'Pacific/Kiritimati']]);
    addCampaigns(deps.db, 'kiri', { 1: [] });
    const counter = createEventCounter(deps, 60_000, { now: () => now });
    // 01:00 on 10 March there (yesterday); 23:00 on 9 March there, which is yesterday in UTC.
    counter.add('kiri', 'Pacific/Kiritimati', displays('kiri', 'visitor-kiri-1', [Date.UTC(2026, 2, 9, 11), Date.UTC(2026, 2, 9, 9)]));
    counter.stop();
    expect(readStats(deps.db, 'kiri', { from: '2026-03-01', to: '2026-03-31' }).map((r) => [r.day, r.displays, r.visitors])).toEqual([
      ['2026-03-09', 1, 0],
      ['2026-03-10', 1, 1],
    ]);
  });

  it('an event dated ahead of the server (a fast client clock) counts as now, as README says: on today, its visitor counted, never on a day not begun', () => {
    // 09:50 UTC on 10 March is 23:50 on 10 March in Kiritimati; a browser 20 minutes fast dates its
    // display 00:10 on 11 March there, a day that has not begun and whose visitors are not counted.
    const now = Date.UTC(2026, 2, 10, 9, 50);
    const deps = depsWith([['kiri', 'Pacific/Kiritimati']]);
    addCampaigns(deps.db, 'kiri', { 1: [] });
    const counter = createEventCounter(deps, 60_000, { now: () => now });
    counter.add('kiri', 'Pacific/Kiritimati', displays('kiri', 'visitor-kiri-2', [now + 20 * 60_000]));
    counter.stop();
    expect(readStats(deps.db, 'kiri', { from: '2026-03-01', to: '2026-03-31' }).map((r) => [r.day, r.displays, r.visitors])).toEqual([['2026-03-10', 1, 1]]);
  });
});

describe('the per-site daily count of visitor rows', () => {
  it('is read with one seek per site-day and flush, never by counting visitors_daily, however many site-days there are', () => {
    const now = Date.now();
    const sites = Array.from({ length: 501 }, (_, i): [string, string] => [`site-${i}`, 'UTC']);
    const setup = depsWith(sites);
    const path = setup.config.dbPath;
    // The same file through a connection that reports every statement it runs.
    const statements: string[] = [];
    const db = new Database(path, { verbose: (sql) => statements.push(String(sql)) });
    cleanups.push(() => db.close());
    db.pragma('foreign_keys = ON');
    const counter = createEventCounter({ ...setup, db }, 60_000, { now: () => now });
    const round = () => {
      for (const [site] of sites) counter.add(site, 'UTC', displays(site, nanoid(), [now, now - DAY]));
      counter.flush();
    };
    round(); // 1,002 site-days: each gets its key
    statements.length = 0;
    round();
    counter.stop();
    expect(statements.filter((s) => /COUNT\(/i.test(s))).toEqual([]);
    // The statements as run, parameters filled in.
    expect(statements.filter((s) => /^SELECT secret, visitor_rows FROM visitor_days WHERE site_id = '[^']+' AND day = '[^']+'$/.test(s))).toHaveLength(1002);
    expect(count(db, 'SELECT COUNT(*) FROM visitors_daily')).toBe(2004);
    expect(count(db, 'SELECT SUM(visitor_rows) FROM visitor_days')).toBe(2004);
  });

  it('is written in the flush\'s transaction: a flush rolled back changes neither the rows nor the count, and the cap still holds after it', () => {
    const now = Date.now();
    const deps = depsWith([['s1', 'UTC']]);
    addCampaigns(deps.db, 's1', { 1: [], 2: [] });
    const counter = createEventCounter(deps, 60_000, { maxVisitorRows: 3, now: () => now });
    counter.add('s1', 'UTC', displays('s1', 'visitor-0001', [now]));
    counter.flush();
    // Campaign 2's counts fail to be written, after campaign 1's visitors were counted.
    deps.db.exec(`CREATE TRIGGER fail BEFORE INSERT ON events_daily WHEN NEW.wisepop_id = 2 BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    counter.add('s1', 'UTC', displays('s1', 'visitor-0002', [now]));
    counter.add('s1', 'UTC', displays('s1', 'visitor-0003', [now]));
    counter.add('s1', 'UTC', displays('s1', 'visitor-0004', [now], 2));
    counter.flush();
    const today = utcDay(now);
    expect([count(deps.db, 'SELECT COUNT(*) FROM visitors_daily'), visitorDay(deps.db, 's1', today)!.rows]).toEqual([1, 1]);
    deps.db.exec('DROP TRIGGER fail');
    // Two more rows fit under the cap of 3, not three.
    for (const v of ['visitor-0005', 'visitor-0006', 'visitor-0007']) counter.add('s1', 'UTC', displays('s1', v, [now]));
    counter.stop();
    expect([count(deps.db, 'SELECT COUNT(*) FROM visitors_daily'), visitorDay(deps.db, 's1', today)!.rows]).toEqual([3, 3]);
    expect(readStats(deps.db, 's1', { from: today, to: today }).map((r) => [r.displays, r.visitors, r.visitors_capped])).toEqual([[4, 3, true]]);
  });
});

describe("a day's key", () => {
  const day = (ms: number) => utcDay(ms);

  it('is random: the same visitor of the same site and day, with the same secret.key, gets another token in another database', () => {
    const now = Date.now();
    const secret = randomBytes(32);
    const stored = [depsWith([['s1', 'UTC']], secret), depsWith([['s1', 'UTC']], secret)].map((deps) => {
      const counter = createEventCounter(deps, 60_000, { now: () => now });
      counter.add('s1', 'UTC', displays('s1', 'visitor-same-1', [now]));
      counter.stop();
      return tokens(deps.db, 'SELECT visitor FROM visitors_daily');
    });
    expect(stored[0]).toHaveLength(1);
    expect(stored[1]).toHaveLength(1);
    expect(stored[0]![0]).not.toBe(stored[1]![0]);
  });

  it('is kept through yesterday, then deleted: the closed day\'s rows cannot be found from the id, secret.key and the database', () => {
    const start = Date.UTC(2026, 4, 20, 12);
    let now = start;
    const deps = depsWith([['s1', 'UTC']]);
    const counter = createEventCounter(deps, 60_000, { now: () => now });
    const key: CountKey = { site: 's1', campaign: 1, day: day(start), variant: '' };
    const v = 'visitor-kept-1';
    counter.add('s1', 'UTC', displays('s1', v, [start]));
    counter.flush();
    const idKey = visitorIdKey(deps.secret);
    const dayKey = visitorDay(deps.db, 's1', key.day)!.key;
    // While the day is open, its key finds the visitor's row: that is how it is counted once.
    expect(tokens(deps.db, 'SELECT visitor FROM visitors_daily')).toEqual([visitorToken(idKey, dayKey, key, v)]);

    // Just after midnight, a late batch of the day before counts the same visitor once.
    now = Date.UTC(2026, 4, 21, 0, 5);
    counter.add('s1', 'UTC', { site: 's1', visitor: v, events: [{ k: 'display', c: 1, t: Date.UTC(2026, 4, 20, 23, 59) }, { k: 'goal', c: 1, n: 'buy', t: now - 60_000 * 6 }] });
    counter.flush();
    expect(readStats(deps.db, 's1', { from: key.day, to: key.day }).map((r) => [r.displays, r.visitors, r.visitors_with_goal])).toEqual([[2, 1, 1]]);
    expect(visitorDay(deps.db, 's1', key.day)).toBeDefined();

    // The day after that, the key is deleted, and the day takes no more visitors.
    now = Date.UTC(2026, 4, 22, 0, 0, 1);
    counter.add('s1', 'UTC', displays('s1', 'visitor-late-2', [Date.UTC(2026, 4, 20, 23)]));
    counter.stop();
    expect(deps.db.prepare('SELECT day FROM visitor_days').pluck().all()).toEqual([]);
    expect(readStats(deps.db, 's1', { from: key.day, to: key.day }).map((r) => [r.displays, r.visitors])).toEqual([[3, 1]]);
    // What is left to try: the id's hash under the key derived from secret.key (what schema 7
    // stored) is not what the row holds.
    const row = tokens(deps.db, 'SELECT visitor FROM visitors_daily');
    expect(row).toHaveLength(1);
    expect(row[0]).not.toBe(idToken(idKey, key, v));
  });

  it('of the current day is kept across a restart, so a visitor shown before and after it counts once (real HTTP)', async () => {
    const f = await startFixture({ eventsPerMinute: 0 });
    cleanups.push(() => f.close());
    addCampaigns(f.db, f.site, { 1: [] });
    const v = nanoid();
    const send = async (url: string) =>
      expect((await post(`${url}/events`, JSON.stringify(displays(f.site, v, [Date.now()])), { 'content-type': 'text/plain' })).status).toBe(204);
    await send(f.url);
    await f.server.close();
    const again = await startServer({ dataDir: f.dir, host: '127.0.0.1', port: 0, logRequests: false }, silentLog);
    await send(again.url);
    await again.close();
    const today = utcDay(Date.now());
    expect(readStats(f.db, f.site, { from: utcDay(Date.now() - DAY), to: today }).map((r) => [r.displays, r.visitors])).toEqual([[2, 1]]);
  });
});

describe('migration 8: per-day keys and row counts', () => {
  it('rehashes a schema-7 database\'s visitor rows: open days keep counting their visitors once, closed days keep no key', () => {
    const dir = tempDir();
    const path = join(dir, 'poplet.db');
    const secret = randomBytes(32);
    const now = Date.now();
    const today = utcDay(now);
    const old = databaseBefore(path, 8);
    const idKey = visitorIdKey(secret);
    const counts = old.prepare('INSERT INTO events_daily (site_id, wisepop_id, day, variant, displays, visitors) VALUES (?, ?, ?, ?, ?, ?)');
    const row = old.prepare('INSERT INTO visitors_daily (site_id, day, wisepop_id, variant, visitor, flags) VALUES (?, ?, ?, ?, ?, ?)');
    // As schema 7 stored them: idToken of the id and the row.
    const legacy = new Map<string, bigint>();
    for (const [d, visitors] of [['2026-03-01', ['old-visitor-1', 'old-visitor-2']], [today, ['today-visitor-1', 'today-visitor-2', 'today-visitor-3']]] as const) {
      counts.run('s1', 7, d, 'a', visitors.length * 2, visitors.length);
      for (const v of visitors) {
        const t = idToken(idKey, { site: 's1', campaign: 7, day: d, variant: 'a' }, v);
        legacy.set(`${d} ${v}`, t);
        row.run('s1', d, 7, 'a', t, 1);
      }
    }
    const before = old.prepare('SELECT * FROM events_daily ORDER BY day').all();
    old.close();

    const db = openDb(path);
    cleanups.push(() => db.close());
    expect(count(db, 'SELECT version FROM schema_migrations WHERE version = 8')).toBe(8);
    expect(db.prepare('SELECT * FROM events_daily ORDER BY day').all()).toEqual(before);
    expect(db.prepare('SELECT site_id, day, wisepop_id, variant, flags FROM visitors_daily ORDER BY day').all()).toEqual([
      ...['2026-03-01', '2026-03-01'].map((d) => ({ site_id: 's1', day: d, wisepop_id: 7, variant: 'a', flags: 1 })),
      ...[today, today, today].map((d) => ({ site_id: 's1', day: d, wisepop_id: 7, variant: 'a', flags: 1 })),
    ]);
    // No stored token is what the secret-derived key alone gives any more.
    const stored = new Set(tokens(db, 'SELECT visitor FROM visitors_daily'));
    expect(stored.size).toBe(5);
    for (const t of legacy.values()) expect(stored.has(t)).toBe(false);
    // Only the open day has a key, with its rows counted.
    expect(db.prepare('SELECT day, visitor_rows FROM visitor_days').raw().all()).toEqual([[today, 3]]);
    const pk = (db.prepare('PRAGMA table_info(visitor_days)').all() as Array<{ name: string; pk: number }>).filter((c) => c.pk).map((c) => c.name);
    expect(pk).toEqual(['site_id', 'day']);

    // Today's visitors counted before the upgrade are known after it; a new one counts.
    const deps: ServerDeps = { db, config: loadConfig({ POPLET_DATA: dir }), secret, log: silentLog };
    addCampaigns(db, 's1', { 7: ['a'] });
    const counter = createEventCounter(deps, 60_000);
    for (const v of ['today-visitor-1', 'today-visitor-2', 'new-visitor-4']) {
      counter.add('s1', 'UTC', { site: 's1', visitor: v, events: [{ k: 'display', c: 7, g: 'a', t: now }] });
    }
    counter.add('s1', 'UTC', { site: 's1', visitor: 'today-visitor-3', events: [{ k: 'goal', c: 7, g: 'a', n: 'buy', t: now }] });
    counter.stop();
    expect(readStats(db, 's1', { from: today, to: today }).map((r) => [r.displays, r.visitors, r.visitors_with_goal])).toEqual([[9, 4, 1]]);
    expect(db.prepare('SELECT visitor_rows FROM visitor_days').pluck().all()).toEqual([4]);

    // The trigger still deletes a row's visitors with its counts.
    db.prepare("DELETE FROM events_daily WHERE day = '2026-03-01'").run();
    expect(count(db, "SELECT COUNT(*) FROM visitors_daily WHERE day = '2026-03-01'")).toBe(0);
    db.close();
    // Opening again runs nothing twice.
    openDb(path).close();
  });
});
