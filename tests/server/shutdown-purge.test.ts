// Shutdown runs no VACUUM and does not wait on a reader holding the WAL; the server's start waits
// for a `poplet purge` holding the database; closing visitor days records a purge.
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPurger, markPurgeDue, pendingPurge, purgerFor, startPurgeJob } from '../../src/server/lifecycle/purge';
import { startServer, type RunningServer } from '../../src/server/main';
import { openDb } from '../../src/server/store/db';
import { closeVisitorDays, openVisitorDay } from '../../src/server/store/events';
import { insertSignups } from '../../src/server/store/signups';
import { addSite } from '../../src/server/store/sites';
import { loadSecret } from '../../src/server/store/keys';
import { apiAuth, captureLog, person, startFixture, watchVacuums, type Fixture } from './fixture';
import { makeEnv, waitFor, type Env } from './hooks-fixture';

let env: Env | undefined;
let fx: Fixture | undefined;
let server: RunningServer | undefined;
const readers: Database.Database[] = [];
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const r of readers.splice(0)) if (r.open) r.close();
  await fx?.close();
  fx = undefined;
  await server?.close();
  server = undefined;
  env?.cleanup();
  env = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Another connection in a read transaction: the WAL cannot be truncated until it ends. */
function holdWal(path: string): Database.Database {
  const r = new Database(path);
  readers.push(r);
  r.exec('BEGIN');
  r.prepare('SELECT COUNT(*) FROM purge_due').pluck().get();
  return r;
}

const recorded = (db: Database.Database) => db.prepare('SELECT COUNT(*) FROM purge_due').pluck().get() as number;

describe('shutdown and purges', () => {
  it('flush() drops a purge waiting for its turn: no VACUUM, the request rejects, the record stays', async () => {
    env = makeEnv();
    const { db } = env.deps;
    markPurgeDue(db, 'erasure', 0);
    const reader = holdWal(env.deps.config.dbPath);
    const vacuums = watchVacuums();
    const purger = createPurger(db);
    const asked = purger.purge();
    asked.catch(() => undefined);
    await purger.flush();
    await expect(asked).rejects.toThrow(/stopping/);
    expect(vacuums).toHaveLength(0);
    await expect(purger.purge()).rejects.toThrow(/stopping/);
    expect(vacuums).toHaveLength(0);
    reader.close();
    expect(recorded(db)).toBe(1);
  });

  it('the purge job\'s stop() with a purge running (waiting on a reader for the WAL) and another waiting returns while the reader still reads, runs no further VACUUM, and the records stay', async () => {
    env = makeEnv();
    const { db } = env.deps;
    markPurgeDue(db, 'erasure', 0);
    const reader = holdWal(env.deps.config.dbPath);
    const vacuums = watchVacuums();
    const job = startPurgeJob(env.deps, { checkMs: 60_000 });
    const purger = purgerFor(db);
    await waitFor(() => vacuums.length === 1 && purger.busy, 10_000, 'the purge waiting for the WAL');
    // An erasure meanwhile: recorded, and asking for a purge that waits for the running one.
    markPurgeDue(db, 'erasure', 0);
    const second = purger.purge();
    second.catch(() => undefined);
    await job.stop();
    expect(reader.inTransaction).toBe(true);
    await expect(second).rejects.toThrow(/stopping/);
    expect(vacuums).toHaveLength(1);
    expect(purger.busy).toBe(false);
    reader.close();
    // Neither record was cleared: the WAL may hold what was deleted; the next start purges.
    expect(pendingPurge(db)?.count).toBe(2);
  }, 20_000);

  it('POPLET_PURGE_WITHIN=0: an erasure awaiting its purge when the server stops gets a 503 with Retry-After, and the purge stays recorded', async () => {
    fx = await startFixture({ purgeWithinMinutes: 0, collectPerMinute: 0 });
    insertSignups(fx.db, [person(fx.site, 'stopping@example.net')]);
    const reader = holdWal(join(fx.dir, 'poplet.db'));
    const purger = purgerFor(fx.server.deps.db);
    const answer = fetch(`${fx.url}/api1/emails?email=stopping@example.net`, { method: 'DELETE', headers: apiAuth(fx.key) });
    await waitFor(() => purger.busy, 10_000, 'the erasure\'s purge waiting for the WAL');
    const closed = fx.server.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    await closed;
    reader.close();
    expect(recorded(fx.db)).toBeGreaterThan(0);
    expect(fx.count()).toBe(0);
  }, 20_000);

  it('the server waits at start for another process holding the database exclusively (`poplet purge`), then starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-locked-'));
    dirs.push(dir);
    const dbPath = join(dir, 'poplet.db');
    const setup = openDb(dbPath);
    addSite(setup, loadSecret(dir, {}), { domain: 'shop.example' });
    setup.close();
    // As purge.ts's tryExclusive holds it through `poplet purge`'s VACUUM.
    const holder = new Database(dbPath);
    readers.push(holder);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    holder.exec('COMMIT');
    const log = captureLog();
    let failed: unknown;
    const starting = startServer({ dataDir: dir, dbPath, host: '127.0.0.1', port: 0, logRequests: false }, log).then(
      (s) => (server = s),
      (e: unknown) => void (failed = e),
    );
    await waitFor(() => failed !== undefined || log.lines.some((l) => /another process holds the database/.test(l.msg ?? '')), 30_000, 'the server waiting for the lock');
    expect(failed).toBeUndefined();
    expect(log.lines.filter((l) => /another process holds the database/.test(l.msg ?? ''))).toHaveLength(1);
    holder.close();
    await starting;
    expect(failed).toBeUndefined();
    expect(server).toBeDefined();
    expect(server!.deps.db.prepare('SELECT COUNT(*) FROM sites').pluck().get()).toBe(1);
  }, 60_000);

  it('closing visitor days records a purge due when it deletes keys, in the same transaction; none when it deletes none', () => {
    env = makeEnv();
    const { db } = env.deps;
    openVisitorDay(db, env.siteId, '2026-01-01');
    expect(closeVisitorDays(db, Date.now())).toBe(1);
    expect(db.prepare('SELECT reason FROM purge_due').pluck().all()).toEqual(['visitor-days']);
    expect(closeVisitorDays(db, Date.now())).toBe(0);
    expect(recorded(db)).toBe(1);
  });
});
