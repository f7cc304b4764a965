// Opens the SQLite database and brings its schema up to date.
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CORE_MIGRATIONS, type Migration } from './schema';
import { HOOKS_MIGRATIONS } from '../hooks/schema';
import { markPurgeDue } from '../lifecycle/purge';
import { ID_HASH_SQL, idHash } from './tombstones';

export type Db = Database.Database;

const MIGRATIONS: Migration[] = [...CORE_MIGRATIONS, ...HOOKS_MIGRATIONS].sort((a, b) => a.version - b.version);

export function openDb(path: string, opts: { synchronous?: 'full' | 'normal' } = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  try {
    setUp(db, path, opts);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

const isBusy = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
};

/** How long the server waits at start for another process holding its database. */
export const OPEN_WAIT_MS = 10 * 60_000;

/**
 * openDb for the server's start: while another process holds the database exclusively (`poplet
 * purge` through its VACUUM, which can take minutes), retries on SQLITE_BUSY up to `waitMs`
 * instead of failing after the 5 s busy timeout. `onWait` is called once, when it starts waiting.
 * Each try blocks for the busy timeout at most (nothing else runs yet at start).
 */
export async function openDbWaiting(
  path: string,
  opts: { synchronous?: 'full' | 'normal' } = {},
  wait: { waitMs?: number; pauseMs?: number; onWait?: (waitMs: number) => void } = {},
): Promise<Db> {
  const waitMs = wait.waitMs ?? OPEN_WAIT_MS;
  const deadline = Date.now() + waitMs;
  for (let told = false; ; ) {
    try {
      return openDb(path, opts);
    } catch (e) {
      if (!isBusy(e) || Date.now() >= deadline) throw e;
      if (!told) wait.onWait?.(waitMs);
      told = true;
    }
    await new Promise((ok) => setTimeout(ok, wait.pauseMs ?? 1_000));
  }
}

function setUp(db: Db, path: string, opts: { synchronous?: 'full' | 'normal' }): void {
  // Sign-ups are personal data: owner-only. SQLite gives the -wal/-shm files the same mode.
  if (path !== ':memory:') chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // FULL by default: every commit fsyncs the WAL before the 2xx goes out, so an acknowledged
  // sign-up survives a power cut or a kernel panic, not only a killed process. The fsync is paid
  // once per group commit (store/signup-writer.ts), not per sign-up: tests/bench/server.ts
  // measures FULL at about 85 % of NORMAL's sign-ups per second. NORMAL (WAL in the OS, no fsync per commit)
  // still survives kill -9 and OOM, and only loses the last commits on an OS crash: an option
  // for hosts whose disks make fsync slow.
  db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  // A checkpoint every 10,000 WAL pages (about 40 MB) rather than SQLite's 1,000: each sign-up
  // rewrites a page at a random place of the address index, and a page rewritten by many commits
  // between two checkpoints is copied into poplet.db once. Measured: /collect about 10 % faster
  // with real-looking addresses (tests/bench/server.ts, four runs each way). A purge still empties
  // the WAL after deletions (lifecycle/purge.ts). Per connection, hence here.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('foreign_keys = ON');
  // The CLI and backups may touch the file while the server runs: wait instead of failing.
  db.pragma('busy_timeout = 5000');
  // Deleted rows are zeroed in the file, and so is every page a delete frees (ON; FAST leaves
  // freed pages as they were): erasure and retention delete personal data, which must not stay
  // readable in the bytes of poplet.db. Per connection, hence here, where every connection opens.
  // lifecycle/purge.ts says what it does not reach, and the purge that follows those deletes.
  // Measured against OFF: group commits of sign-ups with their hook deliveries, and a retention
  // run deleting 100,000 of 200,000 sign-ups, within the machine's noise (±5 %); that run's WAL
  // grew 3 % (the freed pages written as zeros).
  db.pragma('secure_delete = ON');
  // The tombstones' hash of a browser id, for the statements that tombstone rows in bulk (retention).
  db.function(ID_HASH_SQL, { deterministic: true }, (clientId: unknown) => idHash(String(clientId)));
  migrate(db);
}

/**
 * Not a schema change: the one-time purge of a database written before secure_delete was on,
 * whose free space still holds what was deleted then (earlier erasures, retention). Recorded like
 * a migration so it happens once: the purge is recorded as due now (lifecycle/purge.ts), and the
 * server runs it when it starts, or `poplet purge` does; whichever process opens the file first
 * (a CLI command beside a running server too) never VACUUMs here.
 */
export const PURGED_VERSION = 200;

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const done = new Set(
    db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[],
  );
  // A database migrated by a newer Poplet (a rollback, or an old server beside a new CLI) has
  // tables this code would write wrongly: refuse it rather than fail one request at a time.
  const known = new Set([...MIGRATIONS.map((m) => m.version), PURGED_VERSION]);
  const unknown = [...done].filter((v) => !known.has(v));
  if (unknown.length) throw new Error(`database schema version ${Math.max(...unknown)} comes from a newer Poplet: run that version, or restore a backup taken before the upgrade`);
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.run?.(db);
      record.run(m.version, new Date().toISOString());
    }).immediate();
  }
  if (!done.has(PURGED_VERSION)) {
    db.transaction(() => {
      // OR IGNORE: another process opening the same file at this moment may have recorded it too.
      const first = db.prepare('INSERT OR IGNORE INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(PURGED_VERSION, new Date().toISOString()).changes;
      // A new database has never deleted anything: nothing to purge.
      if (first && done.size) markPurgeDue(db, 'upgrade', 0);
    }).immediate();
  }
}
