// Deleted personal data must leave the database FILE, not only its tables.
//
// A DELETE only marks a row's bytes free. Three things stand between a delete and a file that no
// longer holds them:
// - free space: store/db.ts turns secure_delete ON, so SQLite zeroes a deleted cell, and every
//   page it frees (FAST would leave freed pages as they were: measured, 1 erased address in 55
//   still readable after heavy churn);
// - copies no delete reaches: when SQLite rebalances a b-tree page and cannot edit it in place, it
//   rebuilds it (btree.c, rebuildPage) without zeroing the unused middle of the page, where old
//   copies of cells that moved stay. Measured with secure_delete ON: 2 of 15,000 erased addresses
//   still in the email_fold index after 20,000 sign-ups with erasures in between; the fixed
//   workload of tests/server/erase-purge.test.ts leaves 2 in table pages and 2 in index pages;
// - the WAL: the frames that wrote the row stay in poplet.db-wal until a checkpoint has copied
//   them and the log is truncated (a checkpoint alone rewinds the log without shortening it).
// So whatever deletes personal data (an erasure, a retention run that deleted sign-ups or sites,
// a replay that re-applied erasures, the first open of a database from before secure_delete) is
// followed by a purge: VACUUM rebuilds the file from the live rows, then a TRUNCATE checkpoint
// moves that into poplet.db and empties poplet.db-wal.
//
// VACUUM holds the event loop and the write lock for its whole run: 0.25-0.35 s per 100,000
// stored sign-ups on the reference machine (2.2 s per million: 20 s for 10 million), and needs
// free disk space for a copy of the database. So it does not follow each delete: the delete
// records that a purge is due (markPurgeDue, a row of purge_due written in the delete's own
// transaction: a crash, a restart or a delete made by `poplet erase` in another process loses
// nothing), and the server runs ONE purge for every delete recorded, by the earliest due time:
// POPLET_PURGE_WITHIN minutes (default 60) after the first of them (startPurgeJob). The policy
// promises deletion within two working days. A purge that was due while no server ran is run at
// the server's start. With POPLET_PURGE_WITHIN=0 it is due at once, and an erasure's answer waits
// for it, as before. Purges are spaced by four times the last one's duration (at most a fifth of
// the server's time), and a failed one is retried with a backoff (1 minute, doubling, at most an
// hour), each failure logged. `poplet erase` never VACUUMs: only a process that holds the
// database alone may (`poplet purge`, purgeAlone), or the server, on its own connection.
import Database from 'better-sqlite3';
import type { ServerDeps } from '../config';
import type { Db } from '../store/db';
import type { Log } from '../log';

/** Next purge no sooner than this many times the last one's duration after it ended. */
const SPACING = 4;
/** How long a purge waits for other connections' reads to end before the WAL can be emptied. */
export const CHECKPOINT_WAIT_MS = 60_000;

/**
 * One attempt at emptying the WAL: true when every frame is in the database file and the WAL is
 * truncated. False while another connection (the CLI, a backup) reads an older snapshot or
 * writes: the attempt does not wait for it (busy_timeout would hold the event loop).
 */
export function tryTruncateWal(db: Db): boolean {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return r?.busy === 0;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

/** Thrown when a purge is dropped or its WAL wait cut short because the server is stopping. */
export class PurgeStopped extends Error {
  constructor(what: string) {
    super(`${what}: the server is stopping; the purge stays recorded (purge_due) and the next start runs it`);
    this.name = 'PurgeStopped';
  }
}

/**
 * Empties the WAL, retrying while other connections keep it busy, up to `waitMs`. An aborted
 * `signal` ends the wait at once (PurgeStopped).
 */
export async function truncateWal(db: Db, waitMs = CHECKPOINT_WAIT_MS, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 1_000)) {
    if (signal?.aborted) throw new PurgeStopped('the wait for the WAL was stopped');
    if (!db.open) throw new Error('the database was closed before its WAL could be emptied');
    if (tryTruncateWal(db)) return;
    if (Date.now() >= deadline) throw new Error(`the WAL could not be emptied: another connection kept reading for ${Math.round(waitMs / 1000)} s`);
    await new Promise<void>((ok) => {
      const t = setTimeout(done, pause);
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        ok();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** What a purge is recorded for: said in the log. */
export type PurgeReason = 'erasure' | 'retention' | 'replay' | 'upgrade' | 'operator' | 'visitor-days';

/**
 * Records that a purge is due, `withinMs` from now. Call it in the transaction of the delete it
 * is for: the record commits with the delete or not at all.
 */
export function markPurgeDue(db: Db, reason: PurgeReason, withinMs: number, now = Date.now()): number {
  return Number(
    db.prepare('INSERT INTO purge_due (reason, marked_ms, due_ms) VALUES (?, ?, ?)').run(reason, now, now + withinMs).lastInsertRowid,
  );
}

export interface PendingPurge {
  /** When it is due: the earliest due time recorded, or the first record plus `withinMs` when sooner. */
  dueAt: number;
  /** The first delete waiting for it. */
  since: number;
  /** Deletes waiting for it. */
  count: number;
  /** The newest record: a purge that starts after it was read covers every record up to it. */
  lastId: number;
}

/**
 * The purge waiting, if any. `withinMs` (the reader's POPLET_PURGE_WITHIN) shortens the due time
 * of a record made by a process with a longer one (`poplet erase` in another environment).
 */
export function pendingPurge(db: Db, withinMs = Infinity, now = Date.now()): PendingPurge | undefined {
  // A record made while the clock ran ahead (then stepped back) counts as made now: its due time,
  // read as it was written, would hold the purge off by as much as the clock was ahead (a year
  // ahead: a year), the deleted rows readable in the file meanwhile.
  const r = db
    .prepare(
      `SELECT MIN(MIN(due_ms, @now + due_ms - marked_ms)) AS due, MIN(MIN(marked_ms, @now)) AS since, COUNT(*) AS count, MAX(id) AS lastId
         FROM purge_due`,
    )
    .get({ now }) as { due: number | null; since: number | null; count: number; lastId: number | null };
  if (!r.count || r.due === null || r.since === null || r.lastId === null) return undefined;
  return { dueAt: Math.min(r.due, r.since + withinMs), since: r.since, count: r.count, lastId: r.lastId };
}

const lastPendingId = (db: Db): number => (db.prepare('SELECT IFNULL(MAX(id), 0) FROM purge_due').pluck().get() as number);

/**
 * After a purge that began when `covered` was the newest record: its records are done. The
 * delete is a small write of its own (no personal data); one attempt at emptying the WAL again,
 * which does not wait.
 */
function clearCovered(db: Db, covered: number): void {
  if (!covered) return;
  db.prepare('DELETE FROM purge_due WHERE id <= ?').run(covered);
  tryTruncateWal(db);
}

/**
 * The purge, synchronously, on a connection no other process uses (`poplet purge` holding the
 * database exclusively): VACUUM, then one checkpoint. Returns false when the WAL could not be
 * emptied (the next purge finishes it; the records stay then).
 */
export function purgeNow(db: Db): boolean {
  const covered = lastPendingId(db);
  db.exec('VACUUM');
  const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  if (r?.busy !== 0) return false;
  clearCovered(db, covered);
  return true;
}

export interface Purger {
  /**
   * Resolves once the database file and its WAL hold nothing of what was deleted before the call
   * (and the purge_due records made before it are deleted); rejects if that purge failed (disk
   * full: VACUUM needs free space for a copy of the database; the WAL kept busy for
   * CHECKPOINT_WAIT_MS; the database closed meanwhile).
   */
  purge(): Promise<void>;
  /**
   * Shutdown: runs no VACUUM. Purges waiting for their turn are dropped (their promises reject
   * with PurgeStopped; their purge_due records stay, and the next start runs them), a running
   * purge's wait for other connections' reads ends at once (its records stay too), and purge()
   * rejects from now on. Resolves when none runs.
   */
  flush(): Promise<void>;
  /** The last purge failed: what it was for is still in the file until one succeeds. */
  readonly failed: boolean;
  /** The spacing: a purge asked for now starts at this time (0: at once). */
  readonly readyAt: number;
  /** A purge is running. */
  readonly busy: boolean;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export function createPurger(db: Db, log?: Log): Purger {
  let waiting: Waiter[] = [];
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let nextAt = 0;
  let failed = false;
  // Shutting down: no purge starts, and a running one's wait for the WAL ends.
  let closing = false;
  const stopping = new AbortController();

  async function run(): Promise<void> {
    const batch = waiting;
    waiting = [];
    const started = Date.now();
    let vacuumed = false;
    try {
      // Deletes committed from here on wait for the next purge: they are not in this batch, and
      // their purge_due records (newer than `covered`) stay.
      const covered = lastPendingId(db);
      db.exec('VACUUM');
      vacuumed = true;
      const ms = Date.now() - started;
      // Spaced by the VACUUM's own duration (what holds the event loop), not the WAL wait's.
      nextAt = Date.now() + SPACING * ms;
      await truncateWal(db, CHECKPOINT_WAIT_MS, stopping.signal);
      clearCovered(db, covered);
      log?.info({ ms, total_ms: Date.now() - started, requests: batch.length }, 'database file purged');
      failed = false;
      for (const w of batch) w.resolve();
    } catch (e) {
      // A failed VACUUM is spaced by the time it held the event loop; after a failed WAL wait the
      // spacing set when the VACUUM ended stays.
      if (!vacuumed) nextAt = Date.now() + SPACING * (Date.now() - started);
      if (e instanceof PurgeStopped) {
        log?.info({ requests: batch.length }, 'database purge stopped with the server: it stays recorded and runs at the next start');
      } else {
        failed = true;
        log?.error({ err: e, requests: batch.length }, 'database purge failed');
      }
      for (const w of batch) w.reject(e);
    }
  }

  /** Shutdown: the purges waiting for their turn are not run (their records stay). */
  function drop(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = waiting;
    waiting = [];
    for (const w of batch) w.reject(new PurgeStopped('the purge was not run'));
  }

  function start(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    running = run().finally(() => {
      running = null;
      schedule();
    });
  }

  function schedule(): void {
    if (closing) return drop();
    if (running || timer || !waiting.length) return;
    // Not unref'd: a request (or the purge job) is waiting for it.
    timer = setTimeout(start, Math.max(0, nextAt - Date.now()));
  }

  return {
    get failed() {
      return failed;
    },
    get readyAt() {
      return nextAt;
    },
    get busy() {
      return running !== null;
    },
    purge() {
      if (closing) return Promise.reject(new PurgeStopped('the purge was not run'));
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        schedule();
      });
    },
    async flush() {
      closing = true;
      stopping.abort();
      drop();
      while (running) await running;
    },
  };
}

const purgers = new WeakMap<Db, Purger>();

/** The connection's purger: the erasure route, the purge job and the tests share its spacing. */
export function purgerFor(db: Db, log?: Log): Purger {
  let p = purgers.get(db);
  if (!p) purgers.set(db, (p = createPurger(db, log)));
  return p;
}

/** A failed purge is tried again after this, doubling with each failure in a row, up to an hour. */
export const RETRY_FIRST_MS = MINUTE;
const RETRY_MAX_MS = HOUR;

export interface PurgeJob {
  /** A delete was recorded (by this process): look at the due time again now. */
  changed(): void;
  /** When the waiting purge will run (its due time, or later: spacing, a retry's backoff); undefined: none waits. */
  dueAt(): number | undefined;
  /**
   * Stops the job and the connection's purger (Purger.flush): runs no VACUUM, ends a running
   * purge's wait for the WAL; what was recorded stays due and the next start runs it.
   */
  stop(): Promise<void>;
}

const jobs = new WeakMap<ServerDeps, PurgeJob>();

/**
 * The server's purges: one for every delete recorded in purge_due, when the earliest is due
 * (looked at once a `checkMs`, for the records of other processes, and at once for this one's,
 * through changed()); at start too, so one that fell due while no server ran is run now.
 */
export function startPurgeJob(deps: ServerDeps, opts: { checkMs?: number } = {}): PurgeJob {
  const checkMs = opts.checkMs ?? deps.config.purgeCheckMs;
  const withinMs = deps.config.purgeWithinMinutes * MINUTE;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  let failures = 0;
  let retryAt = 0;

  const purger = () => purgerFor(deps.db, deps.log);
  const waitingPurge = () => (deps.db.open ? pendingPurge(deps.db, withinMs) : undefined);
  const runsAt = (p: PendingPurge) => Math.max(p.dueAt, retryAt, purger().readyAt);

  function arm(): void {
    if (stopped || running) return;
    if (timer) clearTimeout(timer);
    timer = null;
    let p: PendingPurge | undefined;
    try {
      p = waitingPurge();
    } catch (e) {
      // The database is busy or closing: look again at the next check.
      deps.log.warn({ err: e }, 'purge job: could not read the purges due');
    }
    const wait = p ? Math.max(0, runsAt(p) - Date.now()) : checkMs;
    timer = setTimeout(fire, Math.min(wait, checkMs));
    timer.unref();
  }

  function fire(): void {
    timer = null;
    if (stopped) return;
    let p: PendingPurge | undefined;
    try {
      p = waitingPurge();
    } catch {
      p = undefined;
    }
    if (!p || runsAt(p) > Date.now()) return arm();
    const first = new Date(p.since).toISOString();
    running = purger()
      .purge()
      .then(
        () => {
          failures = 0;
          retryAt = 0;
          deps.log.info({ deletes: p.count, since: first }, 'purge job: the database file is purged of the deletes recorded');
        },
        (e: unknown) => {
          if (e instanceof PurgeStopped) return;
          failures += 1;
          const backoff = Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS);
          retryAt = Date.now() + backoff;
          deps.log.error({ err: e, deletes: p.count, since: first, failures, retry_in_ms: backoff }, 'purge job: the purge failed, retrying');
        },
      )
      .finally(() => {
        running = null;
        arm();
      });
  }

  const job: PurgeJob = {
    changed: arm,
    dueAt() {
      const p = waitingPurge();
      return p && runsAt(p);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (deps.db.open) await purger().flush();
      await running;
      jobs.delete(deps);
    },
  };
  jobs.set(deps, job);
  arm();
  return job;
}

/**
 * For the process's deletes: wakes the server's purge job, and says when the purge is due (the
 * job's time when it runs, the recorded one otherwise).
 */
export function purgeDueChanged(deps: ServerDeps): number | undefined {
  const job = jobs.get(deps);
  if (job) {
    job.changed();
    return job.dueAt();
  }
  return pendingPurge(deps.db, deps.config.purgeWithinMinutes * MINUTE)?.dueAt;
}

/**
 * `poplet purge`: runs the purge here when no other connection has the database open (no server
 * runs: an exclusive lock is granted), holding the lock through it, so that a server starting
 * meanwhile waits instead of writing behind a long VACUUM. Otherwise (a server runs) it records a
 * purge due now and waits, up to `waitMs`, for that server to run it: the server does at its next
 * check (`checkMs`, a minute), on its own connection. Returns who purged, or throws when the wait
 * ran out (the record stays: the server runs it when it can; its log says why it could not).
 */
export async function purgeAlone(
  dbPath: string,
  opts: { waitMs?: number; pollMs?: number; tries?: number; onWait?: (msg: string) => void } = {},
): Promise<{ by: 'here' | 'server'; ms: number }> {
  const started = Date.now();
  // Another CLI command may have the database open for an instant: a few tries before deciding.
  for (let attempt = 0; attempt < (opts.tries ?? 5); attempt++) {
    const alone = tryExclusive(dbPath);
    if (alone) {
      try {
        if (!purgeNow(alone)) throw new Error('the WAL could not be emptied');
      } finally {
        alone.close();
      }
      return { by: 'here', ms: Date.now() - started };
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 30000');
    const id = markPurgeDue(db, 'operator', 0);
    opts.onWait?.('another process has the database open (a running server): the purge is recorded as due now; the server runs it at its next check (within a minute)');
    const deadline = Date.now() + (opts.waitMs ?? 5 * MINUTE);
    const left = db.prepare('SELECT COUNT(*) FROM purge_due WHERE id <= ?').pluck();
    while ((left.get(id) as number) > 0) {
      if (Date.now() >= deadline) {
        throw new Error(
          `the server has not purged the database file within ${Math.round((opts.waitMs ?? 5 * MINUTE) / 1000)} s: the purge stays due and the server runs it when it can (its log says why not: "database purge failed")`,
        );
      }
      await new Promise((ok) => setTimeout(ok, opts.pollMs ?? 250));
    }
    return { by: 'server', ms: Date.now() - started };
  } finally {
    db.close();
  }
}

/**
 * Whether another connection (a running server, another command) has `dbPath` open: `restore`
 * must not replace the file under it (its later commits, 2xx answered, would go to the replaced
 * file and be lost). False for a missing file, and for one SQLite cannot read (a corrupt database,
 * which restore exists to replace).
 */
export function openElsewhere(dbPath: string): boolean {
  let db: Db | null;
  try {
    db = tryExclusive(dbPath);
  } catch {
    return false;
  }
  db?.close();
  return db === null;
}

/**
 * A connection holding `dbPath` exclusively, or null while another connection has it open: in WAL
 * mode every open connection keeps a shared lock on the file, idle or not, so the exclusive lock
 * is refused as long as a server runs.
 */
function tryExclusive(dbPath: string): Db | null {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('secure_delete = ON');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY' || (e as { code?: string }).code === 'SQLITE_LOCKED') return null;
    throw e;
  }
}
