// When the next purge may run: spaced by four times the last VACUUM's own duration (a failed wait
// for the WAL after it does not widen that), a failed purge retried by the job a minute after it
// failed, doubling up to an hour, the backoff reset by a success. No timed assertion: the clock
// and the timers are vitest's fake ones, and a VACUUM "takes" the time the test says by moving
// the fake clock while it runs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { CHECKPOINT_WAIT_MS, createPurger, markPurgeDue, pendingPurge, startPurgeJob, type PurgeJob } from '../../src/server/lifecycle/purge';
import { captureLog } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

let env: Env | undefined;
let job: PurgeJob | undefined;
const others: Database.Database[] = [];
afterEach(async () => {
  await job?.stop();
  job = undefined;
  for (const o of others.splice(0)) {
    if (o.inTransaction) o.exec('ROLLBACK');
    o.close();
  }
  vi.useRealTimers();
  vi.restoreAllMocks();
  env?.cleanup();
  env = undefined;
});

/** Fake Date and timers from T0; the database is opened before, on real ones. */
function fakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
}

/**
 * Every VACUUM from now on appears to take `ms` (the fake clock moves by it); returns when each one
 * that succeeded ended (`ended`) and when each one was started (`started`, failed ones included).
 */
function vacuumsTaking(ms: number): { started: number[]; ended: number[] } {
  const started: number[] = [];
  const ended: number[] = [];
  const exec = Database.prototype.exec;
  vi.spyOn(Database.prototype, 'exec').mockImplementation(function (this: Database.Database, sql: string) {
    const vacuum = /^\s*VACUUM\s*$/i.test(sql);
    if (vacuum) started.push(Date.now());
    const r = exec.call(this, sql);
    if (vacuum) {
      vi.setSystemTime(Date.now() + ms);
      ended.push(Date.now());
    }
    return r;
  });
  return { started, ended };
}

/** Another connection: in a read transaction (the WAL cannot be emptied) or holding the write lock. */
function other(path: string, hold: 'read' | 'write'): Database.Database {
  const o = new Database(path);
  others.push(o);
  if (hold === 'read') {
    o.exec('BEGIN');
    o.prepare('SELECT COUNT(*) FROM purge_due').pluck().get();
  } else {
    o.exec('BEGIN IMMEDIATE');
  }
  return o;
}

/** Fires the fake timers one by one (the clock jumps to each) until `done`. */
async function runUntil(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; !done(); i++) {
    if (i > 10_000) throw new Error(`never happened: ${what}`);
    await vi.advanceTimersToNextTimerAsync();
  }
}

describe('purge spacing after a failed wait for the WAL', () => {
  it('the purger spaces the next purge by the VACUUM\'s 20 s, not by the 80 s the VACUUM and the failed WAL wait took', async () => {
    env = makeEnv();
    const { db } = env.deps;
    markPurgeDue(db, 'erasure', 0);
    other(env.deps.config.dbPath, 'read');
    fakeClock();
    const { ended } = vacuumsTaking(20 * SECOND);
    const purger = createPurger(db);
    let failedAt: number | undefined;
    purger.purge().catch(() => void (failedAt = Date.now()));
    await runUntil(() => failedAt !== undefined, 'the failed WAL wait');
    expect(ended).toHaveLength(1);
    expect(failedAt).toBeGreaterThanOrEqual(ended[0] + CHECKPOINT_WAIT_MS);
    expect(purger.failed).toBe(true);
    // Before: 4 × (VACUUM + the wait), ≥ 320 s after the failure.
    expect(purger.readyAt).toBe(ended[0] + 4 * 20 * SECOND);
  });

  it.each([
    // The minute after the failure is later than the spacing (80 s after the VACUUM ended).
    { vacuum: 20 * SECOND, next: (_ended: number, failed: number) => failed + MINUTE },
    // Four times a 40 s VACUUM, from its end, is later than the minute after the failure.
    { vacuum: 40 * SECOND, next: (ended: number) => ended + 4 * 40 * SECOND },
  ])('the job retries a purge whose WAL wait failed after a $vacuum ms VACUUM by the later of a minute after the failure and the VACUUM\'s spacing', async ({ vacuum, next }) => {
    env = makeEnv();
    const { db } = env.deps;
    const log = captureLog();
    env.deps.log = log;
    const reader = other(env.deps.config.dbPath, 'read');
    fakeClock();
    markPurgeDue(db, 'erasure', 0);
    const { started, ended } = vacuumsTaking(vacuum);
    job = startPurgeJob(env.deps, { checkMs: 24 * 60 * MINUTE });
    const failures = () => log.lines.filter((l) => l.msg === 'purge job: the purge failed, retrying');
    await runUntil(() => failures().length === 1, 'the failed purge');
    const failedAt = Date.now();
    expect(ended).toHaveLength(1);
    expect(failedAt).toBeGreaterThanOrEqual(ended[0] + CHECKPOINT_WAIT_MS);
    const retry = next(ended[0], failedAt);
    expect(job.dueAt()).toBe(retry);
    // Not tried before then; tried then (the reader is gone: it succeeds).
    reader.exec('ROLLBACK');
    await vi.advanceTimersByTimeAsync(retry - 1 - Date.now());
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await runUntil(() => pendingPurge(db) === undefined, 'the retry');
    expect(ended).toHaveLength(2);
    expect(started[1]).toBeGreaterThanOrEqual(retry);
  });
});

describe('purge job backoff', () => {
  it('doubles from a minute after each failure in a row, stays at an hour, and a success resets it', async () => {
    env = makeEnv();
    const { db } = env.deps;
    const log = captureLog();
    env.deps.log = log;
    db.pragma('busy_timeout = 0');
    fakeClock();
    markPurgeDue(db, 'erasure', 0);
    // Another process holds the write lock: each VACUUM fails at once.
    const writer = other(env.deps.config.dbPath, 'write');
    const { started, ended: vacuumed } = vacuumsTaking(0);
    job = startPurgeJob(env.deps, { checkMs: 24 * 60 * MINUTE });
    const failures = () => log.lines.filter((l) => l.msg === 'purge job: the purge failed, retrying');
    const tries = () => log.lines.filter((l) => l.msg === 'database purge failed').length;
    await runUntil(() => failures().length === 1, 'the first failure');
    const expected = [1, 2, 4, 8, 16, 32, 60, 60, 60].map((m) => m * MINUTE);
    for (const [i, backoff] of expected.entries()) {
      expect(failures()[i]!.fields).toMatchObject({ failures: i + 1, retry_in_ms: backoff });
      expect(job.dueAt()).toBe(Date.now() + backoff);
      if (i === expected.length - 1) break;
      await vi.advanceTimersByTimeAsync(backoff - 1);
      expect(tries()).toBe(i + 1);
      expect(started).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      await runUntil(() => failures().length === i + 2, `failure ${i + 2}`);
    }
    expect(vacuumed).toEqual([]);
    // The lock is released: the next try (an hour on) succeeds.
    writer.exec('ROLLBACK');
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    await runUntil(() => pendingPurge(db) === undefined, 'the purge after the lock');
    expect(vacuumed).toHaveLength(1);
    expect(log.lines.some((l) => l.msg === 'purge job: the database file is purged of the deletes recorded')).toBe(true);
    // A new delete, the lock held again: the first failure after a success waits a minute.
    markPurgeDue(db, 'erasure', 0);
    writer.exec('BEGIN IMMEDIATE');
    job.changed();
    await runUntil(() => failures().length === expected.length + 1, 'the failure after the success');
    expect(failures().at(-1)!.fields).toMatchObject({ failures: 1, retry_in_ms: MINUTE });
    expect(job.dueAt()).toBe(Date.now() + MINUTE);
  });
});
