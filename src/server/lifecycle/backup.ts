// Backups: a consistent copy of the live rows of the database, taken while the server keeps
// writing, kept for a number of days (the policy: "backed up every day, and stored for 7 days");
// the server's own daily backup job; and restore, for a stopped server.
//
// A backup is SQLite's VACUUM INTO, not the page-by-page backup API: VACUUM INTO writes a new
// file from the rows of one read snapshot, so nothing deleted before that snapshot (an erased
// address, a retention delete) can be in it, whatever the live file's free space or unused page
// space held (lifecycle/purge.ts); the copy is compact too. It runs in a worker thread with its own
// connection: a reader in WAL mode holds up no writer, and the server's event loop keeps going.
import Database from 'better-sqlite3';
import {
  chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, utimesSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ServerDeps } from '../config';
import { openElsewhere } from './purge';

const NAME = /^poplet-\d{8}T\d{9}Z\.sqlite$/;
// A backup being written, and what SQLite writes beside it (a rollback journal, a WAL): all are
// left behind by a backup killed with SIGKILL, and all hold sign-ups.
const PARTIAL = /^poplet-\d{8}T\d{9}Z\.sqlite\.partial(?:-journal|-wal|-shm)?$/;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * Rotation deletes a backup once it is `keep` days old less this (and `keep` newer ones remain): a daily backup that runs a
 * little earlier than the one a week before (cron start-up, a timer) still replaces it, so the
 * folder holds 7 daily backups, not 8 on some days.
 */
const ROTATION_SLACK_MS = HOUR;

export function listBackups(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  // The timestamp in the name sorts chronologically.
  return names.filter((n) => NAME.test(n)).sort().map((n) => join(dir, n));
}

/** When a backup was taken, from its name (`poplet-20261123T030000000Z.sqlite`). */
export function backupTime(file: string): number {
  const m = /poplet-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z\.sqlite$/.exec(file);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : NaN;
}

/**
 * The times of a folder's backups, leaving out those named after `now`: taken while the clock ran
 * ahead (or this clock now runs behind), at a time nothing tells. Counted as the newest, one would
 * hold the server's backups off, and its warning, until the clock got there; as the oldest, it
 * would let the retention job delete journal files no backup holds.
 */
function backupTimes(dir: string, now: number): number[] {
  return listBackups(dir).map(backupTime).filter((t) => t <= now);
}

/** When the newest backup of a folder was taken, or undefined when it has none (named up to `now`). */
export function newestBackupTime(dir: string, now = Date.now()): number | undefined {
  const times = backupTimes(dir, now);
  return times.length ? Math.max(...times) : undefined;
}

/** When the oldest backup still kept in a folder was taken, or undefined when it has none (named up to `now`). */
export function oldestBackupTime(dir: string, now = Date.now()): number | undefined {
  const times = backupTimes(dir, now);
  return times.length ? Math.min(...times) : undefined;
}

/** The copy `restore` keeps of the database it replaced. */
export const beforeRestorePath = (dbPath: string): string => `${dbPath}.before-restore`;

/** When `restore` made the kept copy (its mtime, set by restore), or undefined when there is none. */
export function beforeRestoreTime(dbPath: string): number | undefined {
  try {
    return statSync(beforeRestorePath(dbPath)).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Deletes the copy `restore` kept once it is `keepDays` old, like a backup: it is one (the
 * database as it was when restored over) and holds what a backup holds, addresses erased since
 * included. True when it was deleted.
 */
export function pruneBeforeRestore(dbPath: string, keepDays: number, now = Date.now()): boolean {
  const t = beforeRestoreTime(dbPath);
  if (t === undefined || now - t < keepDays * DAY - ROTATION_SLACK_MS) return false;
  rmSync(beforeRestorePath(dbPath), { force: true });
  return true;
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// Plain CommonJS run by `new Worker(code, { eval: true })`: no file to locate next to this module,
// which runs from src/ (tsx, vitest) as well as from one bundled file (tests/bench).
// The answer is posted once the worker's connection is closed: the backup resolves on it, and a
// connection still open then kept the caller's from being the last one (no checkpoint on its
// close), and held the file a restore was about to replace.
const VACUUM_INTO_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
let answer = { ok: true };
try {
  db = new Database(workerData.db, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.prepare('VACUUM INTO ?').run(workerData.out);
} catch (e) {
  answer = { ok: false, message: String((e && e.message) || e) };
} finally {
  try {
    if (db) db.close();
  } catch (e) {
    if (answer.ok) answer = { ok: false, message: String((e && e.message) || e) };
  }
}
parentPort.postMessage(answer);
`;

/** VACUUM INTO `out` from a connection of its own in a worker thread; `signal` stops it. */
function vacuumInto(db: Database.Database, out: string, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new Error('backup stopped'));
  // An in-memory database has no file another connection could open (tests only).
  if (db.memory) {
    db.prepare('VACUUM INTO ?').run(out);
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(VACUUM_INTO_WORKER, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), db: db.name, out },
    });
    const abort = () => void worker.terminate();
    signal?.addEventListener('abort', abort, { once: true });
    let settled = false;
    const done = (e?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      if (e) reject(e);
      else resolve();
    };
    worker.once('message', (m: { ok: boolean; message?: string }) => done(m.ok ? undefined : new Error(`backup failed: ${m.message}`)));
    worker.once('error', (e) => done(e));
    worker.once('exit', () => done(new Error(signal?.aborted ? 'backup stopped' : 'backup worker exited')));
  });
}

/**
 * Writes `<dir>/poplet-<UTC timestamp>.sqlite` and deletes the backups of that folder that are
 * `keep` days old (less an hour: ROTATION_SLACK_MS) and have at least `keep` newer ones: the
 * folder never holds fewer than `keep` backups because of rotation. A server restarted after a long
 * outage on an empty or wrong database (a volume not mounted) would otherwise take a backup that
 * deletes every good one. The backup just written is always kept.
 */
export async function backup(
  deps: { db: Database.Database },
  dir: string,
  keep = 7,
  now = new Date(),
  opts: { signal?: AbortSignal } = {},
): Promise<string> {
  // keep 0 (or NaN from a typo) would delete every backup but the new one, or nothing ever.
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a whole number of days, at least 1, got ${keep}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  removeDeadPartials(dir, now.getTime());
  if (!deps.db.memory) removeDeadRestoreFiles(deps.db.name, now.getTime());
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const file = join(dir, `poplet-${stamp}.sqlite`);
  // Written under a temporary name so a crash never leaves a half backup among the kept ones.
  const tmp = `${file}.partial`;
  // A backup holds every sign-up: owner-only, like the database. Created 0600 before SQLite
  // writes into it (VACUUM INTO accepts an empty file), so it is never readable by others even
  // while being written; the chmod covers a leftover .partial of a crashed run.
  closeSync(openSync(tmp, 'w', 0o600));
  chmodSync(tmp, 0o600);
  try {
    await vacuumInto(deps.db, tmp, opts.signal);
    fsyncFile(tmp);
    renameSync(tmp, file);
  } catch (e) {
    for (const f of [tmp, `${tmp}-journal`, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    throw e;
  }
  const oldest = now.getTime() - keep * DAY + ROTATION_SLACK_MS;
  const all = listBackups(dir); // oldest first
  // Named up to now: the one just written is one of them.
  const past = all.filter((f) => backupTime(f) <= now.getTime());
  past.forEach((old, i) => {
    // past.length - 1 - i: the backups newer than this one, none of which this loop deletes before
    // it (the `keep` newest never are), so at least `keep` remain.
    if (old !== file && backupTime(old) <= oldest && past.length - 1 - i >= keep) rmSync(old);
  });
  // Named after now (the clock ran ahead when they were taken): their names would keep them, and
  // the addresses erased since they were taken, until the clock got there and `keep` days more.
  // Taken before now, they go once `keep` backups named on this clock remain.
  if (past.length >= keep) for (const f of all) if (backupTime(f) > now.getTime()) rmSync(f);
  return file;
}

/**
 * `.partial` files of backups that died (a crash, a kill, a full disk), and the `-journal`/`-wal`
 * SQLite left beside them, hold every sign-up: deleted once untouched for an hour. A younger one
 * may be another process's backup being written. Run by each backup and at server start.
 */
export function removeDeadPartials(dir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder yet
  }
  for (const name of names) {
    if (!PARTIAL.test(name)) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > HOUR) rmSync(path, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

/** Throws unless `file` is a sound SQLite database with the Poplet schema. */
export function verifyBackup(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`backup ${file} failed integrity_check: ${String(check)}`);
    db.prepare('SELECT 1 FROM signups LIMIT 1').all();
  } finally {
    db.close();
  }
}

/** How `restore` kept the database it replaced. */
export interface RestoreResult {
  /**
   * 'vacuum': its live rows (VACUUM INTO), nothing deleted from it; 'raw': a byte-for-byte copy,
   * because VACUUM INTO failed (a corrupt database), which may still hold deleted rows; 'none':
   * there was no database.
   */
  kept: 'vacuum' | 'raw' | 'none';
  /** Why VACUUM INTO failed, when kept is 'raw'. */
  error?: string;
}

/**
 * Replaces the database at `dbPath` with `file`. The server must be stopped. The old -wal and
 * -shm files are removed: SQLite would otherwise apply the old WAL to the restored file.
 * The replaced database is kept next to it as `<dbPath>.before-restore`, with the restore's time
 * as its mtime: the retention job deletes it once it is as old as the backups it keeps
 * (pruneBeforeRestore), and keeps the journal files a replay on top of it would need meanwhile.
 * The kept copy is VACUUM INTO of the replaced database, like a backup: it holds only its live rows,
 * not the erased ones its file may still hold until purged. When that fails (a corrupt database), a
 * raw copy is kept instead, since a lost safety copy is worse, and `warn` says so.
 */
export function restore(
  file: string,
  dbPath: string,
  now = new Date(),
  warn: (msg: string) => void = (msg) => void process.stderr.write(`${msg}\n`),
): RestoreResult {
  verifyBackup(file);
  // The server keeps its connection to the file it opened: replaced under it, it would go on
  // answering 2xx for sign-ups written to the old file (unlinked), lost at its next start.
  if (existsSync(dbPath) && openElsewhere(dbPath)) {
    throw new Error(`${dbPath} is open in another process (a running server?): stop the server, then restore`);
  }
  // Copied before the kept copy is written: the file restored may be that copy (undoing a
  // restore), which keepBeforeRestore replaces with the database being replaced.
  mkdirSync(join(dbPath, '..'), { recursive: true });
  // Killed (Ctrl-C during a long copy) before the rename, this copy stays: removeDeadRestoreFiles.
  const tmp = restoringPath(dbPath);
  copyFileSync(file, tmp);
  // copyFileSync keeps the backup's mode, which may be a world-readable one from an older Poplet.
  chmodSync(tmp, 0o600);
  fsyncFile(tmp);
  let result: RestoreResult;
  try {
    result = keepBeforeRestore(dbPath, now);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (result.kept === 'raw') {
    warn(
      `warning: the database being replaced could not be copied row by row (${result.error}); ${beforeRestorePath(dbPath)} ` +
        'is a raw copy of its file, which may still hold erased addresses not yet purged from it',
    );
  }
  rmSync(`${dbPath}-wal`, { force: true });
  rmSync(`${dbPath}-shm`, { force: true });
  renameSync(tmp, dbPath);
  return result;
}

/** The backup being copied in by `restore`, before it replaces the database. */
const restoringPath = (dbPath: string): string => `${dbPath}.restoring`;
/** The copy `restore` keeps, being written, and what SQLite writes beside it. */
const beforeRestorePartials = (dbPath: string): string[] =>
  ['', '-journal', '-wal', '-shm'].map((x) => `${beforeRestorePath(dbPath)}.partial${x}`);

/**
 * What a `restore` killed midway leaves beside the database: the backup it was copying in, the
 * copy of the database it was keeping. Both hold sign-ups, addresses erased since included, and
 * nothing else would ever delete them. Deleted once untouched for an hour (a younger one may be a
 * restore still running), at server start and by each backup, as a backup's `.partial` files.
 */
export function removeDeadRestoreFiles(dbPath: string, now = Date.now()): void {
  for (const path of [restoringPath(dbPath), ...beforeRestorePartials(dbPath)]) {
    try {
      if (now - statSync(path).mtimeMs > HOUR) rmSync(path, { force: true });
    } catch {
      // none, or gone meanwhile
    }
  }
}

/** Writes `<dbPath>.before-restore` (0600, mtime `now`) from the database about to be replaced. */
function keepBeforeRestore(dbPath: string, now: Date): RestoreResult {
  if (!existsSync(dbPath)) return { kept: 'none' }; // lost disk: nothing to keep
  const kept = beforeRestorePath(dbPath);
  const [tmp] = beforeRestorePartials(dbPath) as [string];
  const clear = () => {
    for (const f of beforeRestorePartials(dbPath)) rmSync(f, { force: true });
  };
  clear();
  let result: RestoreResult;
  try {
    // VACUUM INTO reads the WAL too: the copy is complete without a checkpoint.
    closeSync(openSync(tmp, 'w', 0o600));
    const live = new Database(dbPath, { fileMustExist: true });
    try {
      live.prepare('VACUUM INTO ?').run(tmp);
    } finally {
      live.close();
    }
    result = { kept: 'vacuum' };
  } catch (e) {
    clear();
    result = { kept: 'raw', error: e instanceof Error ? e.message : String(e) };
    try {
      // Fold what the WAL holds in, if SQLite still can, so the raw copy is complete.
      const live = new Database(dbPath, { fileMustExist: true });
      try {
        live.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        live.close();
      }
    } catch {
      // corrupt beyond that: the file as it is
    }
    copyFileSync(dbPath, tmp);
  }
  chmodSync(tmp, 0o600);
  fsyncFile(tmp);
  renameSync(tmp, kept);
  utimesSync(kept, now, now);
  return result;
}

/**
 * When the server's next backup is due: `everyMs` after the newest backup (newestBackupTime: named
 * up to now), now when there is none.
 */
export function backupDue(newest: number | undefined, everyMs: number, now: number): number {
  return newest === undefined ? now : newest + everyMs;
}

export interface BackupJob {
  /** Stops the schedule and a backup being written (its .partial file is deleted). */
  stop(): Promise<void>;
}

/**
 * The server's own backups (POPLET_BACKUP_EVERY hours, 24 by default; 0: none): a backup is taken
 * when the newest one in POPLET_BACKUPS is that old, whoever took it (a manual `poplet backup`
 * counts), checked at start (after `firstDelayMs`) and then when the next one is due. A failure
 * is logged and retried an hour later (or sooner, when backups are more frequent).
 */
export function startBackupJob(deps: ServerDeps, opts: { firstDelayMs?: number } = {}): BackupJob {
  const everyMs = deps.config.backupEveryHours * HOUR;
  const { backupDir, backupKeep } = deps.config;
  // Left by a backup killed with the server (SIGKILL, OOM), or by a restore killed midway:
  // cleaned at start, backups on or off.
  removeDeadPartials(backupDir);
  removeDeadRestoreFiles(deps.config.dbPath);
  if (!everyMs) return { stop: async () => {} };
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  // Re-armed at most an hour ahead, so a clock that moved is noticed within the hour.
  const arm = (ms: number) => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(check, Math.min(Math.max(ms, 0), HOUR));
    timer.unref();
  };

  async function check(): Promise<void> {
    timer = null;
    if (stopping.signal.aborted || !deps.db.open) return;
    const now = Date.now();
    const due = backupDue(newestBackupTime(backupDir, now), everyMs, now);
    if (due > now) return arm(due - now);
    const started = Date.now();
    running = backup(deps, backupDir, backupKeep, new Date(started), { signal: stopping.signal }).then(
      (file) => {
        deps.log.info({ file, ms: Date.now() - started }, 'backup written');
        arm(everyMs);
      },
      (e: unknown) => {
        if (stopping.signal.aborted) return;
        deps.log.error({ err: e, backupDir }, 'backup failed');
        arm(Math.min(everyMs, HOUR));
      },
    );
    await running;
    running = null;
  }

  arm(opts.firstDelayMs ?? 60_000);
  return {
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
