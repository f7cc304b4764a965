// An erased sign-up must not come back when the browser retries it: the outbox resends a sign-up
// under its id until it sees a 2xx, so a 2xx lost before the erasure meant the retry stored the
// address again, with its hook deliveries. Every deletion of sign-ups (the API's and the CLI's
// erasure, the retention job, a replayed erasure) leaves a tombstone of the id; a retry of it gets
// the 200 of a duplicate and stores, journals, counts and delivers nothing.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app';
import { backup, restore } from '../../src/server/lifecycle/backup';
import { eraseEmail } from '../../src/server/lifecycle/erase';
import { replay } from '../../src/server/lifecycle/replay';
import { runRetention } from '../../src/server/lifecycle/retention';
import { openDb } from '../../src/server/store/db';
import { insertSignups, type NewSignup } from '../../src/server/store/signups';
import { TOMBSTONE_DAYS, idHash } from '../../src/server/store/tombstones';
import { addCampaigns, apiAuth, databaseBefore, post, signup, startFixture, type Fixture } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';

const DAY = 86_400_000;
let fixtures: Fixture[] = [];
let envs: Env[] = [];
afterEach(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
  for (const e of envs) e.cleanup();
  fixtures = [];
  envs = [];
});

async function start(): Promise<Fixture> {
  const f = await startFixture({ collectPerMinute: 0, allowPrivateHooks: true });
  fixtures.push(f);
  addCampaigns(f.db, f.site, { 7: [] });
  // A hook, so every stored sign-up has a delivery row (its target need not answer).
  f.db.prepare("INSERT INTO hooks (site_id, event, target_url, created_at) VALUES (?, 'email', 'http://127.0.0.1:9/hook', ?)").run(f.site, new Date().toISOString());
  return f;
}

const rows = (f: Fixture, id: string) => f.count(`SELECT COUNT(*) FROM signups WHERE client_id = '${id}'`);
const deliveries = (f: Fixture) => f.count('SELECT COUNT(*) FROM hook_deliveries');
const counted = (f: Fixture) => f.count('SELECT IFNULL(SUM(signups), 0) FROM events_daily');
const journalText = (dir: string) =>
  readdirSync(join(dir, 'journal'))
    .filter((n) => n.endsWith('.jsonl'))
    .map((n) => readFileSync(join(dir, 'journal', n), 'utf8'))
    .join('');

async function eraseOverApi(f: Fixture, email: string) {
  const r = await fetch(`${f.url}/api1/emails?email=${encodeURIComponent(email)}`, { method: 'DELETE', headers: apiAuth(f.key) });
  expect(r.status).toBe(200);
  return (await r.json()) as { deleted: number };
}

describe('idHash', () => {
  it('is the first 64 bits of the SHA-256 of the id, signed: tombstones stored by any version stay found', () => {
    // echo -n abc | sha256sum: ba7816bf8f01cfea…; 0xba7816bf8f01cfea as a signed 64-bit integer.
    expect(idHash('abc')).toBe(-5010229573455851542n);
    expect(idHash('V1StGXR8_Z5jdHi6B-myT')).toBe(BigInt.asIntN(64, BigInt('0x' + createHash('sha256').update('V1StGXR8_Z5jdHi6B-myT').digest('hex').slice(0, 16))));
  });
});

describe('a retry of an erased sign-up', () => {
  it('after DELETE /api1/emails: the 200 of a duplicate, and nothing stored, journaled, counted or delivered', async () => {
    const f = await start();
    const body = signup(f.site);
    expect((await post(`${f.url}/collect`, body)).status).toBe(201);
    expect([rows(f, body.id), deliveries(f), counted(f)]).toEqual([1, 1, 1]);
    expect((await eraseOverApi(f, body.email)).deleted).toBe(1);
    expect([rows(f, body.id), deliveries(f)]).toEqual([0, 0]);

    // The browser never saw the 201 (the connection dropped): its outbox sends it again.
    const retry = await post(`${f.url}/collect`, body);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual({ id: body.id, collected_at: expect.stringMatching(/Z$/) });
    expect([rows(f, body.id), deliveries(f), counted(f)]).toEqual([0, 0, 1]);
    await new Promise((ok) => setTimeout(ok, 20)); // journal lines are written in a microtask
    expect(journalText(f.dir)).not.toContain(body.email);
    // And the Email API does not list it.
    const listed = (await (await fetch(`${f.url}/api1/emails?page_size=1000`, { headers: apiAuth(f.key) })).json()) as Array<{ email: string }>;
    expect(listed.map((r) => r.email)).not.toContain(body.email);
  });

  it('a new sign-up of the erased address (a new id) is stored as before', async () => {
    const f = await start();
    const first = signup(f.site);
    await post(`${f.url}/collect`, first);
    await eraseOverApi(f, first.email);
    const again = signup(f.site, { email: first.email });
    expect((await post(`${f.url}/collect`, again)).status).toBe(201);
    expect(rows(f, again.id)).toBe(1);
  });

  it('after `poplet erase` (another process on the same file): the same', async () => {
    const f = await start();
    const body = signup(f.site);
    expect((await post(`${f.url}/collect`, body)).status).toBe(201);
    const cli = openDb(join(f.dir, 'poplet.db'));
    try {
      expect((await eraseEmail(cli, f.site, body.email, join(f.dir, 'journal'))).signups).toBe(1);
    } finally {
      cli.close();
    }
    expect((await post(`${f.url}/collect`, body)).status).toBe(200);
    expect([rows(f, body.id), deliveries(f)]).toEqual([0, 0]);
  });

  it('only on its own site: the same id on another site is another sign-up', async () => {
    const f = await start();
    const body = signup(f.site);
    await post(`${f.url}/collect`, body);
    await eraseOverApi(f, body.email);
    f.db.prepare('UPDATE sites SET origins = ? WHERE id = ?').run(JSON.stringify(['https://shop.example']), f.other.site);
    const r = await post(`${f.url}/collect`, { ...body, site: f.other.site });
    expect(r.status).toBe(201);
  });
});

describe('sign-ups the retention job deleted', () => {
  it('leave tombstones too: a retry years late stores nothing; tombstones go after TOMBSTONE_DAYS', async () => {
    const f = await start();
    const now = Date.now();
    const old: NewSignup = {
      site_id: f.site, client_id: 'old-retry-0001', email: 'old@example.com', wisepop_id: 7, ip: '203.0.113.9',
      country_code: null, other_fields: {}, consent: null, variant: null,
    };
    insertSignups(f.db, [old], now - 40 * DAY);
    expect(runRetention(f.db, { retentionDays: 30, now }).signups).toBe(1);
    const r = await post(`${f.url}/collect`, { id: old.client_id, site: f.site, wisepop_id: 7, email: old.email });
    expect(r.status).toBe(200);
    expect(rows(f, old.client_id)).toBe(0);

    // Kept TOMBSTONE_DAYS after the deletion, then pruned by the same job (the site still active:
    // an inactive one is deleted whole after two years, its tombstones with it).
    f.db.prepare('UPDATE sites SET last_active_at = ? WHERE id = ?').run(new Date(now + TOMBSTONE_DAYS * DAY).toISOString(), f.site);
    expect(runRetention(f.db, { retentionDays: 30, now: now + (TOMBSTONE_DAYS - 1) * DAY }).tombstones).toBe(0);
    expect(runRetention(f.db, { retentionDays: 30, now: now + (TOMBSTONE_DAYS + 1) * DAY }).tombstones).toBe(1);
    expect(f.count('SELECT COUNT(*) FROM signup_tombstones')).toBe(0);
  });

  it('are held as a 64-bit hash of the id, never the id', async () => {
    const f = await start();
    const body = signup(f.site);
    await post(`${f.url}/collect`, body);
    await eraseOverApi(f, body.email);
    const stored = f.db.prepare('SELECT site_id, id_hash, erased_ms FROM signup_tombstones').safeIntegers(true).all() as Array<{ site_id: string; id_hash: bigint }>;
    expect(stored).toEqual([{ site_id: f.site, id_hash: idHash(body.id), erased_ms: expect.any(BigInt) }]);
    expect(JSON.stringify(stored, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(body.id);
  });
});

describe('journal replay', () => {
  it('onto a backup taken before the erasure: erases again and tombstones, also a sign-up the backup never had', async () => {
    const e = makeEnv();
    envs.push(e);
    const app = buildApp(e.deps);
    const collect = async (email: string) => {
      const id = randomBytes(12).toString('base64url');
      const r = await app.inject({
        method: 'POST', url: '/collect', headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
        payload: { id, site: e.siteId, wisepop_id: 7, email },
      });
      expect(r.statusCode, r.body).toBe(201);
      return id;
    };
    const inBackup = await collect('gone@example.com');
    const file = await backup(e.deps, join(e.dir, 'backups'));
    // After the backup, before the erasure: its journal line is scrubbed, its row in no backup.
    const afterBackup = await collect('gone@example.com');
    const kept = await collect('kept@example.com');
    const erased = await app.inject({ method: 'DELETE', url: `/api1/emails?email=gone%40example.com`, headers: apiAuth(e.key) });
    expect(erased.json()).toMatchObject({ deleted: 2 });
    await app.close();

    // The database is lost: restore the backup, replay the journal.
    const dbPath = e.deps.config.dbPath;
    e.deps.db.close();
    for (const p of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(p, { force: true });
    restore(file, dbPath);
    e.reopen();
    expect(replay(e.deps, e.deps.config.journalDir)).toMatchObject({ inserted: 1, erased: 1 });
    const db = e.deps.db;
    expect(db.prepare('SELECT email FROM signups').pluck().all()).toEqual(['kept@example.com']);

    // Both erased ids are tombstoned again: retries of them store nothing.
    const retry = (client_id: string) =>
      insertSignups(db, [{ site_id: e.siteId, client_id, email: 'gone@example.com', wisepop_id: 7, ip: '203.0.113.9', country_code: null, other_fields: {}, consent: null, variant: null }])[0]!;
    expect(retry(inBackup)).toMatchObject({ created: false, row: null });
    expect(retry(afterBackup)).toMatchObject({ created: false, row: null });
    expect(retry(kept)).toMatchObject({ created: false, row: { email: 'kept@example.com' } });
    expect(db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(1);

    // Replaying again changes nothing.
    expect(replay(e.deps, e.deps.config.journalDir)).toMatchObject({ inserted: 0, erased: 0 });
  });

  it('skips a journaled sign-up that was deleted since (the retention job), and restores the others', async () => {
    const e = makeEnv();
    envs.push(e);
    const app = buildApp(e.deps);
    const ids: string[] = [];
    for (const email of ['a@example.com', 'b@example.com']) {
      const id = randomBytes(12).toString('base64url');
      ids.push(id);
      const r = await app.inject({
        method: 'POST', url: '/collect', headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
        payload: { id, site: e.siteId, wisepop_id: 7, email },
      });
      expect(r.statusCode).toBe(201);
    }
    await app.close();
    // The first is deleted (as retention deletes: tombstone, then the row); the second is lost.
    const db = e.deps.db;
    db.prepare("INSERT INTO signup_tombstones (site_id, id_hash, erased_ms) VALUES (?, poplet_id_hash(?), ?)").run(e.siteId, ids[0], Date.now());
    db.prepare('DELETE FROM signups').run();
    expect(replay(e.deps, e.deps.config.journalDir)).toMatchObject({ inserted: 1, skipped: 1 });
    expect(db.prepare('SELECT email FROM signups').pluck().all()).toEqual(['b@example.com']);
  });
});

it('migration 10 adds the tombstones to a database of the version before', () => {
  const e = makeEnv();
  envs.push(e);
  const path = join(e.dir, 'old.db');
  databaseBefore(path, 10).close();
  const db = openDb(path);
  try {
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'signup_tombstones'").pluck().get()).toBe(1);
    expect(db.prepare('SELECT MAX(version) FROM schema_migrations WHERE version < 100').pluck().get()).toBe(10);
  } finally {
    db.close();
  }
});
