// Right to erasure: every sign-up of an address on a site goes, with its hook deliveries (the
// foreign key cascades; deleted explicitly too so it holds even without foreign_keys). Copies in
// the recovery journal are scrubbed and an erase record (a hash, not the address) is journaled so
// that a later restore + replay cannot bring the address back. Backups taken before the erasure
// hold the address until they rotate out (7 days); restoring one must be followed by `replay`,
// which re-applies the erasure.
import type Database from 'better-sqlite3';
import { createJournal, scrubJournal } from './journal';

export interface ErasureResult {
  signups: number;
  deliveries: number;
  journalLines: number;
}

export function eraseEmail(db: Database.Database, siteId: string, email: string, journalDir?: string): ErasureResult {
  const address = email.trim();
  // SQLite's NOCASE folds ASCII only; the journal scrub folds every letter (Élodie = élodie).
  // Both must erase the same rows, so the database compares with JavaScript's folding too.
  db.function('poplet_fold', { deterministic: true }, (v: unknown) => String(v).toLowerCase());
  const folded = address.toLowerCase();
  const result = db.transaction((): ErasureResult => {
    const deliveries = db
      .prepare(
        `DELETE FROM hook_deliveries WHERE signup_seq IN
           (SELECT seq FROM signups WHERE site_id = ? AND poplet_fold(email) = ?)`,
      )
      .run(siteId, folded).changes;
    const signups = db.prepare(`DELETE FROM signups WHERE site_id = ? AND poplet_fold(email) = ?`).run(siteId, folded).changes;
    return { signups, deliveries, journalLines: 0 };
  }).immediate();
  if (journalDir) {
    result.journalLines = scrubJournal(journalDir, siteId, address);
    const journal = createJournal(journalDir);
    journal.appendErasure(siteId, address);
    journal.close();
  }
  return result;
}
