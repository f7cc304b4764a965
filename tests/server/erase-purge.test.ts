// Erasure and retention delete personal data from the database FILE, not only from its tables:
// each deletion records a purge as due (purge_due), and after that purge none of the erased
// values is in the bytes of poplet.db, poplet.db-wal or the rest of the data folder; a backup
// taken after the deletion, before the purge, holds none of them either. Real files, real SQLite.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/server/app';
import { backup, restore } from '../../src/server/lifecycle/backup';
import { eraseEmail, eraseRows } from '../../src/server/lifecycle/erase';
import { createPurger, pendingPurge, purgerFor } from '../../src/server/lifecycle/purge';
import { replay } from '../../src/server/lifecycle/replay';
import { INACTIVE_MS, retentionPass } from '../../src/server/lifecycle/retention';
import { openDb, type Db } from '../../src/server/store/db';
import { insertSignups } from '../../src/server/store/signups';
import { addSite } from '../../src/server/store/sites';
import { apiAuth, captureLog, dbBytes, found, person, post, startFixture, type Fixture } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';

const DAY = 86_400_000;
let fx: Fixture | undefined;
let env: Env | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fx?.close();
  fx = undefined;
  env?.cleanup();
  env = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir` but those under `skip`. */
function filesUnder(dir: string, skip: string[] = []): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (skip.includes(path)) return [];
    return e.isDirectory() ? filesUnder(path, skip) : [path];
  });
}

describe('erasure purges the database file', () => {
  it('DELETE /api1/emails records a purge, which leaves none of the address, its folded form or its fields in the data folder; a backup taken before the purge holds none either', async () => {
    fx = await startFixture({ collectPerMinute: 0, allowPrivateHooks: true });
    // A hook, so that the erased sign-ups have delivery rows too (port 9 refuses: they stay pending).
    fx.db.prepare(`INSERT INTO hooks (site_id, event, target_url, created_at) VALUES (?, 'email', 'http://127.0.0.1:9/hook', ?)`).run(fx.site, new Date().toISOString());
    const collect = async (email: string, fields: Record<string, string>) =>
      expect((await post(`${fx!.url}/collect`, { id: randomBytes(12).toString('base64url'), site: fx!.site, wisepop_id: 7, email, fields })).status).toBe(201);
    const others: string[] = [];
    for (let i = 0; i < 150; i++) {
      others.push(`reader${i}.keep@example.org`);
      await collect(others[i]!, { phone: `+33 6 99 00 ${String(i).padStart(4, '0')}`, company: `Keeper ${i} SARL` });
      // The victim's sign-ups among the others, as they came over time.
      if (i === 40) await collect('Jane.Doe@Example.COM', { phone: '+33 6 12 34 56 78', company: 'Doe Artisanal Cheeses' });
      if (i === 90) await collect('jane.doe@example.com', { phone: '+33 6 12 34 56 78', note: 'call me after 6pm please' });
    }
    const needles = ['Jane.Doe@Example.COM', 'jane.doe@example.com', '+33 6 12 34 56 78', 'Doe Artisanal Cheeses', 'call me after 6pm please'];
    const dbPath = join(fx.dir, 'poplet.db');
    const before = await backup({ db: fx.db }, join(fx.dir, 'before'));
    // The search finds what is there: the victim before the erasure, the others after it.
    expect(found(readFileSync(before), needles)).toEqual(needles);

    const res = await fetch(`${fx.url}/api1/emails?email=${encodeURIComponent('JANE.DOE@example.com')}`, { method: 'DELETE', headers: apiAuth(fx.key) });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { purge_due_at: string };
    expect(answer).toEqual({ deleted: 2, deliveries: 2, purge_due_at: expect.any(String) });
    // Recorded, for the server's purge job: due within POPLET_PURGE_WITHIN (60 minutes) of the erasure.
    const pending = pendingPurge(fx.db);
    expect(pending).toMatchObject({ count: 1, dueAt: Date.parse(answer.purge_due_at) });
    expect(pending!.dueAt - pending!.since).toBe(60 * 60_000);
    // Between the erasure and the purge, a backup holds none of it (VACUUM INTO: live rows only).
    const between = await backup({ db: fx.db }, join(fx.dir, 'between'));
    expect(found(readFileSync(between), needles)).toEqual([]);
    expect(found(readFileSync(between), [others[0]!, 'Keeper 149 SARL'])).toHaveLength(2);

    // The purge the job runs when it is due, on the server's connection.
    await purgerFor(fx.server.deps.db).purge();
    expect(pendingPurge(fx.db)).toBeUndefined();
    expect(found(dbBytes(dbPath), needles)).toEqual([]);
    expect(existsSync(`${dbPath}-wal`) ? statSync(`${dbPath}-wal`).size : 0).toBe(0);
    // Nothing else in the data folder (journal, -shm, secret) holds it either; only the backup
    // taken before the erasure does, until it rotates out.
    for (const file of filesUnder(fx.dir, [join(fx.dir, 'before')])) expect(found(readFileSync(file), needles), file).toEqual([]);
    const after = await backup({ db: fx.db }, join(fx.dir, 'after'));
    expect(found(readFileSync(after), needles)).toEqual([]);
    const kept = [others[0]!, others[149]!, '+33 6 99 00 0077', 'Keeper 149 SARL'];
    expect(found(dbBytes(dbPath), kept)).toEqual(kept);
    expect(found(readFileSync(after), kept)).toEqual(kept);
  });

  it('also removes the copies that secure_delete alone leaves where SQLite rebuilt a page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-purge-'));
    dirs.push(dir);
    const path = join(dir, 'poplet.db');
    const db = openDb(path, { synchronous: 'normal' });
    // A fixed workload (ids, times and choices from a hash) that makes SQLite rebalance pages of
    // the table and of the email_fold index while sign-ups arrive and addresses are erased.
    const h = (s: string) => createHash('sha256').update(`y${s}`).digest('hex');
    const sites = ['site-a', 'site-b', 'site-c'];
    for (const id of sites) db.prepare(`INSERT INTO sites (id, domain, key_hash, key_enc, created_at) VALUES (?, 'x.example', ?, 'x', '2026-01-01T00:00:00.000Z')`).run(id, id);
    const live: Array<{ site: string; email: string }> = [];
    const erased: string[] = [];
    let n = 0;
    for (let round = 0; round < 10; round++) {
      for (let b = 0; b < 20; b++) {
        const items = Array.from({ length: 25 }, () => {
          const i = n++;
          const email = `Zq${h(`e${i}`).slice(0, 12)}@Example.com`;
          const site = sites[parseInt(h(`s${i}`).slice(0, 4), 16) % 3]!;
          live.push({ site, email });
          return {
            site_id: site, client_id: h(`c${i}`).slice(0, 16), email, wisepop_id: 1, ip: '203.0.113.9', country_code: 'US',
            other_fields: { phone: `+3361${h(`p${i}`).slice(0, 10)}` }, consent: null, variant: null,
          };
        });
        insertSignups(db, items, Date.UTC(2026, 0, 1));
      }
      for (let i = live.length - 1; i >= 0; i--) {
        if (parseInt(h(`x${round}${live[i]!.email}`).slice(0, 4), 16) % 10 >= 3) continue;
        eraseRows(db, live[i]!.site, live[i]!.email);
        erased.push(live[i]!.email);
        live.splice(i, 1);
      }
    }
    const left = () => {
      const text = dbBytes(path).toString('latin1');
      const seen = new Set([...text.matchAll(/[Zz]q[0-9a-f]{12}@[Ee]xample\.com/g)].map((m) => m[0]));
      return { erased: erased.filter((e) => seen.has(e) || seen.has(e.toLowerCase())).length, live: live.filter((l) => seen.has(l.email)).length };
    };
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Why the purge exists: with secure_delete ON and the WAL emptied, some erased addresses are
    // still in the file (2 in table pages, 2 in index pages with SQLite 3.53). If this fails, a
    // newer SQLite zeroes rebuilt pages: secure_delete alone would then do, the VACUUM could go.
    expect(left().erased, 'stale copies left by secure_delete alone').toBeGreaterThan(0);

    // Every erasure recorded a purge; the one purge covers them all.
    expect(pendingPurge(db)?.count).toBe(erased.length);
    await purgerFor(db).purge();
    expect(pendingPurge(db)).toBeUndefined();
    expect(left()).toEqual({ erased: 0, live: live.length });
    expect(db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(live.length);
    db.close();
  });

  it('the purge waits for another connection reading an older snapshot, then empties the WAL', async () => {
    env = makeEnv();
    const victim = 'wal.victim@example.net';
    insertSignups(env.deps.db, [person(env.siteId, victim, { phone: '+1 555 0100 9999' }), ...Array.from({ length: 50 }, (_, i) => person(env!.siteId, `other${i}@example.net`))]);
    const reader = new Database(env.deps.config.dbPath);
    reader.exec('BEGIN');
    reader.prepare('SELECT COUNT(*) FROM signups').get();
    expect(await eraseEmail(env.deps.db, env.siteId, victim)).toMatchObject({ signups: 1 });
    let settled = false;
    const purging = purgerFor(env.deps.db).purge().finally(() => (settled = true));
    // The reader's snapshot holds frames the checkpoint may not overwrite: it cannot finish.
    await new Promise((ok) => setTimeout(ok, 200));
    expect(settled).toBe(false);
    // Not done: the purge stays recorded.
    expect(pendingPurge(env.deps.db)?.count).toBe(1);
    reader.exec('COMMIT');
    reader.close();
    await purging;
    expect(pendingPurge(env.deps.db)).toBeUndefined();
    expect(found(dbBytes(env.deps.config.dbPath), [victim, '+1 555 0100 9999'])).toEqual([]);
  });

  it('erasures asked together share one VACUUM', async () => {
    env = makeEnv();
    const log = captureLog();
    const purger = createPurger(env.deps.db, log);
    await Promise.all(Array.from({ length: 10 }, () => purger.purge()));
    expect(log.lines.filter((l) => l.msg === 'database file purged')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ requests: 10 }) })]);
  });

  it('replay records a purge of the rows of the erasures it re-applies to a restored backup; run, it leaves none', async () => {
    env = makeEnv({ POPLET_COLLECT_PER_MIN: '0' });
    const app = buildApp(env.deps);
    const victim = 'restored.victim@example.net';
    const collect = async (email: string, phone: string) =>
      expect((await app.inject({ method: 'POST', url: '/collect', headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
        payload: { id: randomBytes(12).toString('base64url'), site: env!.siteId, wisepop_id: 7, email, fields: { phone } } })).statusCode).toBe(201);
    for (let i = 0; i < 30; i++) await collect(`kept${i}@example.net`, `+1 555 0100 ${String(i).padStart(4, '0')}`);
    await collect(victim, '+1 555 0199 4242');
    const file = await backup(env.deps, join(env.dir, 'backups'));
    await eraseEmail(env.deps.db, env.siteId, victim, env.deps.config.journalDir);
    await app.close();
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    restore(file, dbPath);
    env.reopen();
    expect(pendingPurge(env.deps.db)).toBeUndefined(); // the restored backup's own were done
    expect(replay(env.deps, env.deps.config.journalDir)).toMatchObject({ erased: 1 });
    expect(pendingPurge(env.deps.db)).toMatchObject({ count: 1 });
    await purgerFor(env.deps.db).purge();
    expect(pendingPurge(env.deps.db)).toBeUndefined();
    expect(found(dbBytes(dbPath), [victim, '+1 555 0199 4242'])).toEqual([]);
  });
});

describe('retention purges the database file', () => {
  it('sign-ups past the retention period and the data of dormant sites: a purge is recorded, and leaves no bytes behind', async () => {
    env = makeEnv({ POPLET_RETENTION_DAYS: '365', POPLET_JOURNAL: 'off' });
    const { db } = env.deps;
    const now = Date.now();
    const dormant = addSite(db, env.deps.secret, { domain: 'dormant.example' }).site.id;
    insertSignups(db, [person(env.siteId, 'expired.person@example.net', { phone: '+44 20 7946 0001' })], now - 400 * DAY);
    insertSignups(db, [person(dormant, 'dormant.person@example.net', { phone: '+44 20 7946 0002' })], now - INACTIVE_MS - 2 * DAY);
    db.prepare('UPDATE sites SET created_at = ?, last_active_at = ? WHERE id = ?').run(new Date(now - INACTIVE_MS - 2 * DAY).toISOString(), null, dormant);
    insertSignups(db, Array.from({ length: 40 }, (_, i) => person(env!.siteId, `recent${i}@example.net`, { phone: `+44 20 7946 1${String(i).padStart(3, '0')}` })), now);
    const gone = ['expired.person@example.net', '+44 20 7946 0001', 'dormant.person@example.net', '+44 20 7946 0002', 'dormant.example'];

    const r = retentionPass(env.deps, now);
    expect(r).toMatchObject({ sites: 1, signups: 1, purgeDueAt: expect.any(Number) });
    expect(pendingPurge(db)).toMatchObject({ count: 1, dueAt: r.purgeDueAt });
    await purgerFor(db).purge();
    expect(pendingPurge(db)).toBeUndefined();
    expect(found(dbBytes(env.deps.config.dbPath), gone)).toEqual([]);
    expect(found(dbBytes(env.deps.config.dbPath), ['recent0@example.net', '+44 20 7946 1039'])).toHaveLength(2);
  });
});

describe('a database from before secure_delete', () => {
  it('gets a purge due at once when the new version first opens it (once); run, what was deleted before is gone from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-upgrade-'));
    dirs.push(dir);
    const path = join(dir, 'poplet.db');
    let db: Db = openDb(path);
    const site = addSite(db, randomBytes(32), { domain: 'shop.example' }).site.id;
    insertSignups(db, [person(site, 'erased.long.ago@example.net', { phone: '+49 30 901820 77' }), ...Array.from({ length: 30 }, (_, i) => person(site, `stay${i}@example.net`))]);
    db.prepare('DELETE FROM schema_migrations WHERE version >= 200').run();
    db.close();
    // The previous release deleted with secure_delete off.
    const old = new Database(path);
    old.prepare(`DELETE FROM signups WHERE email = 'erased.long.ago@example.net'`).run();
    old.close();
    expect(found(dbBytes(path), ['erased.long.ago@example.net'])).toHaveLength(1);

    db = openDb(path);
    const due = pendingPurge(db);
    expect(due).toMatchObject({ count: 1 });
    expect(due!.dueAt).toBe(due!.since);
    db.close();
    db = openDb(path);
    expect(pendingPurge(db)?.count).toBe(1); // recorded once, not at every open
    await purgerFor(db).purge();
    expect(found(dbBytes(path), ['erased.long.ago@example.net', '+49 30 901820 77'])).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(30);
    db.close();
  });
});

describe('backups carry nothing deleted', () => {
  it('a backup of a file whose free space still holds deleted rows holds none of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-backup-free-'));
    dirs.push(dir);
    const path = join(dir, 'poplet.db');
    const setup = openDb(path);
    const site = addSite(setup, randomBytes(32), { domain: 'shop.example' }).site.id;
    insertSignups(setup, [person(site, 'in.free.space@example.net', { phone: '+61 2 9999 0000' }), ...Array.from({ length: 30 }, (_, i) => person(site, `stay${i}@example.net`))]);
    setup.close();
    // A connection without secure_delete (a tool, an older Poplet): the row's bytes stay in the file.
    const raw = new Database(path);
    raw.prepare(`DELETE FROM signups WHERE email = 'in.free.space@example.net'`).run();
    expect(found(dbBytes(path), ['in.free.space@example.net'])).toHaveLength(1);
    const file = await backup({ db: raw }, join(dir, 'backups'));
    raw.close();
    expect(found(readFileSync(file), ['in.free.space@example.net', '+61 2 9999 0000'])).toEqual([]);
    expect(found(readFileSync(file), ['stay0@example.net', 'stay29@example.net'])).toHaveLength(2);
  });
});
