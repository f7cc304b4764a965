// Tombstones of deleted sign-ups: the browser ids (signups.client_id) of rows that an erasure,
// the retention job or a replayed erasure deleted, so that a retry of one of them is answered like
// a duplicate (200) and stores nothing, delivers nothing, counts nothing.
//
// The browser's outbox (src/sdk/collect/outbox.ts) keeps a sign-up until it sees a 2xx, and sends
// it again under the same id from any later page view of the site: when the 2xx of a stored
// sign-up was lost (a network cut, a tab closed), the retry can arrive after the row was erased,
// and without a tombstone it was stored again, its hooks delivered again: the erased address came
// back. The id is a random nanoid, not personal data; it is kept hashed all the same (64 bits of
// SHA-256: a chance of about 1 in 2^64 per tombstone that a new sign-up's id collides), with the
// site and the time of the deletion, and nothing else.
//
// The outbox sets no age limit: a sign-up waits until the visitor comes back to the site, however
// late. A tombstone is kept TOMBSTONE_DAYS after the deletion, the two years Poplet keeps anything
// of a visitor (the cookies' default lifetime, the retention period, the inactivity after which a
// site is deleted): an erased sign-up could come back only from a browser that kept it unsent
// while its visitor stayed away from the site for longer than that.
import { hash } from 'node:crypto';
import type { Db } from './db';

const DAY = 86_400_000;
/** How long a tombstone is kept after its sign-up was deleted. */
export const TOMBSTONE_DAYS = 730;
export const TOMBSTONE_MS = TOMBSTONE_DAYS * DAY;

/** The SQL function over client_id that gives idHash (registered on every connection, store/db.ts). */
export const ID_HASH_SQL = 'poplet_id_hash';

/** A browser id as tombstones hold it: the first 64 bits of its SHA-256, as a signed integer. */
export function idHash(clientId: string): bigint {
  // The one-shot hash: a third of createHash's time, and it runs for every sign-up.
  return BigInt.asIntN(64, BigInt(`0x${hash('sha256', clientId).slice(0, 16)}`));
}

/** idHash in the journal's erase records: 16 hex digits (JSON has no 64-bit integers). */
export const idHashHex = (clientId: string): string => BigInt.asUintN(64, idHash(clientId)).toString(16).padStart(16, '0');
/** Back from idHashHex; null for anything else (a hand-edited or damaged record). */
export function fromHex(hex: unknown): bigint | null {
  if (typeof hex !== 'string' || !/^[0-9a-f]{16}$/.test(hex)) return null;
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}

function prepare(db: Db) {
  return {
    find: db.prepare<[string, bigint]>('SELECT erased_ms FROM signup_tombstones WHERE site_id = ? AND id_hash = ?').pluck(),
    // A later deletion keeps the tombstone longer, never shorter. Not for a site that no longer
    // exists (a replayed erase record of a deleted site): its sign-ups are refused as unknown anyway.
    put: db.prepare<[string, bigint, number, string]>(
      `INSERT INTO signup_tombstones (site_id, id_hash, erased_ms) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sites WHERE id = ?)
       ON CONFLICT (site_id, id_hash) DO UPDATE SET erased_ms = MAX(erased_ms, excluded.erased_ms)`,
    ),
  };
}
const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
const stmts = (db: Db) => {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
};

/** When the sign-up of this browser id was deleted, if it has a tombstone on this site. */
export function tombstonedAt(db: Db, siteId: string, clientId: string): number | undefined {
  return stmts(db).find.get(siteId, idHash(clientId)) as number | undefined;
}

/** Records tombstones, by hash (idHash), at `erasedMs`. */
export function putTombstones(db: Db, siteId: string, hashes: Iterable<bigint>, erasedMs: number): void {
  const put = stmts(db).put;
  for (const h of hashes) put.run(siteId, h, erasedMs, siteId);
}

/**
 * Records the tombstones of the sign-ups `where` selects (an SQL condition on signups, with
 * `args`), before they are deleted; in the caller's transaction. One statement, whatever their
 * number (a retention run may delete millions).
 */
export function tombstoneRows(db: Db, where: string, args: unknown[], erasedMs: number): number {
  return db
    .prepare(
      `INSERT INTO signup_tombstones (site_id, id_hash, erased_ms)
       SELECT site_id, ${ID_HASH_SQL}(client_id), ? FROM signups WHERE ${where}
       ON CONFLICT (site_id, id_hash) DO UPDATE SET erased_ms = MAX(erased_ms, excluded.erased_ms)`,
    )
    .run(erasedMs, ...args).changes;
}

/** Deletes the tombstones past TOMBSTONE_DAYS (the retention job). */
export function pruneTombstones(db: Db, now = Date.now()): number {
  return db.prepare('DELETE FROM signup_tombstones WHERE erased_ms < ?').run(now - TOMBSTONE_MS).changes;
}
