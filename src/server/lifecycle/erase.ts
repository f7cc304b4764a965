// Right to erasure: every sign-up of an address on a site goes, with its hook deliveries (the
// foreign key cascades; deleted explicitly too so it holds even without foreign_keys). Copies in
// the recovery journal are scrubbed and an erase record (a hash, not the address) is journaled so
// that a later restore + replay cannot bring the address back. secure_delete (store/db.ts) zeroes
// most of the rows' bytes in the file at once; the purge of the database file that removes the
// rest (lifecycle/purge.ts) is recorded as due in the delete's transaction and run by the server
// within POPLET_PURGE_WITHIN minutes. A backup taken after the erasure holds none of the rows,
// purged or not yet (VACUUM INTO copies live rows only). Backups taken before the erasure hold the
// address until they rotate out (7 days); restoring one must be followed by `replay`, which
// re-applies the erasure. Each deleted sign-up leaves a tombstone of its browser id (a hash), so a
// late retry of it from the browser's outbox is answered as a duplicate and stores nothing.
import type Database from 'better-sqlite3';
import type { Log } from '../log';
import { mailboxForms } from '../store/signups';
import { createJournal, scrubJournal, type ScrubTarget } from './journal';
import { DEFAULT_PURGE_WITHIN_MINUTES } from '../config';
import { markPurgeDue, pendingPurge } from './purge';
import { idHash, idHashHex, putTombstones } from '../store/tombstones';

/** The sign-ups an erasure deletes (site id, one of the folded forms of the address); exported for the query-plan test. */
export const ERASE_MATCH = 'site_id = ? AND email_fold = ?';

export interface ErasureResult {
  signups: number;
  deliveries: number;
  journalLines: number;
  /** When the purge of the database file that covers this erasure is due (ms). */
  purgeDueAt: number;
}

/**
 * Deletes the rows, in one transaction, and returns the erasure's time `at`: every sign-up of the
 * address collected up to `at` is erased (the journal scrub and replay compare with it), every
 * sign-up collected later is a new one (see ScrubTarget.before). A clock reading alone is not a
 * boundary: collected_ms runs ahead of the clock in a burst (and when the clock steps back), so
 * `at` is at least the site's latest collected_ms, taken before the delete while the write lock is
 * held; and it is stored as the site's floor, which insertSignups reads inside its own transaction,
 * so a sign-up committed after this one (even with a clock read before it) is collected after `at`.
 */
export function eraseRows(
  db: Database.Database,
  siteId: string,
  email: string,
  purgeWithinMs = DEFAULT_PURGE_WITHIN_MINUTES * 60_000,
): { signups: number; deliveries: number; at: number; idHashes: string[] } {
  // Compared folded (foldEmail: every letter, as the journal scrub does), in every IDNA form of the
  // domain (mailboxForms), through the stored email_fold and its index: O(rows of the address),
  // not a scan of the site's sign-ups.
  const forms = mailboxForms(email);
  const clientIds = db.prepare(`SELECT client_id FROM signups WHERE ${ERASE_MATCH}`).pluck();
  const deleteDeliveries = db.prepare(`DELETE FROM hook_deliveries WHERE signup_seq IN (SELECT seq FROM signups WHERE ${ERASE_MATCH})`);
  const deleteSignups = db.prepare(`DELETE FROM signups WHERE ${ERASE_MATCH}`);
  return db.transaction(() => {
    const bound = db
      .prepare(
        `SELECT MAX(COALESCE((SELECT MAX(collected_ms) FROM signups WHERE site_id = s.id), 0), s.erased_through_ms)
           FROM sites s WHERE s.id = ?`,
      )
      .pluck()
      .get(siteId) as number | undefined;
    const at = Math.max(Date.now(), bound ?? 0);
    // Tombstones first (store/tombstones.ts): a browser that never saw this sign-up's 2xx sends it
    // again, under the same id, and would store the address again. Their hashes go in the erase
    // record too, so a replay onto a backup taken before now tombstones them again.
    const ids = forms.flatMap((form) => clientIds.all(siteId, form) as string[]);
    putTombstones(db, siteId, ids.map(idHash), at);
    let deliveries = 0;
    let signups = 0;
    for (const form of forms) {
      deliveries += deleteDeliveries.run(siteId, form).changes;
      signups += deleteSignups.run(siteId, form).changes;
    }
    db.prepare('UPDATE sites SET erased_through_ms = MAX(erased_through_ms, ?) WHERE id = ?').run(at, siteId);
    // Even with no row deleted: asking again after a failure finishes the job, purge included.
    markPurgeDue(db, 'erasure', purgeWithinMs);
    return { signups, deliveries, at, idHashes: ids.map(idHashHex) };
  }).immediate();
}

/**
 * Journals the erase record, before any scrub, so a replay honours the erasure whatever happens
 * next; `idHashes`: the tombstones of the rows it deleted (eraseRows), which a replay records again.
 */
export function journalErasure(journalDir: string, siteId: string, email: string, at: number, idHashes: string[] = []): void {
  const journal = createJournal(journalDir);
  try {
    // One record per form of the address (mailboxForms), each a hash: replay hashes each line's
    // and row's own address, so it erases every form, as eraseRows did (older versions too). The
    // tombstones, one list for all the forms' rows, go with the first.
    mailboxForms(email).forEach((form, i) => journal.appendErasure(siteId, form, at, i === 0 ? idHashes : []));
  } finally {
    journal.close();
  }
}

/** What the journal scrub removes for an erasure at `before`: every form of the address, as eraseRows deleted them. */
export function scrubTargets(site: string, email: string, before: number): ScrubTarget[] {
  return mailboxForms(email).map((form) => ({ site, email: form, before }));
}

/**
 * The whole erasure but the purge of the database file, which it records as due (the CLI's
 * `erase`: a process that never VACUUMs, as a server may be running on the same file). The scrub
 * runs even when the address has no row left: running the erasure again after a failure finishes
 * the job.
 */
export async function eraseEmail(
  db: Database.Database,
  siteId: string,
  email: string,
  journalDir?: string,
  purgeWithinMs = DEFAULT_PURGE_WITHIN_MINUTES * 60_000,
): Promise<ErasureResult> {
  const { signups, deliveries, at, idHashes } = eraseRows(db, siteId, email, purgeWithinMs);
  const purgeDueAt = pendingPurge(db, purgeWithinMs)?.dueAt ?? Date.now();
  if (journalDir) journalErasure(journalDir, siteId, email, at, idHashes);
  const journalLines = journalDir ? await scrubJournal(journalDir, scrubTargets(siteId, email, at)) : 0;
  return { signups, deliveries, journalLines, purgeDueAt };
}

export interface ScrubQueue {
  /**
   * Resolves once one erasure's address, every form of it (scrubTargets), is out of the journal;
   * rejects if that scrub failed. Its forms are queued together: one at a time, the first would
   * start a pass of its own (a pass takes what waits when it starts) and the next read every file again.
   */
  scrub(targets: ScrubTarget[]): Promise<void>;
  /** Resolves when no scrub is running or waiting (shutdown). */
  idle(): Promise<void>;
  /**
   * Shutdown: stops waiting for a lock another process holds (up to two minutes otherwise) and
   * stops a running scrub before its next file. Those erasures fail (503: asking again finishes them).
   */
  stop(): void;
}

/**
 * The server's journal scrubs, one at a time: a scrub reads every journal file, so erasures that
 * arrive while one runs wait and are then done together in one pass, however many there are.
 */
export function createScrubQueue(journalDir: string, log: Log): ScrubQueue {
  let waiting: Array<{ targets: ScrubTarget[]; done(e?: unknown): void }> = [];
  let running: Promise<void> | null = null;
  const stopping = new AbortController();

  async function run(): Promise<void> {
    while (waiting.length) {
      const batch = waiting;
      waiting = [];
      try {
        const lines = await scrubJournal(journalDir, batch.flatMap((b) => b.targets), { signal: stopping.signal });
        for (const b of batch) b.done();
        if (lines) log.info({ addresses: batch.length, lines }, 'journal scrubbed');
      } catch (e) {
        log.error({ err: e, addresses: batch.length }, 'journal scrub failed');
        for (const b of batch) b.done(e);
      }
    }
    running = null;
  }

  return {
    scrub(targets) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ targets, done: (e) => (e === undefined ? resolve() : reject(e)) });
        running ??= run();
      });
    },
    idle: () => running ?? Promise.resolve(),
    stop: () => stopping.abort(),
  };
}
