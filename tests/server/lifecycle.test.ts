import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/server/app';
import { backup, listBackups, restore } from '../../src/server/lifecycle/backup';
import { replay } from '../../src/server/lifecycle/replay';
import { eraseEmail } from '../../src/server/lifecycle/erase';
import { KEPT_MAX_LINES, createJournal, journalFiles, readJournal } from '../../src/server/lifecycle/journal';
import { INACTIVE_MS, backupWarning, runRetention, startRetentionJob } from '../../src/server/lifecycle/retention';
import { captureLog, post, signup as collectBody, startFixture, testCampaign, type Fixture } from './fixture';
import { importCampaigns } from '../../src/server/store/campaigns';
import { addCounts } from '../../src/server/store/events';
import { addSite } from '../../src/server/store/sites';
import { openDb } from '../../src/server/store/db';
import { addHook, makeEnv, signup, type Env } from './hooks-fixture';

let env: Env;
afterEach(() => env?.cleanup());

const dump = (e: Env) => ({
  signups: e.deps.db.prepare('SELECT * FROM signups ORDER BY seq').all(),
  hooks: e.deps.db.prepare('SELECT * FROM hooks ORDER BY id').all(),
  deliveries: e.deps.db.prepare('SELECT * FROM hook_deliveries ORDER BY id').all(),
  events: e.deps.db.prepare('SELECT * FROM events_daily ORDER BY site_id, wisepop_id, day').all(),
  sites: e.deps.db.prepare('SELECT * FROM sites ORDER BY id').all(),
});
const count = (e: Env, sql: string, ...args: unknown[]) => (e.deps.db.prepare(sql).get(...args) as { n: number }).n;

describe('backup and restore', () => {
  it('an online backup taken while sign-ups keep arriving restores to exactly its rows', async () => {
    env = makeEnv();
    addHook(env.deps, env.siteId, 'https://hooks.example.com/x');
    signup(env.deps, env.siteId, 50);
    const dir = join(env.dir, 'backups');
    // Writes interleaved with the backup's steps must not tear it.
    const writing = setInterval(() => signup(env.deps, env.siteId, 5), 1);
    const file = await backup(env.deps, dir);
    clearInterval(writing);
    expect(file).toMatch(/poplet-\d{8}T\d{9}Z\.sqlite$/);
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
    const copy = openDb(file);
    const atBackup = {
      signups: copy.prepare('SELECT * FROM signups ORDER BY seq').all(),
      deliveries: copy.prepare('SELECT * FROM hook_deliveries ORDER BY id').all(),
    };
    copy.close();
    expect(atBackup.signups.length).toBeGreaterThanOrEqual(50);
    expect(atBackup.deliveries.length).toBe(atBackup.signups.length); // a consistent snapshot: no sign-up without its outbox row

    signup(env.deps, env.siteId, 10);
    env.deps.db.prepare('DELETE FROM signups WHERE seq < 5').run();
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    restore(file, dbPath);
    expect(existsSync(`${dbPath}.before-restore`)).toBe(true);
    env.reopen();
    const after = dump(env);
    expect(after.signups).toEqual(atBackup.signups);
    expect(after.deliveries).toEqual(atBackup.deliveries);
  });

  it('backups, the restored database and the kept one are owner-only (0600), whatever the umask', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 2);
    const dir = join(env.dir, 'shared-backups');
    // An existing folder others can list, as a mounted backup volume often is.
    mkdirSync(dir, { mode: 0o755 });
    expect(process.umask() & 0o077).not.toBe(0o077); // the test means something only if the umask lets others read
    const file = await backup(env.deps, dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A backup an older Poplet left world-readable: restoring it must not make the database so.
    chmodSync(file, 0o644);
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    restore(file, dbPath);
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
    expect(statSync(`${dbPath}.before-restore`).mode & 0o777).toBe(0o600);
    env.reopen();
  });

  it('keeps 7 days of daily backups', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'backups');
    const written: string[] = [];
    for (let day = 1; day <= 9; day++) written.push(await backup(env.deps, dir, 7, new Date(Date.UTC(2026, 0, day, 3))));
    expect(listBackups(dir)).toEqual(written.slice(2));
  });

  it('refuses a keep count that would delete the new backup or never rotate', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'backups');
    for (const keep of [0, -1, NaN, 2.5]) await expect(backup(env.deps, dir, keep)).rejects.toThrow(/keep must be/);
    expect(listBackups(dir)).toEqual([]);
  });

  it('restore refuses a file that is not a sound database and leaves the current one alone', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 3);
    const bad = join(env.dir, 'bad.sqlite');
    writeFileSync(bad, randomBytes(8192));
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    expect(() => restore(bad, dbPath)).toThrow();
    env.reopen();
    expect(count(env, 'SELECT COUNT(*) AS n FROM signups')).toBe(3);
  });
});

describe('recovery journal', () => {
  const collect = async (app: ReturnType<typeof buildApp>, site: string, email: string, wisepop_id = 7) => {
    const r = await app.inject({
      method: 'POST',
      url: '/collect',
      headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
      payload: { id: randomBytes(12).toString('base64url'), site, wisepop_id, email, fields: { City: 'Lyon' }, consent: 'Yes please' },
    });
    expect(r.statusCode, r.body).toBe(201);
  };

  it('backup + journal rebuild a lost database: every accepted /collect comes back, erasures stay erased', async () => {
    env = makeEnv();
    // The site's campaign: sign-ups count in the stats only for campaigns the site has.
    importCampaigns(env.deps.db, env.siteId, testCampaign(7));
    const app = buildApp(env.deps);
    const emails = Array.from({ length: 12 }, (_, i) => `p${i}@example.com`);
    for (const e of emails.slice(0, 5)) await collect(app, env.siteId, e);
    const file = await backup(env.deps, join(env.dir, 'backups'));
    for (const e of emails.slice(5)) await collect(app, env.siteId, e);
    // Erased after the backup: the backup still holds it, the journal's erase record must win.
    await eraseEmail(env.deps.db, env.siteId, 'p1@example.com', env.deps.config.journalDir);
    await app.close();
    const before = dump(env).signups;
    expect(before).toHaveLength(11);

    // Disaster: the database files are gone. Restore the backup, then replay the journal.
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
    restore(file, dbPath);
    env.reopen();
    expect(count(env, 'SELECT COUNT(*) AS n FROM signups')).toBe(5);
    const r = replay(env.deps, env.deps.config.journalDir);
    // p1 is erased from the restored rows; p0, p2–p4 are already there; p5–p11 come back.
    expect(r).toEqual({ inserted: 7, duplicates: 4, erased: 1, skipped: 0 });
    const strip = (rows: unknown[]) => (rows as Array<Record<string, unknown>>).map(({ seq: _s, ...rest }) => rest);
    expect(strip(dump(env).signups)).toEqual(strip(before));
    const stats = env.deps.db.prepare('SELECT SUM(signups) AS n FROM events_daily').get() as { n: number };
    expect(stats.n).toBe(12); // 5 in the backup + 7 replayed: the erased one was counted when it came
    // Idempotent.
    expect(replay(env.deps, env.deps.config.journalDir)).toEqual({ inserted: 0, duplicates: 11, erased: 0, skipped: 0 });
  });

  it('pruning keeps what every kept backup needs: restoring the oldest and replaying brings no erased address back and misses no sign-up', async () => {
    env = makeEnv();
    const app = buildApp(env.deps);
    const jdir = env.deps.config.journalDir;
    const bdir = join(env.dir, 'backups');
    await collect(app, env.siteId, 'victim@example.com');
    await collect(app, env.siteId, 'before@example.com');
    // Today's backup, say yesterday's 03:00 one: it holds the victim.
    const older = await backup(env.deps, bdir);
    await new Promise((ok) => setTimeout(ok, 5));
    await eraseEmail(env.deps.db, env.siteId, 'victim@example.com', jdir);
    await collect(app, env.siteId, 'after@example.com');
    await app.close();
    // The next daily backup, after today's UTC day ended: it covers today's journal file (the one
    // with the erase record), but the older backup is still kept and predates the erasure.
    const today = new Date();
    const next3am = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1, 3);
    await backup(env.deps, bdir, 7, new Date(next3am));
    expect(listBackups(bdir)).toHaveLength(2);
    runRetention(env.deps.db, { retentionDays: 730, journalDir: jdir, backupDir: bdir, now: next3am + 60_000 });

    // The newest backup turns out to be bad: restore the older one and replay.
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    restore(older, dbPath);
    env.reopen();
    expect(replay(env.deps, jdir)).toMatchObject({ erased: 1, inserted: 1 });
    const emails = (env.deps.db.prepare('SELECT email FROM signups ORDER BY seq').pluck().all() as string[]).sort();
    expect(emails).toEqual(['after@example.com', 'before@example.com']);

    // Once the older backup rotates out, every kept one postdates the file: it may go.
    rmSync(older);
    expect(runRetention(env.deps.db, { retentionDays: 730, journalDir: jdir, backupDir: bdir, now: next3am + 60_000 }).journalFiles).toBe(1);
  });

  it('journals only accepted calls, rotates by day and size, survives a torn last line', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'j');
    let now = Date.UTC(2026, 4, 1, 23, 59);
    const journal = createJournal(dir, { maxBytes: 600, now: () => now });
    const p = (i: number) => ({ id: `client-id-${i}`, site: env.siteId, wisepop_id: 1, email: `j${i}@example.com`, fields: {} });
    const meta = { collected_at: new Date(now).toISOString(), ip: '198.51.100.1', country_code: null };
    for (let i = 0; i < 6; i++) journal.append(p(i), meta);
    now += 2 * 60_000; // next UTC day
    journal.append(p(6), meta);
    journal.close();
    const names = journalFiles(dir).map((f) => f.slice(dir.length + 1));
    expect(names[0]).toBe('collect-2026-05-01.0.jsonl');
    expect(names.filter((n) => n.startsWith('collect-2026-05-01')).length).toBeGreaterThan(1);
    expect(names.at(-1)).toBe('collect-2026-05-02.0.jsonl');
    for (const f of journalFiles(dir).slice(0, -1)) expect(statSync(f).size).toBeLessThanOrEqual(600);
    expect(statSync(journalFiles(dir)[0]!).mode & 0o777).toBe(0o600);
    // A restart continues the newest part of the day.
    const again = createJournal(dir, { maxBytes: 600, now: () => now });
    again.append(p(7), meta);
    await null; // lines of one turn of the event loop are written together, in a microtask
    expect(journalFiles(dir).length).toBe(names.length);
    appendFileSync(journalFiles(dir).at(-1)!, '{"type":"signup","at":"2026-05-02T00:0');
    const entries = journalFiles(dir).flatMap(readJournal);
    expect(entries.map((e) => (e.type === 'signup' ? e.payload.email : ''))).toEqual(Array.from({ length: 8 }, (_, i) => `j${i}@example.com`));
  });
});

describe('recovery journal after a crash', () => {
  it('a line appended after a torn last line (a crash mid-append) is readable', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'torn');
    const p = (i: number) => ({ id: `client-id-${i}`, site: env.siteId, wisepop_id: 1, email: `t${i}@example.com`, fields: {} });
    const meta = { collected_at: new Date().toISOString(), ip: '198.51.100.1', country_code: null };
    const before = createJournal(dir);
    before.append(p(1), meta);
    before.close();
    // The process died in the middle of writing the next line.
    appendFileSync(journalFiles(dir)[0]!, '{"type":"signup","at":"2026-05-02T00:0');
    const after = createJournal(dir); // the restarted server
    after.append(p(2), meta);
    after.close();
    expect(journalFiles(dir).flatMap(readJournal).map((e) => (e.type === 'signup' ? e.payload.email : ''))).toEqual(['t1@example.com', 't2@example.com']);
  });
});

describe('recovery journal that cannot be written', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });
  const day = () => new Date().toISOString().slice(0, 10);
  const ids = (dir: string) => journalFiles(dir).flatMap(readJournal).map((e) => (e.type === 'signup' ? e.payload.id : ''));

  it('/collect keeps answering 201 and the server stays up; the lines are written once the file can be', async () => {
    const log = captureLog();
    fx = await startFixture({ collectPerMinute: 0 }, log);
    const jdir = join(fx.dir, 'journal');
    const first = collectBody(fx.site);
    expect((await post(`${fx.url}/collect`, first)).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    // The file fails from now on (EISDIR here; ENOSPC or EIO on a real host): the write happens in
    // a microtask after the route answered, where a throw used to end the process.
    const file = join(jdir, `collect-${day()}.0.jsonl`);
    const saved = readFileSync(file);
    rmSync(file);
    mkdirSync(file);
    const during: string[] = [];
    for (let i = 0; i < 5; i++) {
      const body = collectBody(fx.site);
      expect((await post(`${fx.url}/collect`, body)).status).toBe(201);
      during.push(body.id);
    }
    await new Promise((ok) => setTimeout(ok, 20));
    expect(fx.count()).toBe(6);
    // Once per failure streak, not once per line.
    expect(log.lines.filter((l) => l.level === 'error' && l.msg?.startsWith('journal write failed'))).toHaveLength(1);

    // Writable again: the next write carries the kept lines.
    rmSync(file, { recursive: true });
    writeFileSync(file, saved, { mode: 0o600 });
    const after = collectBody(fx.site);
    expect((await post(`${fx.url}/collect`, after)).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    expect(ids(jdir)).toEqual([first.id, ...during, after.id]);
    expect(log.lines.filter((l) => l.level === 'warn' && l.msg?.startsWith('journal writable again'))).toHaveLength(1);
  });

  it('keeps at most KEPT_MAX_LINES, dropping the oldest; a line torn by the failed write does not swallow the next', async () => {
    env = makeEnv();
    const log = captureLog();
    const dir = join(env.dir, 'full');
    const journal = createJournal(dir, { now: () => Date.UTC(2026, 4, 1, 12), log });
    const p = (i: number) => ({ id: `client-id-${i}`, site: env.siteId, wisepop_id: 1, email: `f${i}@example.com`, fields: {} });
    const meta = { collected_at: new Date(Date.UTC(2026, 4, 1, 12)).toISOString(), ip: '198.51.100.1', country_code: null };
    const file = join(dir, 'collect-2026-05-01.0.jsonl');
    mkdirSync(file);
    const total = KEPT_MAX_LINES + 5;
    for (let i = 0; i < total; i++) journal.append(p(i), meta);
    await null;
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.fields.dropped ?? 'failed')).toEqual(['failed', 5]);
    // Writable again, with what a write cut short by a full disk leaves: half a line.
    rmSync(file, { recursive: true });
    writeFileSync(file, '{"type":"signup","at":"2026-05-01T1', { mode: 0o600 });
    journal.append(p(total), meta);
    journal.close();
    const emails = readJournal(file).map((e) => (e.type === 'signup' ? e.payload.email : ''));
    expect(emails).toHaveLength(KEPT_MAX_LINES + 1);
    expect(emails[0]).toBe('f5@example.com');
    expect(emails.at(-1)).toBe(`f${total}@example.com`);
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', fields: { written: KEPT_MAX_LINES, dropped: 5 } });
  });

  it('an erase record that cannot be written is an error for the erasure', () => {
    env = makeEnv();
    const dir = join(env.dir, 'erase');
    const at = Date.UTC(2026, 4, 1, 12);
    mkdirSync(join(dir, 'collect-2026-05-01.0.jsonl'), { recursive: true });
    const journal = createJournal(dir, { now: () => at, log: captureLog() });
    expect(() => journal.appendErasure(env.siteId, 'e@example.com', at)).toThrow(/EISDIR/);
  });
});

describe('retention', () => {
  it('deletes every piece of data of sites inactive for two years, and nothing of active ones', () => {
    env = makeEnv();
    const now = Date.now();
    const old = new Date(now - INACTIVE_MS - 86_400_000).toISOString();
    const dormant = addSite(env.deps.db, env.deps.secret, { domain: 'dormant.example' }).site.id;
    const recentCollect = addSite(env.deps.db, env.deps.secret, { domain: 'quiet-admin.example' }).site.id;
    const recentAdmin = addSite(env.deps.db, env.deps.secret, { domain: 'admin-only.example' }).site.id;
    for (const site of [env.siteId, dormant, recentCollect]) {
      addHook(env.deps, site, 'https://hooks.example.com/' + site);
      signup(env.deps, site, 2);
      env.deps.db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, 1, ?, ?)').run(site, '{}', old);
    }
    // Old activity stamps; recentCollect still collected within the window (its sign-ups are new).
    env.deps.db.prepare('UPDATE sites SET last_active_at = ?, created_at = ? WHERE id IN (?, ?)').run(old, old, dormant, recentCollect);
    env.deps.db.prepare('UPDATE hooks SET created_at = ? WHERE site_id IN (?, ?)').run(old, dormant, recentCollect);
    env.deps.db.prepare('UPDATE signups SET collected_ms = collected_ms - ? WHERE site_id = ?').run(INACTIVE_MS + 86_400_000, dormant);
    // Counted back then too (two days before the two years: a day more covers any time zone).
    env.deps.db.prepare('UPDATE events_daily SET day = ? WHERE site_id = ?').run(new Date(now - INACTIVE_MS - 2 * 86_400_000).toISOString().slice(0, 10), dormant);
    // No sign-up ever and an old stamp, but a campaign imported last week: admin activity.
    env.deps.db.prepare('UPDATE sites SET last_active_at = ?, created_at = ? WHERE id = ?').run(old, old, recentAdmin);
    env.deps.db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, 1, ?, ?)').run(recentAdmin, '{}', new Date(now - 7 * 86_400_000).toISOString());
    const r = runRetention(env.deps.db, { retentionDays: 0, now });
    expect(r.sites).toBe(1);
    for (const table of ['sites WHERE id', 'signups WHERE site_id', 'campaigns WHERE site_id', 'hooks WHERE site_id', 'events_daily WHERE site_id']) {
      expect(count(env, `SELECT COUNT(*) AS n FROM ${table} = ?`, dormant), table).toBe(0);
      expect(count(env, `SELECT COUNT(*) AS n FROM ${table} = ?`, env.siteId), table).toBeGreaterThan(0);
      expect(count(env, `SELECT COUNT(*) AS n FROM ${table} = ?`, recentCollect), table).toBeGreaterThan(0);
    }
    expect(count(env, 'SELECT COUNT(*) AS n FROM hook_deliveries')).toBe(4);
    expect(count(env, 'SELECT COUNT(*) AS n FROM sites WHERE id = ?', recentAdmin)).toBe(1);
  });

  it('a site that only shows popups (no form, no API call, no admin work for two years) is kept while its displays, closes, clicks or goals are counted', () => {
    env = makeEnv();
    const now = Date.now();
    const day = 86_400_000;
    const old = new Date(now - INACTIVE_MS - day).toISOString();
    const kinds = ['displays', 'closes', 'clicks', 'goals'] as const;
    const showing = kinds.map((kind) => {
      const site = addSite(env!.deps.db, env!.deps.secret, { domain: `${kind}.example` }).site.id;
      env!.deps.db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, 1, ?, ?)').run(site, '{}', old);
      // Counted yesterday (UTC): in any site's time zone, within the two years.
      addCounts(env!.deps.db, { site, campaign: 1, day: new Date(now - day).toISOString().slice(0, 10), variant: '' }, { [kind]: 1 });
      return site;
    });
    // The same, but its last display was counted over two years ago (and a day, for any time zone).
    const stopped = addSite(env.deps.db, env.deps.secret, { domain: 'stopped.example' }).site.id;
    env.deps.db.prepare('INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, 1, ?, ?)').run(stopped, '{}', old);
    addCounts(env.deps.db, { site: stopped, campaign: 1, day: new Date(now - INACTIVE_MS - 2 * day).toISOString().slice(0, 10), variant: '' }, { displays: 1 });
    env.deps.db.prepare('UPDATE sites SET last_active_at = ?, created_at = ? WHERE id != ?').run(old, old, env.siteId);
    expect(runRetention(env.deps.db, { retentionDays: 0, now }).sites).toBe(1);
    expect(env.deps.db.prepare('SELECT id FROM sites WHERE id != ? ORDER BY id').pluck().all(env.siteId)).toEqual([...showing].sort());
    for (const site of showing) expect(count(env, 'SELECT COUNT(*) AS n FROM campaigns WHERE site_id = ?', site)).toBe(1);
  });

  it('drops sign-ups and daily events older than the window, and old sent deliveries', () => {
    env = makeEnv();
    const now = Date.now();
    const day = 86_400_000;
    addHook(env.deps, env.siteId, 'https://hooks.example.com/x');
    signup(env.deps, env.siteId, 3);
    env.deps.db.prepare("UPDATE hook_deliveries SET status = 'sent', sent_ms = ? WHERE id = 1").run(now - 31 * day);
    env.deps.db.prepare("UPDATE hook_deliveries SET status = 'sent', sent_ms = ? WHERE id = 2").run(now - day);
    env.deps.db.prepare('UPDATE signups SET collected_ms = ? WHERE seq = 3').run(now - 400 * day);
    addCounts(env.deps.db, { site: env.siteId, campaign: 1, day: new Date(now - 400 * day).toISOString().slice(0, 10), variant: '' }, { displays: 4 });
    addCounts(env.deps.db, { site: env.siteId, campaign: 1, day: new Date(now - 10 * day).toISOString().slice(0, 10), variant: '' }, { displays: 4 });
    const r = runRetention(env.deps.db, { retentionDays: 365, now });
    expect(r).toMatchObject({ sites: 0, signups: 1, deliveries: 1, journalFiles: 0 });
    expect(r.events).toBeGreaterThanOrEqual(1);
    expect(count(env, 'SELECT COUNT(*) AS n FROM signups')).toBe(2);
    expect(count(env, 'SELECT COUNT(*) AS n FROM events_daily WHERE displays = 4')).toBe(1);
  });

  it('deletes a journal file only once the oldest kept backup was taken after its last line; without backups, after the retention period', () => {
    env = makeEnv();
    const now = Date.UTC(2026, 10, 23, 15, 0);
    const day = 86_400_000;
    const jdir = join(env.dir, 'journal');
    const bdir = join(env.dir, 'backups');
    mkdirSync(jdir, { recursive: true });
    mkdirSync(bdir, { recursive: true });
    const utc = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    for (const ago of [400, 20, 9, 1, 0]) writeFileSync(join(jdir, `collect-${utc(now - ago * day)}.0.jsonl`), '');
    const left = () => journalFiles(jdir).map((f) => f.slice(-'2026-11-23.0.jsonl'.length, -'.0.jsonl'.length));
    const name = (ms: number) => join(bdir, `poplet-${new Date(ms).toISOString().replace(/[-:.]/g, '')}.sqlite`);
    const backupAt = (ms: number) => writeFileSync(name(ms), '');
    const prune = (retentionDays: number) => runRetention(env.deps.db, { retentionDays, journalDir: jdir, backupDir: bdir, now }).journalFiles;

    // No backup at all: nothing a restore could start from, so every file stays but those whose
    // sign-ups the retention period deletes anyway.
    expect(prune(0)).toBe(0);
    expect(prune(365)).toBe(1);
    expect(left()).toEqual([utc(now - 20 * day), utc(now - 9 * day), utc(now - day), utc(now)]);
    // A backup taken on the 9-days-ago day covers the files before that day, not that day's own.
    backupAt(now - 9 * day);
    expect(prune(365)).toBe(1);
    expect(left()).toEqual([utc(now - 9 * day), utc(now - day), utc(now)]);
    // A newer backup, taken at midnight right after yesterday, covers nothing more while the
    // older one is kept: restoring that one needs every file since.
    backupAt(Date.parse(`${utc(now)}T00:00:00Z`));
    expect(prune(365)).toBe(0);
    expect(left()).toEqual([utc(now - 9 * day), utc(now - day), utc(now)]);
    // Once it rotates out, the oldest kept one covers yesterday and the day 9 days ago.
    rmSync(name(now - 9 * day));
    expect(prune(365)).toBe(2);
    expect(left()).toEqual([utc(now)]);
    // Today's file is never covered while the day runs, whatever the backup.
    backupAt(now);
    expect(prune(365)).toBe(0);
  });

  it('the daily job keeps journal files no backup covers (the default 7-backup setting used to delete them after 8 days), and warns when the server takes no backups', async () => {
    env = makeEnv({ POPLET_BACKUP_EVERY: '0' });
    const log = captureLog();
    env.deps.log = log;
    const day = 86_400_000;
    const jdir = env.deps.config.journalDir;
    mkdirSync(jdir, { recursive: true });
    const names = [20, 9].map((ago) => `collect-${new Date(Date.now() - ago * day).toISOString().slice(0, 10)}.0.jsonl`);
    for (const n of names) writeFileSync(join(jdir, n), '');
    const job = startRetentionJob(env.deps);
    await new Promise((ok) => setTimeout(ok, 1300)); // its first run is a second after start
    job.stop();
    expect(journalFiles(jdir).map((f) => f.slice(jdir.length + 1))).toEqual(names);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', msg: expect.stringMatching(/^no backup/), fields: { backupDir: env.deps.config.backupDir, newestBackup: null } },
    ]);
  });

  it('warns when the newest backup is over a day old, or there is none', () => {
    env = makeEnv();
    const bdir = join(env.dir, 'backups');
    const now = Date.UTC(2026, 10, 23, 15, 0);
    expect(backupWarning(bdir, now)).toEqual({ fields: { backupDir: bdir, newestBackup: null }, msg: expect.stringMatching(/^no backup: schedule `poplet backup` daily/) });
    mkdirSync(bdir);
    writeFileSync(join(bdir, 'poplet-20261122T030000000Z.sqlite'), '');
    expect(backupWarning(bdir, now)).toEqual({
      fields: { backupDir: bdir, newestBackup: '2026-11-22T03:00:00.000Z' },
      msg: expect.stringMatching(/^the newest backup is over a day old/),
    });
    writeFileSync(join(bdir, 'poplet-20261123T030000000Z.sqlite'), '');
    expect(backupWarning(bdir, now)).toBeNull();
  });
});
