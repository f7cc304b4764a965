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
// a replay that re-applied erasures) ends with a purge: VACUUM rebuilds the file from the live
// rows, then a TRUNCATE checkpoint moves that into poplet.db and empties poplet.db-wal.
//
// VACUUM holds the event loop and the write lock for its whole run: 0.25-0.35 s per 100,000
// stored sign-ups on the reference machine (2.2 s per million), and needs free disk space for a
// copy of the database. The server's purges take turns and are spaced by four times the last
// one's duration, so a client erasing addresses one by one in a loop costs the server at most a
// fifth of its time; requests that arrive meanwhile share the next purge.
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

/** Empties the WAL, retrying while other connections keep it busy, up to `waitMs`. */
export async function truncateWal(db: Db, waitMs = CHECKPOINT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 1_000)) {
    if (!db.open) throw new Error('the database was closed before its WAL could be emptied');
    if (tryTruncateWal(db)) return;
    if (Date.now() >= deadline) throw new Error(`the WAL could not be emptied: another connection kept reading for ${Math.round(waitMs / 1000)} s`);
    await new Promise((ok) => setTimeout(ok, pause));
  }
}

/**
 * The purge, synchronously, for a process that holds no request (replay, the first open after an
 * upgrade): VACUUM, then one checkpoint that may wait busy_timeout for other connections. Returns
 * false when the WAL could not be emptied (the next purge finishes it).
 */
export function purgeNow(db: Db): boolean {
  db.exec('VACUUM');
  const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  return r?.busy === 0;
}

export interface Purger {
  /**
   * Resolves once the database file and its WAL hold nothing of what was deleted before the call;
   * rejects if that purge failed (disk full: VACUUM needs free space for a copy of the database;
   * the WAL kept busy for CHECKPOINT_WAIT_MS; the database closed meanwhile).
   */
  purge(): Promise<void>;
  /**
   * Shutdown: starts a purge that waits for its turn now, and waits 5 s at most for other
   * connections' reads. Resolves when none runs.
   */
  flush(): Promise<void>;
  /** The last purge failed: what it was for is still in the file until one succeeds. */
  readonly failed: boolean;
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
  // Shutting down: a reader holding the WAL is waited for briefly, not for a minute.
  let closing = false;

  async function run(): Promise<void> {
    const batch = waiting;
    waiting = [];
    const started = Date.now();
    try {
      // Deletes committed from here on wait for the next purge: they are not in this batch.
      db.exec('VACUUM');
      const ms = Date.now() - started;
      nextAt = Date.now() + SPACING * ms;
      await truncateWal(db, closing ? 5_000 : CHECKPOINT_WAIT_MS);
      log?.info({ ms, total_ms: Date.now() - started, requests: batch.length }, 'database file purged');
      failed = false;
      for (const w of batch) w.resolve();
    } catch (e) {
      failed = true;
      nextAt = Date.now() + SPACING * (Date.now() - started);
      log?.error({ err: e, requests: batch.length }, 'database purge failed');
      for (const w of batch) w.reject(e);
    }
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
    if (running || timer || !waiting.length) return;
    // Not unref'd: a request (or the CLI's erase) is waiting for it.
    timer = setTimeout(start, Math.max(0, nextAt - Date.now()));
  }

  return {
    get failed() {
      return failed;
    },
    purge() {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        schedule();
      });
    },
    async flush() {
      closing = true;
      while (timer || running) {
        if (timer) start();
        await running;
      }
    },
  };
}

const purgers = new WeakMap<Db, Purger>();

/** The connection's purger: the erasure route, the retention job and the CLI share its spacing. */
export function purgerFor(db: Db, log?: Log): Purger {
  let p = purgers.get(db);
  if (!p) purgers.set(db, (p = createPurger(db, log)));
  return p;
}
