// Online backups with SQLite's backup API (a consistent snapshot while the server keeps
// writing), kept as the last `keep` files of a folder; and restore, for a stopped server.
import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, fsyncSync, mkdirSync, openSync, closeSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^poplet-\d{8}T\d{9}Z\.sqlite$/;

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

function backupTimes(dir: string): number[] {
  return listBackups(dir).map(backupTime).filter((t) => !Number.isNaN(t));
}

/** When the newest backup of a folder was taken, or undefined when it has none. */
export function newestBackupTime(dir: string): number | undefined {
  const times = backupTimes(dir);
  return times.length ? Math.max(...times) : undefined;
}

/** When the oldest backup still kept in a folder was taken, or undefined when it has none. */
export function oldestBackupTime(dir: string): number | undefined {
  const times = backupTimes(dir);
  return times.length ? Math.min(...times) : undefined;
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `<dir>/poplet-<UTC timestamp>.sqlite` and deletes all but the newest `keep`. */
export async function backup(deps: { db: Database.Database }, dir: string, keep = 7, now = new Date()): Promise<string> {
  // keep 0 (or NaN from a typo) would delete the backup just written, or nothing ever.
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a whole number of at least 1, got ${keep}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const file = join(dir, `poplet-${stamp}.sqlite`);
  // Written under a temporary name so a crash never leaves a half backup among the kept ones.
  const tmp = `${file}.partial`;
  // A backup holds every sign-up: owner-only, like the database. Created 0600 before SQLite
  // writes into it (an empty file is an empty database to SQLite), so it is never readable by
  // others even while being written; the chmod covers a leftover .partial of a crashed run.
  closeSync(openSync(tmp, 'w', 0o600));
  chmodSync(tmp, 0o600);
  await deps.db.backup(tmp);
  fsyncFile(tmp);
  renameSync(tmp, file);
  const all = listBackups(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old);
  return file;
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

/**
 * Replaces the database at `dbPath` with `file`. The server must be stopped. The old -wal and
 * -shm files are removed: SQLite would otherwise apply the old WAL to the restored file.
 * The replaced database is kept next to it as `<dbPath>.before-restore`.
 */
export function restore(file: string, dbPath: string): void {
  verifyBackup(file);
  // Fold the live database's WAL in first so the kept copy is complete.
  try {
    const live = new Database(dbPath, { fileMustExist: true });
    live.pragma('wal_checkpoint(TRUNCATE)');
    live.close();
    copyFileSync(dbPath, `${dbPath}.before-restore`);
    chmodSync(`${dbPath}.before-restore`, 0o600);
  } catch {
    // no database there yet (lost disk): nothing to keep
  }
  mkdirSync(join(dbPath, '..'), { recursive: true });
  const tmp = `${dbPath}.restoring`;
  copyFileSync(file, tmp);
  // copyFileSync keeps the backup's mode, which may be a world-readable one from an older Poplet.
  chmodSync(tmp, 0o600);
  fsyncFile(tmp);
  rmSync(`${dbPath}-wal`, { force: true });
  rmSync(`${dbPath}-shm`, { force: true });
  renameSync(tmp, dbPath);
}
