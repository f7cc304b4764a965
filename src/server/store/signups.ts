// Sign-up rows: the transactional insert (deduplicated on the browser's id, collected_at unique
// per site), the hooks that run inside that transaction, and the Email API read.
import { domainToASCII, domainToUnicode } from 'node:url';
import type { EmailRow } from '../../shared/signup';
import type { Db } from './db';
import { addCounts, dayIn, type CountKey } from './events';
import { touchSite } from './sites';
import { tombstonedAt } from './tombstones';

/**
 * An address as erasure compares it (stored in signups.email_fold): trimmed, then lower-cased by
 * JavaScript, which folds every letter (Élodie = élodie) where SQLite's NOCASE and lower() fold
 * ASCII only. The journal scrub and the erase records (journal.ts) use it too, so the
 * database, the journal and a replay erase the same sign-ups.
 */
export function foldEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The folded addresses (foldEmail) of one mailbox: `email`, and the same with its domain in the
 * other IDNA form. user@пример.рф is user@xn--e1afmkfd.xn--p1ai, the form Chromium's email input
 * sends, while a person typing an erasure request writes the first. Rows keep the form they came
 * in (email_fold is not canonical, and no migration rewrites it), so erasure and the --email
 * filter match every form; each is hashed on its own in erase records (journal.ts), so a replay
 * matches them as the database did.
 */
export function mailboxForms(email: string): string[] {
  const folded = foldEmail(email);
  const forms = new Set([folded]);
  const at = folded.lastIndexOf('@');
  // '' for a domain IDNA refuses: it has no other form.
  const ascii = at > 0 ? domainToASCII(folded.slice(at + 1)) : '';
  if (ascii) {
    for (const domain of [ascii, domainToUnicode(ascii)]) if (domain) forms.add(foldEmail(folded.slice(0, at + 1) + domain));
  }
  return [...forms];
}

export type StoredSignup = EmailRow & { seq: number; site_id: string };

export interface NewSignup {
  site_id: string;
  /** The browser's id (SignupPayload.id). */
  client_id: string;
  email: string;
  wisepop_id: number;
  ip: string;
  country_code: string | null;
  other_fields: Record<string, string>;
  consent: string | null;
  variant: string | null;
  /**
   * The group the sign-up is counted under in events_daily ('' for none), or null to store it
   * without counting it (a campaign the site never had). Default: its variant as is.
   */
  count_as?: string | null;
}

export type InsertResult =
  | {
      /** The stored row: this sign-up's, or the original one for a duplicate id. */
      row: StoredSignup;
      created: boolean;
      erased?: undefined;
    }
  | {
      /**
       * The id is a deleted sign-up's (store/tombstones.ts): a late retry of one that was erased
       * or expired. Nothing is stored; it is answered like a duplicate, with `collected_at` the
       * time of the deletion (the original's is gone with its row).
       */
      row: null;
      created: false;
      erased: { collected_at: string };
    };

interface SignupRow {
  seq: number;
  site_id: string;
  collected_at: string;
  email: string;
  wisepop_id: number;
  ip: string;
  country_code: string | null;
  other_fields: string;
  consent: string | null;
}

/**
 * A row of GET /api1/emails and of a hook payload: the seed's keys, unchanged and in its order,
 * then `consent`, the text of the consent checkbox the visitor ticked (null when the form had
 * none). Proving consent is the point of storing it, so it goes wherever the sign-up goes; a
 * Wisepops-style consumer ignores a key it does not know.
 */
export type EmailApiRow = EmailRow & { consent: string | null };

/** A DB row in the EmailApiRow shape: what /api1/emails and hook payloads both send. */
export function emailRow(r: Pick<SignupRow, 'collected_at' | 'email' | 'wisepop_id' | 'ip' | 'country_code' | 'other_fields' | 'consent'>): EmailApiRow {
  return {
    collected_at: r.collected_at,
    email: r.email,
    wisepop_id: r.wisepop_id,
    ip: r.ip,
    country_code: r.country_code,
    other_fields: JSON.parse(r.other_fields) as Record<string, string>,
    consent: r.consent,
  };
}

const stored = (r: SignupRow): StoredSignup => ({ ...emailRow(r), seq: r.seq, site_id: r.site_id });

export type SignupHook = (db: Db, siteId: string, rows: StoredSignup[]) => void;
const hooks = new Set<SignupHook>();

/**
 * Runs `fn` inside every sign-up transaction, after the rows are inserted: what it writes
 * commits with them, and if it throws, the sign-ups are rolled back (the browser retries).
 * Returns the unregister function.
 */
export function registerSignupHook(fn: SignupHook): () => void {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

function prepare(db: Db) {
  return {
    insert: db.prepare(
      `INSERT INTO signups (site_id, client_id, collected_at, collected_ms, email, email_fold, wisepop_id, ip, country_code, other_fields, consent, variant)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (site_id, client_id) DO NOTHING RETURNING seq`,
    ).pluck(),
    existing: db.prepare('SELECT * FROM signups WHERE site_id = ? AND client_id = ?'),
    // The site's latest collected_ms, or its last erasure's boundary if later (see eraseRows).
    lastMs: db
      .prepare(
        `SELECT MAX(COALESCE((SELECT MAX(collected_ms) FROM signups WHERE site_id = s.id), 0), s.erased_through_ms)
           FROM sites s WHERE s.id = ?`,
      )
      .pluck(),
    timezone: db.prepare('SELECT timezone FROM sites WHERE id = ?').pluck(),
  };
}
const statements = new WeakMap<Db, ReturnType<typeof prepare>>();

/**
 * Stores sign-ups in ONE transaction (the group commit unit): each gets collected_at = now, or
 * one millisecond after the site's latest (or after its last erasure's boundary), so collected_at
 * is strictly increasing per site and never at or before an erasure that committed first.
 * Counts each new sign-up in events_daily under its group (NewSignup.count_as) and runs the
 * registered hooks, in the same transaction.
 */
export function insertSignups(db: Db, items: NewSignup[], now = Date.now()): InsertResult[] {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  const st = s;
  return db.transaction(() => {
    const last = new Map<string, number>();
    const created = new Map<string, StoredSignup[]>();
    const zones = new Map<string, string>();
    // Keyed by the row's identity in JSON: a variant id may hold any character.
    const counts = new Map<string, CountKey & { n: number }>();
    const results = items.map((item): InsertResult => {
      // Checked first: a deleted row's id is in no row, so the insert below would take it.
      const erasedMs = tombstonedAt(db, item.site_id, item.client_id);
      if (erasedMs !== undefined) return { row: null, created: false, erased: { collected_at: new Date(erasedMs).toISOString() } };
      let prev = last.get(item.site_id);
      if (prev === undefined) prev = (st.lastMs.get(item.site_id) as number | null) ?? 0;
      const ms = Math.max(now, prev + 1);
      const at = new Date(ms).toISOString();
      const fields = JSON.stringify(item.other_fields);
      const seq = st.insert.get(
        item.site_id, item.client_id, at, ms, item.email, foldEmail(item.email), item.wisepop_id, item.ip, item.country_code, fields, item.consent, item.variant,
      ) as number | undefined;
      if (seq === undefined) {
        last.set(item.site_id, prev);
        return { row: stored(st.existing.get(item.site_id, item.client_id) as SignupRow), created: false };
      }
      last.set(item.site_id, ms);
      const row: StoredSignup = {
        seq, site_id: item.site_id, collected_at: at, email: item.email, wisepop_id: item.wisepop_id,
        ip: item.ip, country_code: item.country_code, other_fields: item.other_fields,
      };
      const list = created.get(item.site_id);
      if (list) list.push(row);
      else created.set(item.site_id, [row]);
      const group = item.count_as === undefined ? item.variant ?? '' : item.count_as;
      if (group === null) return { row, created: true };
      let tz = zones.get(item.site_id);
      if (tz === undefined) zones.set(item.site_id, (tz = (st.timezone.get(item.site_id) as string | undefined) ?? 'UTC'));
      const key = { site: item.site_id, campaign: item.wisepop_id, day: dayIn(ms, tz), variant: group };
      const id = JSON.stringify([key.site, key.campaign, key.day, key.variant]);
      const count = counts.get(id);
      if (count) count.n += 1;
      else counts.set(id, { ...key, n: 1 });
      return { row, created: true };
    });
    for (const { n, ...key } of counts.values()) addCounts(db, key, { signups: n });
    for (const [site, rows] of created) {
      touchSite(db, site, now);
      for (const fn of hooks) fn(db, site, rows);
    }
    return results;
  }).immediate();
}

export interface EmailQuery {
  /** Strictly after this epoch ms. */
  afterMs?: number;
  wisepopId?: number;
  /** Only this address, compared as erasure compares it (mailboxForms, on the indexed email_fold). */
  email?: string;
  limit: number;
  offset: number;
}

/**
 * Oldest first. New rows always come after the newest, but erasure and the retention job delete
 * rows anywhere, which shifts every later row to a smaller offset: a client paging by `page` then
 * skips rows. Paging by `collected_after` (the last collected_at seen: unique per site) never does.
 */
export function listEmails(db: Db, siteId: string, q: EmailQuery): EmailApiRow[] {
  const where = ['site_id = ?', 'collected_ms > ?'];
  const args: Array<string | number> = [siteId, q.afterMs ?? -1];
  if (q.wisepopId !== undefined) {
    where.push('wisepop_id = ?');
    args.push(q.wisepopId);
  }
  if (q.email !== undefined) {
    const forms = mailboxForms(q.email);
    where.push(`email_fold IN (${forms.map(() => '?').join(', ')})`);
    args.push(...forms);
  }
  const rows = db
    .prepare(
      `SELECT collected_at, email, wisepop_id, ip, country_code, other_fields, consent FROM signups
       WHERE ${where.join(' AND ')} ORDER BY collected_ms LIMIT ? OFFSET ?`,
    )
    .all(...args, q.limit, q.offset) as SignupRow[];
  return rows.map(emailRow);
}
