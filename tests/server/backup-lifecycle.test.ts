// Backups as the policy states them ("backed up every day, and stored for 7 days"): taken by the
// server itself, rotated by age rather than by count, with the journal still covering the oldest
// one kept; and the copy `restore` keeps of the database it replaced, which lives as long as a
// backup. Real files, real SQLite; times are given, never waited for.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/server/config';
import { backup, backupDue, backupTime, beforeRestorePath, listBackups, restore, startBackupJob } from '../../src/server/lifecycle/backup';
import { eraseEmail } from '../../src/server/lifecycle/erase';
import { createJournal, journalFiles } from '../../src/server/lifecycle/journal';
import { replay } from '../../src/server/lifecycle/replay';
import { backupWarning, runRetention } from '../../src/server/lifecycle/retention';
import { insertSignups } from '../../src/server/store/signups';
import { captureLog, startFixture, type Fixture } from './fixture';
import { makeEnv, signup, waitFor, type Env } from './hooks-fixture';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let env: Env | undefined;
let fx: Fixture | undefined;
afterEach(async () => {
  vi.useRealTimers();
  env?.cleanup();
  env = undefined;
  await fx?.close();
  fx = undefined;
});

const at = (ms: number) => new Date(ms);
const names = (files: string[]) => files.map((f) => new Date(backupTime(f)).toISOString());

/** Files a killed process left, last touched two hours ago (older than the hour a live one gets). */
function leaveOld(files: string[]): void {
  const old = new Date(Date.now() - 2 * HOUR);
  for (const f of files) {
    writeFileSync(f, 'every sign-up, erased ones included');
    utimesSync(f, old, old);
  }
}

describe('rotation keeps 7 days of backups, not 7 files', () => {
  it('keeps every backup of the last 7 days however many a day was taken, and none older', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 3);
    const dir = join(env.dir, 'backups');
    const day1 = Date.UTC(2026, 0, 1);
    const taken: number[] = [];
    // The daily 03:00 one, one before an upgrade at noon, one by hand in the evening.
    for (let d = 0; d < 9; d++) for (const h of [3, 12, 20]) taken.push(day1 + d * DAY + h * HOUR);
    for (const t of taken) await backup(env.deps, dir, 7, at(t));
    const last = taken.at(-1)!;
    expect(names(listBackups(dir))).toEqual(names(taken.filter((t) => last - t < 7 * DAY - HOUR).map((t) => `poplet-${at(t).toISOString().replace(/[-:.]/g, '')}.sqlite`)));
    // 7 whole days back: the 03:00 backup of 6 days before the last is there.
    expect(listBackups(dir).map(backupTime)).toContain(day1 + 2 * DAY + 3 * HOUR);
    expect(listBackups(dir)).toHaveLength(21);
  });

  it('taken every 3 days: keeps the 7 newest, older than 7 days as some are, never fewer than 7', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'backups');
    const day1 = Date.UTC(2026, 0, 1, 3);
    for (let d = 0; d <= 27; d += 3) await backup(env.deps, dir, 7, at(day1 + d * DAY));
    expect(listBackups(dir).map(backupTime)).toEqual([9, 12, 15, 18, 21, 24, 27].map((d) => day1 + d * DAY));
  });

  it('a server back after 15 days down, on an empty database (volume not mounted): its backup deletes no more good ones than leaves 7, and the journal still covers the oldest good one', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 5);
    const dir = env.deps.config.backupDir;
    const jdir = env.deps.config.journalDir;
    mkdirSync(jdir, { recursive: true });
    const day1 = Date.UTC(2026, 0, 1, 3);
    const good: string[] = [];
    for (let d = 0; d < 7; d++) {
      good.push(await backup(env.deps, dir, 7, at(day1 + d * DAY)));
      writeFileSync(join(jdir, `collect-${at(day1 + d * DAY).toISOString().slice(0, 10)}.0.jsonl`), '');
    }
    // 15 days later the server starts on an empty database and takes its backup a minute after.
    const empty = makeEnv();
    try {
      const back = day1 + 6 * DAY + 15 * DAY + 60_000;
      const bad = await backup(empty.deps, dir, 7, at(back));
      const kept = listBackups(dir);
      expect(kept).toHaveLength(7);
      expect(kept).toEqual([...good.slice(1), bad]);
      const rows = (f: string) => {
        const db = new Database(f, { readonly: true });
        try {
          return db.prepare('SELECT COUNT(*) FROM signups').pluck().get();
        } finally {
          db.close();
        }
      };
      expect(kept.slice(0, 6).map(rows)).toEqual([5, 5, 5, 5, 5, 5]);
      expect(rows(bad)).toBe(0);
      // The retention job on the empty database: the oldest kept backup is a good one, and the
      // journal since it is kept for a replay on top of it.
      runRetention(empty.deps.db, { retentionDays: 730, journalDir: jdir, backupDir: dir, now: back });
      const left = journalFiles(jdir).map((f) => f.slice(jdir.length + 1));
      expect(left).toContain(`collect-${at(day1 + DAY).toISOString().slice(0, 10)}.0.jsonl`);
      expect(left).toHaveLength(6);
    } finally {
      empty.cleanup();
    }
  });

  it('a daily backup that runs a little early still replaces the one of a week before; one more by hand that day adds to them', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'backups');
    const first = Date.UTC(2026, 0, 1, 3, 0, 5);
    for (let d = 0; d < 8; d++) await backup(env.deps, dir, 7, at(first + d * DAY - d * 1000));
    expect(listBackups(dir)).toHaveLength(7);
    await backup(env.deps, dir, 7, at(first + 7 * DAY + 9 * HOUR));
    expect(listBackups(dir)).toHaveLength(8);
  });

  it('deletes what a backup killed with SIGKILL leaves (.partial, .partial-journal, .partial-wal), at the next backup and at server start', async () => {
    env = makeEnv();
    const dir = env.deps.config.backupDir;
    mkdirSync(dir, { recursive: true });
    const leftovers = ['', '-journal', '-wal', '-shm'].map((x) => join(dir, `poplet-20260101T030000000Z.sqlite.partial${x}`));
    const leave = () => leaveOld(leftovers);
    leave();
    const fresh = join(dir, 'poplet-20260101T040000000Z.sqlite.partial-journal');
    writeFileSync(fresh, 'another process writing');
    // At start, before any backup is due (and with backups off).
    const job = startBackupJob(env.deps, { firstDelayMs: HOUR });
    await job.stop();
    expect(leftovers.filter(existsSync)).toEqual([]);
    expect(existsSync(fresh)).toBe(true);
    leave();
    const off = { ...env.deps, config: { ...env.deps.config, backupEveryHours: 0 } };
    await startBackupJob(off).stop();
    expect(leftovers.filter(existsSync)).toEqual([]);
    leave();
    await backup(env.deps, dir);
    expect(leftovers.filter(existsSync)).toEqual([]);
    expect(existsSync(fresh)).toBe(true);
  });

  it('deletes what a restore killed midway leaves (the backup being copied in, the kept copy being written), at server start and at the next backup', async () => {
    env = makeEnv();
    const dbPath = env.deps.config.dbPath;
    // What `poplet restore` killed during its copy of the database leaves (seen with kill -9 and a 110 MB database).
    const leftovers = [`${dbPath}.restoring`, ...['', '-journal', '-wal', '-shm'].map((x) => `${beforeRestorePath(dbPath)}.partial${x}`)];
    const leave = () => leaveOld(leftovers);
    leave();
    await startBackupJob({ ...env.deps, config: { ...env.deps.config, backupEveryHours: 0 } }).stop();
    expect(leftovers.filter(existsSync)).toEqual([]);
    leave();
    // A restore running now (touched under an hour ago) is left alone.
    const running = `${dbPath}.restoring`;
    utimesSync(running, new Date(), new Date());
    await backup(env.deps, env.deps.config.backupDir);
    expect(leftovers.filter(existsSync)).toEqual([running]);
  });

  it('deletes the .partial file of a backup that died, not the one another process is writing', async () => {
    env = makeEnv();
    const dir = join(env.dir, 'backups');
    await backup(env.deps, dir);
    const dead = join(dir, 'poplet-20260101T030000000Z.sqlite.partial');
    const writing = join(dir, 'poplet-20260101T040000000Z.sqlite.partial');
    writeFileSync(dead, 'every sign-up');
    writeFileSync(writing, 'every sign-up');
    utimesSync(dead, new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR));
    await backup(env.deps, dir);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(writing)).toBe(true);
  });

  it('a stopped backup leaves no partial file and no backup', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 20);
    const dir = join(env.dir, 'backups');
    const stop = new AbortController();
    const running = backup(env.deps, dir, 7, new Date(), { signal: stop.signal });
    stop.abort();
    await expect(running).rejects.toThrow(/stopped/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the journal still covers the oldest kept backup', () => {
  it('over 10 days of sign-ups, two backups a day and an erasure: restoring the oldest kept backup, of 6 and a half days before, and replaying gives every sign-up back, the erased one excepted', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2026, 2, 1, 10);
    vi.setSystemTime(start);
    env = makeEnv();
    const { db } = env.deps;
    const jdir = env.deps.config.journalDir;
    const bdir = env.deps.config.backupDir;
    const journal = createJournal(jdir);
    let n = 0;
    const collect = async (email: string) => {
      const id = `client-${++n}-${randomBytes(4).toString('hex')}`;
      const [r] = insertSignups(db, [{ site_id: env!.siteId, client_id: id, email, wisepop_id: 7, ip: '203.0.113.9', country_code: null, other_fields: {}, consent: null, variant: null }], Date.now());
      journal.append({ id, site: env!.siteId, wisepop_id: 7, email, fields: {} }, { collected_at: r!.row!.collected_at, ip: '203.0.113.9', country_code: null });
      await null; // journal lines are written in a microtask
    };
    for (let d = 0; d < 10; d++) {
      vi.setSystemTime(start + d * DAY);
      await collect(`day${d}-a@example.com`);
      await collect(`day${d}-b@example.com`);
      // Erased on day 6, after the backup of that morning: the oldest backup kept at the end holds it.
      if (d === 6) await eraseEmail(db, env.siteId, 'day2-a@example.com', jdir);
      vi.setSystemTime(start + d * DAY + 5 * HOUR); // 15:00: a backup by hand
      await backup(env.deps, bdir, 7);
      vi.setSystemTime(start + (d + 1) * DAY - 7 * HOUR); // 03:00 the next day: the daily one
      await backup(env.deps, bdir, 7);
      runRetention(db, { retentionDays: 730, journalDir: jdir, backupDir: bdir, now: Date.now() });
    }
    journal.close();
    const expected = (db.prepare('SELECT email FROM signups ORDER BY email').pluck().all() as string[]);
    expect(expected).toHaveLength(19);
    // The journal was pruned: it does not go back to the first day any more.
    expect(journalFiles(jdir).length).toBeLessThan(10);
    const oldest = listBackups(bdir)[0]!;
    expect(backupTime(oldest)).toBe(start + 3 * DAY + 5 * HOUR); // the 15:00 one of 6 and a half days before

    vi.useRealTimers();
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    restore(oldest, dbPath);
    env.reopen();
    expect(replay(env.deps, jdir)).toMatchObject({ erased: 1 });
    expect(env.deps.db.prepare('SELECT email FROM signups ORDER BY email').pluck().all()).toEqual(expected);
  });
});

describe('the copy restore keeps', () => {
  it('holds only the live rows of the database it replaced, not an erased address its file still held', async () => {
    env = makeEnv();
    const victim = 'erased.not.purged@example.net';
    insertSignups(env.deps.db, [{ site_id: env.siteId, client_id: randomBytes(10).toString('base64url'), email: victim, wisepop_id: 7, ip: '203.0.113.9', country_code: null, other_fields: { phone: '+1 555 0142 7777' }, consent: null, variant: null }]);
    const stay = signup(env.deps, env.siteId, 30);
    const file = await backup(env.deps, env.deps.config.backupDir);
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    // Deleted without secure_delete (an older Poplet, a tool) and not purged: the bytes stay in the file.
    const raw = new Database(dbPath);
    raw.prepare('DELETE FROM signups WHERE email = ?').run(victim);
    raw.close();
    expect(readFileSync(dbPath).includes(victim)).toBe(true);
    const warnings: string[] = [];
    expect(restore(file, dbPath, new Date(), (m) => warnings.push(m))).toEqual({ kept: 'vacuum' });
    expect(warnings).toEqual([]);
    const kept = readFileSync(beforeRestorePath(dbPath));
    expect(kept.includes(victim)).toBe(false);
    expect(kept.includes('+1 555 0142 7777')).toBe(false);
    expect(kept.includes(stay[0]!)).toBe(true);
    expect(statSync(beforeRestorePath(dbPath)).mode & 0o777).toBe(0o600);
    const db = new Database(beforeRestorePath(dbPath), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(30);
    db.close();
    env.reopen();
  });

  it('of a corrupt database is a raw copy, and restore says so', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 3);
    const file = await backup(env.deps, env.deps.config.backupDir);
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    rmSync(`${dbPath}-wal`, { force: true });
    rmSync(`${dbPath}-shm`, { force: true });
    const junk = Buffer.concat([Buffer.from('not a database '), randomBytes(8192)]);
    writeFileSync(dbPath, junk);
    const warnings: string[] = [];
    expect(restore(file, dbPath, new Date(), (m) => warnings.push(m))).toMatchObject({ kept: 'raw' });
    expect(warnings).toEqual([expect.stringMatching(/raw copy/)]);
    expect(readFileSync(beforeRestorePath(dbPath)).equals(junk)).toBe(true);
    expect(statSync(beforeRestorePath(dbPath)).mode & 0o777).toBe(0o600);
    env.reopen();
    expect(env.deps.db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(3);
  });

  it('lives as long as a backup: the journal since the restore is kept for it, and the retention job deletes it once 7 days old', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 3);
    const bdir = env.deps.config.backupDir;
    const jdir = env.deps.config.journalDir;
    const restoredAt = Date.UTC(2026, 10, 10, 14);
    const file = await backup(env.deps, bdir, 7, at(restoredAt - 11 * HOUR));
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    restore(file, dbPath, at(restoredAt));
    env.reopen();
    expect(existsSync(beforeRestorePath(dbPath))).toBe(true);
    // The server ran on: backups of the following days replace the one restored from.
    for (let d = 1; d <= 8; d++) await backup(env.deps, bdir, 7, at(Date.UTC(2026, 10, 10 + d, 3)));
    // The restore's day's journal: replaying on top of the kept copy needs it.
    mkdirSync(jdir, { recursive: true });
    writeFileSync(join(jdir, 'collect-2026-11-10.0.jsonl'), '');
    const retention = (now: number) => runRetention(env!.deps.db, { retentionDays: 730, journalDir: jdir, backupDir: bdir, dbPath, backupKeepDays: 7, now });

    expect(retention(restoredAt + 6 * DAY)).toMatchObject({ beforeRestore: false, journalFiles: 0 });
    expect(existsSync(beforeRestorePath(dbPath))).toBe(true);
    expect(journalFiles(jdir).map((f) => f.slice(jdir.length + 1))).toContain('collect-2026-11-10.0.jsonl');

    expect(retention(restoredAt + 7 * DAY)).toMatchObject({ beforeRestore: true, journalFiles: 1 });
    expect(existsSync(beforeRestorePath(dbPath))).toBe(false);
  });
});

describe('the server takes its own backups', () => {
  it('POPLET_BACKUP_EVERY: hours, 24 by default, off or 0 for none; POPLET_BACKUP_KEEP: days, at least 1', () => {
    expect(loadConfig({}).backupEveryHours).toBe(24);
    expect(loadConfig({ POPLET_BACKUP_EVERY: '6' }).backupEveryHours).toBe(6);
    expect(loadConfig({ POPLET_BACKUP_EVERY: 'off' }).backupEveryHours).toBe(0);
    expect(loadConfig({ POPLET_BACKUP_EVERY: '0' }).backupEveryHours).toBe(0);
    expect(() => loadConfig({ POPLET_BACKUP_EVERY: 'daily' })).toThrow(/POPLET_BACKUP_EVERY/);
    expect(() => loadConfig({ POPLET_BACKUP_KEEP: '0' })).toThrow(/POPLET_BACKUP_KEEP/);
  });

  it('is due when the newest backup (anyone\'s) is that old, at once when there is none', () => {
    const now = Date.UTC(2026, 10, 23, 15);
    expect(backupDue(undefined, DAY, now)).toBe(now);
    expect(backupDue(now - 23 * HOUR, DAY, now)).toBe(now + HOUR);
    expect(backupDue(now - 25 * HOUR, DAY, now)).toBe(now - HOUR);
  });

  it('a backup named in the future (the clock ran ahead, then was set right) holds off no backup nor warning, covers no journal file, and goes once 7 backups named on the right clock remain', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 3);
    const dir = env.deps.config.backupDir;
    const jdir = env.deps.config.journalDir;
    const now = Date.now();
    const ahead = await backup(env.deps, dir, 7, at(now + 365 * DAY));
    // The server's job takes one at once, as with none.
    const job = startBackupJob(env.deps, { firstDelayMs: 0 });
    await waitFor(() => listBackups(dir).length === 2, 10_000, 'a backup beside the one named a year ahead');
    await job.stop();
    expect(listBackups(dir).at(-1)).toBe(ahead);
    // Late backups are warned about: the one ahead is no recent backup.
    rmSync(listBackups(dir)[0]!);
    expect(backupWarning(dir, now, 0)).toMatchObject({ msg: expect.stringMatching(/^no backup/) });
    const late = await backup(env.deps, dir, 7, at(now - 26 * HOUR));
    expect(backupWarning(dir, now, 24)).toMatchObject({ msg: expect.stringMatching(/^the newest backup is over 24 hours old/) });
    rmSync(late);
    // Today's journal is in no backup: the one named ahead was taken before now, at a time nothing tells.
    mkdirSync(jdir, { recursive: true });
    const today = join(jdir, `collect-${at(now).toISOString().slice(0, 10)}.0.jsonl`);
    writeFileSync(today, '');
    expect(runRetention(env.deps.db, { retentionDays: 730, journalDir: jdir, backupDir: dir, now })).toMatchObject({ journalFiles: 0 });
    expect(existsSync(today)).toBe(true);
    // Daily backups on the right clock: the one ahead, which holds what was erased since it was
    // taken, goes with the 7th, not a year and 7 days later; never leaving fewer than 7.
    for (let d = 0; d < 6; d++) await backup(env.deps, dir, 7, at(now + d * DAY));
    expect(listBackups(dir)).toHaveLength(7);
    expect(listBackups(dir)).toContain(ahead);
    await backup(env.deps, dir, 7, at(now + 6 * DAY));
    expect(listBackups(dir)).toHaveLength(7);
    expect(listBackups(dir)).not.toContain(ahead);
  });

  it('writes a backup without cron, and says at start where backups go', async () => {
    env = makeEnv();
    signup(env.deps, env.siteId, 5);
    const log = captureLog();
    env.deps.log = log;
    const job = startBackupJob(env.deps, { firstDelayMs: 0 });
    await waitFor(() => listBackups(env!.deps.config.backupDir).length === 1, 10_000, 'the first backup');
    await job.stop();
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'backup written', fields: expect.objectContaining({ file: listBackups(env.deps.config.backupDir)[0] }) }));

    const started = captureLog();
    fx = await startFixture({}, started);
    expect(started.lines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^backups: taken by the server; copy the folder to other storage/), fields: expect.objectContaining({ everyHours: 24, keepDays: 7 }) }));
  });

  it('warns when the server\'s backups are late, not before the first one', () => {
    env = makeEnv();
    const bdir = join(env.dir, 'backups');
    const now = Date.UTC(2026, 10, 23, 15);
    const only = (t: number) => {
      rmSync(bdir, { recursive: true, force: true });
      mkdirSync(bdir);
      writeFileSync(join(bdir, `poplet-${at(t).toISOString().replace(/[-:.]/g, '')}.sqlite`), '');
    };
    // None yet: the first one is a minute after the first start.
    expect(backupWarning(bdir, now, 24)).toBeNull();
    only(now - 24 * HOUR);
    expect(backupWarning(bdir, now, 24)).toBeNull();
    only(now - 26 * HOUR);
    expect(backupWarning(bdir, now, 24)).toMatchObject({ msg: expect.stringMatching(/^the newest backup is over 24 hours old: the server's backups are failing/) });
  });
});
