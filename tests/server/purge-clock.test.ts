// A purge recorded while the clock ran ahead (an erasure, a retention run), the clock then stepped
// back: the purge must still run within POPLET_PURGE_WITHIN of now, not once the clock catches up
// with the time it was recorded at (the policy promises two working days).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eraseRows } from '../../src/server/lifecycle/erase';
import { markPurgeDue, pendingPurge } from '../../src/server/lifecycle/purge';
import { insertSignups } from '../../src/server/store/signups';
import { startServer, type RunningServer } from '../../src/server/main';
import { openDb } from '../../src/server/store/db';
import { dbBytes, found, person } from './fixture';
import { makeEnv, waitFor, type Env } from './hooks-fixture';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let env: Env | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
  env?.cleanup();
  env = undefined;
});

describe('a purge recorded while the clock ran ahead', () => {
  it('is due within its window of now once the clock is back', () => {
    env = makeEnv();
    const now = Date.now();
    markPurgeDue(env.deps.db, 'erasure', HOUR, now + 30 * DAY);
    const p = pendingPurge(env.deps.db, HOUR, now)!;
    expect(p.dueAt).toBeLessThanOrEqual(now + HOUR);
    expect(p.since).toBeLessThanOrEqual(now);
    // Without the reader's window too (`poplet erase` in an environment with none set).
    expect(pendingPurge(env.deps.db, Infinity, now)!.dueAt).toBeLessThanOrEqual(now + HOUR);
    // A record made at the right time keeps its own due time.
    const db = env.deps.db;
    db.prepare('DELETE FROM purge_due').run();
    markPurgeDue(db, 'erasure', HOUR, now - 10 * 60_000);
    expect(pendingPurge(db, HOUR, now)!.dueAt).toBe(now + 50 * 60_000);
  });

  it('is run by the server at start when its window is over, though the record says a month from now', async () => {
    env = makeEnv();
    const victim = 'ahead.of.time@example.net';
    insertSignups(env.deps.db, [person(env.siteId, victim, { phone: '+1 555 0100 9999' })]);
    const ahead = Date.now() + 30 * DAY;
    vi.spyOn(Date, 'now').mockReturnValue(ahead);
    eraseRows(env.deps.db, env.siteId, victim, 0);
    vi.restoreAllMocks();
    const dbPath = env.deps.config.dbPath;
    env.deps.db.close();
    server = await startServer({ ...env.deps.config, port: 0, host: '127.0.0.1', logRequests: false, backupEveryHours: 0, purgeWithinMinutes: 0, purgeCheckMs: 50 }, env.deps.log);
    const db = openDb(dbPath);
    try {
      await waitFor(() => pendingPurge(db) === undefined, 10_000);
    } finally {
      db.close();
    }
    await server.close();
    server = undefined;
    expect(found(dbBytes(dbPath), [victim, '+1 555 0100 9999'])).toEqual([]);
    env.reopen();
  });
});
