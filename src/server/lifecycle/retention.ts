// The daily retention job (data-security policy, "How long do we keep your data?"):
// - sites inactive for two years (no API use, no admin activity, no collection) lose all their
//   data: the site row goes and every table cascades from it;
// - sign-ups and daily event counts (the totals and the goals per name) older than
//   config.retentionDays (0: kept forever);
// - sent hook deliveries after 30 days (bookkeeping that grows);
// - journal files every kept backup covers (the oldest was taken after their last line), or
//   older than the retention period (lifecycle/journal.ts, pruneJournal).
import type { ServerDeps } from '../config';
import type { Db } from '../store/db';
import { pruneJournal } from './journal';
import { newestBackupTime, oldestBackupTime } from './backup';

const DAY = 86_400_000;
export const INACTIVE_MS = 730 * DAY;
const SENT_DELIVERIES_MS = 30 * DAY;

export interface RetentionOptions {
  retentionDays: number;
  journalDir?: string;
  /** Where backups are: journal files the oldest one covers are deleted. */
  backupDir?: string;
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
  journalFiles: number;
}

export function runRetention(db: Db, opts: RetentionOptions): RetentionResult {
  const now = opts.now ?? Date.now();
  const inactiveBefore = now - INACTIVE_MS;
  const result = db.transaction((): RetentionResult => {
    // A site is active if anything touched it: sign-ups and API calls stamp last_active_at;
    // admin work shows in campaign and hook dates; collection is checked on the sign-ups too.
    const sites = db
      .prepare(
        `DELETE FROM sites WHERE MAX(
             IFNULL(last_active_at, ''), created_at,
             IFNULL((SELECT MAX(updated_at) FROM campaigns c WHERE c.site_id = sites.id), ''),
             IFNULL((SELECT MAX(created_at) FROM hooks h WHERE h.site_id = sites.id), '')
           ) < ?
           AND NOT EXISTS (SELECT 1 FROM signups s WHERE s.site_id = sites.id AND s.collected_ms >= ?)`,
      )
      .run(new Date(inactiveBefore).toISOString(), inactiveBefore).changes;
    let signups = 0;
    let events = 0;
    let goalsByName = 0;
    if (opts.retentionDays > 0) {
      const cutoff = now - opts.retentionDays * DAY;
      const cutoffDay = new Date(cutoff).toISOString().slice(0, 10);
      signups = db.prepare(`DELETE FROM signups WHERE collected_ms < ?`).run(cutoff).changes;
      events = db.prepare(`DELETE FROM events_daily WHERE day < ?`).run(cutoffDay).changes;
      goalsByName = db.prepare(`DELETE FROM goals_daily WHERE day < ?`).run(cutoffDay).changes;
    }
    const deliveries = db
      .prepare(`DELETE FROM hook_deliveries WHERE status = 'sent' AND sent_ms < ?`)
      .run(now - SENT_DELIVERIES_MS).changes;
    return { sites, signups, events, goalsByName, deliveries, journalFiles: 0 };
  }).immediate();
  if (opts.journalDir) {
    const oldestBackupAt = opts.backupDir ? oldestBackupTime(opts.backupDir) : undefined;
    result.journalFiles = pruneJournal(opts.journalDir, { oldestBackupAt, retentionDays: opts.retentionDays, now });
  }
  return result;
}

/**
 * A warning for the operator when the newest backup in `backupDir` is over a day old (or there is
 * none): the policy promises daily backups, and journal files are kept until the kept backups
 * cover them.
 */
export function backupWarning(backupDir: string, now = Date.now()): { fields: object; msg: string } | null {
  const newest = newestBackupTime(backupDir);
  if (newest !== undefined && now - newest <= DAY) return null;
  return {
    fields: { backupDir, newestBackup: newest === undefined ? null : new Date(newest).toISOString() },
    msg: `${newest === undefined ? 'no backup' : 'the newest backup is over a day old'}: schedule \`poplet backup\` daily (README, Backups); until one is taken, journal files are kept`,
  };
}

/** Runs now, then every 24 hours, until stopped. */
export function startRetentionJob(deps: ServerDeps, intervalMs = DAY): { stop(): void } {
  const run = (): void => {
    try {
      if (!deps.db.open) return;
      const r = runRetention(deps.db, {
        retentionDays: deps.config.retentionDays,
        journalDir: deps.config.journalDir,
        backupDir: deps.config.backupDir,
      });
      deps.log.info({ ...r }, 'retention');
      const warning = backupWarning(deps.config.backupDir);
      if (warning) deps.log.warn(warning.fields, warning.msg);
    } catch (e) {
      deps.log.error({ err: e }, 'retention job failed');
    }
  };
  const first = setTimeout(run, 1_000);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
