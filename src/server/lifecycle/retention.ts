// The daily retention job (data-security policy, "How long do we keep your data?"):
// - sites inactive for two years (no API use, no admin activity, no collection, no display,
//   close, click or goal counted) lose all their data: the site row goes and every table cascades
//   from it;
// - sign-ups and daily event counts (the totals and the goals per name) older than
//   config.retentionDays (0: kept forever);
// - sent hook deliveries after 30 days (bookkeeping that grows);
// - tombstones of deleted sign-ups after TOMBSTONE_DAYS (store/tombstones.ts); the sign-ups it
//   deletes leave theirs, so a late retry from a browser's outbox does not store them again;
// - journal files every kept backup covers (the oldest was taken after their last line), or
//   older than the retention period (lifecycle/journal.ts, pruneJournal);
// - the copy `restore` kept of the database it replaced, once as old as the oldest backups kept
//   (it is a backup too, and counts as one for the journal);
// and when it deleted sign-ups or sites, it records the purge of the database file as due, in the
// same transaction; the server's purge job runs it (lifecycle/purge.ts).
import type { ServerDeps } from '../config';
import type { Db } from '../store/db';
import { LOCK_STALE_MS, pruneJournalFolder } from './journal';
import { beforeRestoreTime, newestBackupTime, oldestBackupTime, pruneBeforeRestore } from './backup';
import { markPurgeDue, purgeDueChanged } from './purge';
import { pruneTombstones, tombstoneRows } from '../store/tombstones';
import { sitesChanged } from '../site-cache';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const INACTIVE_MS = 730 * DAY;
const SENT_DELIVERIES_MS = 30 * DAY;

export interface RetentionOptions {
  retentionDays: number;
  journalDir?: string;
  /** Where backups are: journal files the oldest one covers are deleted. */
  backupDir?: string;
  /** The database's path: `<dbPath>.before-restore` is pruned, and counts as a backup meanwhile. */
  dbPath?: string;
  /** Days backups are kept (POPLET_BACKUP_KEEP), for `<dbPath>.before-restore`. */
  backupKeepDays?: number;
  /** POPLET_PURGE_WITHIN in ms: when a purge of the rows deleted is due (default: an hour). */
  purgeWithinMs?: number;
  now?: number;
}

export interface RetentionResult {
  sites: number;
  signups: number;
  /** Rows of events_daily. */
  events: number;
  /** Rows of goals_daily (per goal name). */
  goalsByName: number;
  deliveries: number;
  /** Tombstones of deleted sign-ups past TOMBSTONE_DAYS (store/tombstones.ts). */
  tombstones: number;
  journalFiles: number;
  /** `<dbPath>.before-restore` was deleted. */
  beforeRestore: boolean;
  /**
   * The journal was not pruned, nor dead scrubs' leftovers recovered: the scrub lock was held.
   * When it turns stale if untouched (epoch ms); null when the journal part ran (or there is none).
   */
  journalLockedUntil: number | null;
}

export function runRetention(db: Db, opts: RetentionOptions): RetentionResult {
  const now = opts.now ?? Date.now();
  const inactiveBefore = now - INACTIVE_MS;
  const result = db.transaction((): RetentionResult => {
    // A site is active if anything touched it: sign-ups and API calls stamp last_active_at;
    // admin work shows in campaign and hook dates; collection is checked on the sign-ups too; and
    // a site whose popups are being shown is in use (the policy's other half, "a recurring payment
    // to maintain an active subscription", has no self-hosted analog closer than that), even with
    // no form: its counts of displays, closes, clicks and goals (/events) have days. Those days are
    // the site's (its time zone): one more covers every zone.
    const sites = db
      .prepare(
        `DELETE FROM sites WHERE MAX(
             IFNULL(last_active_at, ''), created_at,
             IFNULL((SELECT MAX(updated_at) FROM campaigns c WHERE c.site_id = sites.id), ''),
             IFNULL((SELECT MAX(created_at) FROM hooks h WHERE h.site_id = sites.id), '')
           ) < ?
           AND NOT EXISTS (SELECT 1 FROM signups s WHERE s.site_id = sites.id AND s.collected_ms >= ?)
           AND NOT EXISTS (SELECT 1 FROM events_daily e WHERE e.site_id = sites.id AND e.day >= ?)`,
      )
      .run(new Date(inactiveBefore).toISOString(), inactiveBefore, new Date(inactiveBefore - DAY).toISOString().slice(0, 10)).changes;
    let signups = 0;
    let events = 0;
    let goalsByName = 0;
    if (opts.retentionDays > 0) {
      const cutoff = now - opts.retentionDays * DAY;
      const cutoffDay = new Date(cutoff).toISOString().slice(0, 10);
      // Tombstones first (store/tombstones.ts): a browser still holding one of these unsent, its
      // visitor away all this time, would otherwise store it again on its next visit.
      tombstoneRows(db, 'collected_ms < ?', [cutoff], now);
      signups = db.prepare(`DELETE FROM signups WHERE collected_ms < ?`).run(cutoff).changes;
      events = db.prepare(`DELETE FROM events_daily WHERE day < ?`).run(cutoffDay).changes;
      goalsByName = db.prepare(`DELETE FROM goals_daily WHERE day < ?`).run(cutoffDay).changes;
    }
    const deliveries = db
      .prepare(`DELETE FROM hook_deliveries WHERE status = 'sent' AND sent_ms < ?`)
      .run(now - SENT_DELIVERIES_MS).changes;
    const tombstones = pruneTombstones(db, now);
    // Sign-ups, and a site's data (its sign-ups by cascade): personal data, out of the file too.
    if (sites > 0 || signups > 0) markPurgeDue(db, 'retention', opts.purgeWithinMs ?? HOUR, now);
    return { sites, signups, events, goalsByName, deliveries, tombstones, journalFiles: 0, beforeRestore: false, journalLockedUntil: null };
  }).immediate();
  if (opts.dbPath) result.beforeRestore = pruneBeforeRestore(opts.dbPath, opts.backupKeepDays ?? 7, now);
  if (opts.journalDir) {
    // The kept copy of a restore is restored like a backup, then replayed: it needs the journal
    // since it was made as much as the oldest backup does.
    // A copy dated after now (the clock ran ahead at the restore) covers nothing, as a backup named so.
    const snapshots = [opts.backupDir ? oldestBackupTime(opts.backupDir, now) : undefined, opts.dbPath ? beforeRestoreTime(opts.dbPath) : undefined]
      .filter((t): t is number => t !== undefined && t <= now);
    const oldestBackupAt = snapshots.length ? Math.min(...snapshots) : undefined;
    const pruned = pruneJournalFolder(opts.journalDir, { oldestBackupAt, retentionDays: opts.retentionDays, now });
    result.journalFiles = pruned.removed;
    result.journalLockedUntil = pruned.lockedUntil ?? null;
  }
  return result;
}

/**
 * One run of the retention job: runRetention with the server's settings; when it deleted sign-ups
 * or sites, the purge of the database file it recorded wakes the purge job (lifecycle/purge.ts).
 * purgeDueAt: when the purge waiting is due, if one is.
 */
export function retentionPass(deps: ServerDeps, now = Date.now()): RetentionResult & { purgeDueAt: number | null } {
  const r = runRetention(deps.db, {
    retentionDays: deps.config.retentionDays,
    journalDir: deps.config.journalDir || undefined,
    backupDir: deps.config.backupDir,
    dbPath: deps.config.dbPath,
    backupKeepDays: deps.config.backupKeep,
    purgeWithinMs: deps.config.purgeWithinMinutes * 60_000,
    now,
  });
  // Deleted on the server's own connection, whose data_version does not change for it: its site
  // cache would keep serving the sites, whose sign-ups and counts then fail their foreign keys.
  if (r.sites > 0) sitesChanged(deps.db);
  const due = r.signups > 0 || r.sites > 0 ? purgeDueChanged(deps) : undefined;
  return { ...r, purgeDueAt: due ?? null };
}

/**
 * A warning for the operator when the newest backup in `backupDir` is over a day old (or there is
 * none): the policy promises daily backups, and journal files are kept until the kept backups
 * cover them. With the server taking backups (`everyHours`, POPLET_BACKUP_EVERY), only when the
 * newest is over an hour late: none yet is the first minute after a first start.
 */
export function backupWarning(backupDir: string, now = Date.now(), everyHours = 0): { fields: object; msg: string } | null {
  const newest = newestBackupTime(backupDir, now);
  const fields = { backupDir, newestBackup: newest === undefined ? null : new Date(newest).toISOString() };
  if (everyHours > 0) {
    // The server takes them: none yet is the first minute after a first start. One that is late
    // by over an hour means they fail (each failure is logged as `backup failed`).
    if (newest === undefined || now - newest <= everyHours * HOUR + HOUR) return null;
    return { fields, msg: `the newest backup is over ${everyHours} hours old: the server's backups are failing (see the \`backup failed\` lines); until one is taken, journal files are kept` };
  }
  if (newest !== undefined && now - newest <= DAY) return null;
  return {
    fields,
    msg: `${newest === undefined ? 'no backup' : 'the newest backup is over a day old'}: schedule \`poplet backup\` daily (README, Backups), or let the server take them (POPLET_BACKUP_EVERY); until one is taken, journal files are kept`,
  };
}

/** How long after the scrub lock turns stale a retry runs: past coarse file time stamps. */
export const LOCK_RETRY_MARGIN_MS = 2_000;
/**
 * Retries of one run while the scrub lock stays held. A dead scrub's lock is taken at the first
 * (nothing touches it any more); a live scrub recovers the leftovers itself, and its lock is held
 * for seconds, so more mean a scrub refreshing its lock for minutes: pruning then waits for the
 * next daily run.
 */
export const MAX_LOCK_RETRIES = 5;

/**
 * Runs a second after start, then every 24 hours, until stopped. A run that found the journal's
 * scrub lock held (lifecycle/journal.ts: a scrub running, or one killed under a minute ago, whose
 * leftovers hold the address it erased) runs again once the lock would be stale, at most
 * MAX_LOCK_RETRIES times in a row, rather than a day later.
 */
export function startRetentionJob(deps: ServerDeps, intervalMs = DAY): { stop(): void } {
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let retries = 0;
  const run = async (again: boolean): Promise<void> => {
    if (stopped) return;
    clearTimeout(retry);
    retry = undefined;
    if (!again) retries = 0;
    try {
      if (!deps.db.open) return;
      const r = retentionPass(deps);
      deps.log.info({ ...r }, 'retention');
      if (r.journalLockedUntil !== null && !stopped) {
        if (retries < MAX_LOCK_RETRIES) {
          retries += 1;
          // Never later than a full stale period from now, whatever a time stamp from another clock says.
          const wait = Math.min(Math.max(0, r.journalLockedUntil - Date.now()), LOCK_STALE_MS) + LOCK_RETRY_MARGIN_MS;
          retry = setTimeout(() => void run(true), wait);
          retry.unref();
          deps.log.info({ journalDir: deps.config.journalDir, retryInMs: wait }, 'retention: the journal scrub lock is held; journal pruning and scrub recovery run again once it would be stale');
        } else {
          deps.log.warn(
            { journalDir: deps.config.journalDir, retries },
            'retention: the journal scrub lock stayed held; journal pruning waits for the next daily run',
          );
        }
      }
      if (again) return;
      const warning = backupWarning(deps.config.backupDir, Date.now(), deps.config.backupEveryHours);
      if (warning) deps.log.warn(warning.fields, warning.msg);
    } catch (e) {
      deps.log.error({ err: e }, 'retention job failed');
    }
  };
  const first = setTimeout(() => void run(false), 1_000);
  const timer = setInterval(() => void run(false), intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      clearTimeout(retry);
      retry = undefined;
    },
  };
}
