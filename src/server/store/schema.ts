// Core tables of the collection server, run in order by store/db.ts (versions 1–99; the hooks
// tables in src/server/hooks/schema.ts are 100+).
//
// signups.collected_ms is UNIQUE per site: the server bumps it by a millisecond when two sign-ups
// of one site land in the same millisecond, so the Email API's strictly-after `collected_after`
// never repeats nor skips a row. seq orders the rows for hooks and replays.
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import { foldEmail } from './signups';
import { countableDays, dayToken } from './events';

/**
 * One schema step: `sql`, then `run` for what SQL cannot do (a JavaScript function over rows),
 * both in the migration's transaction.
 */
export interface Migration {
  version: number;
  sql: string;
  run?: (db: Database.Database) => void;
}

/** Rows the email_fold backfill reads and writes per statement: bounded memory on any table. */
const FOLD_BATCH = 5000;

/** visitors_daily as migration 7 made it, and migration 8 again under a new name (see there). */
const visitorsDaily = (name: string) => `CREATE TABLE ${name} (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  wisepop_id INTEGER NOT NULL,
  variant TEXT NOT NULL,
  visitor INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  PRIMARY KEY (site_id, day, wisepop_id, variant, visitor)
) WITHOUT ROWID;`;
const VISITORS_TRIGGER = `CREATE TRIGGER events_daily_visitors AFTER DELETE ON events_daily
BEGIN
  DELETE FROM visitors_daily
   WHERE site_id = OLD.site_id AND day = OLD.day AND wisepop_id = OLD.wisepop_id AND variant = OLD.variant;
END;`;

export const CORE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_enc TEXT NOT NULL,
  origins TEXT NOT NULL DEFAULT '[]',
  timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at TEXT NOT NULL,
  last_active_at TEXT
);

CREATE TABLE campaigns (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  body TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (site_id, id)
);

CREATE TABLE signups (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  collected_at TEXT NOT NULL,
  collected_ms INTEGER NOT NULL,
  email TEXT NOT NULL,
  wisepop_id INTEGER NOT NULL,
  ip TEXT NOT NULL,
  country_code TEXT,
  other_fields TEXT NOT NULL DEFAULT '{}',
  consent TEXT,
  variant TEXT,
  UNIQUE (site_id, client_id),
  UNIQUE (site_id, collected_ms)
);
-- The Email API filtered by campaign: oldest first within one wisepop_id.
CREATE INDEX signups_campaign ON signups(site_id, wisepop_id, collected_ms);
-- Erasure requests look people up by address.
CREATE INDEX signups_email ON signups(site_id, email);

CREATE TABLE events_daily (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  wisepop_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  displays INTEGER NOT NULL DEFAULT 0,
  closes INTEGER NOT NULL DEFAULT 0,
  clicks INTEGER NOT NULL DEFAULT 0,
  signups INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, wisepop_id, day)
) WITHOUT ROWID;
`,
  },
  {
    // wisepops('goal', name, {revenue}): conversions credited to the campaigns a visitor saw.
    version: 2,
    sql: `
ALTER TABLE events_daily ADD COLUMN goals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events_daily ADD COLUMN revenue REAL NOT NULL DEFAULT 0;
`,
  },
  {
    // A/B results: counters per variant ('' = the campaign ran no test, 'control' = the visitors
    // held back). The key changes, which SQLite cannot do in place: new table, copy, drop,
    // rename. Rows counted before this version mixed every group and keep variant ''.
    version: 3,
    sql: `
CREATE TABLE events_daily_v3 (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  wisepop_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  variant TEXT NOT NULL DEFAULT '',
  displays INTEGER NOT NULL DEFAULT 0,
  closes INTEGER NOT NULL DEFAULT 0,
  clicks INTEGER NOT NULL DEFAULT 0,
  signups INTEGER NOT NULL DEFAULT 0,
  goals INTEGER NOT NULL DEFAULT 0,
  revenue REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, wisepop_id, day, variant)
) WITHOUT ROWID;
INSERT INTO events_daily_v3 (site_id, wisepop_id, day, variant, displays, closes, clicks, signups, goals, revenue)
  SELECT site_id, wisepop_id, day, '', displays, closes, clicks, signups, goals, revenue FROM events_daily;
DROP TABLE events_daily;
ALTER TABLE events_daily_v3 RENAME TO events_daily;
`,
  },
  {
    // Goals per goal name: a site tracking 'purchase' and 'newsletter' must tell them apart.
    // events_daily keeps the totals (goals, revenue) that API users already read. Goals counted
    // before this version were never stored by name, so they stay in those totals only.
    version: 4,
    sql: `
CREATE TABLE goals_daily (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  wisepop_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  variant TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  goals INTEGER NOT NULL DEFAULT 0,
  revenue REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, wisepop_id, day, variant, name)
) WITHOUT ROWID;
`,
  },
  {
    // The erasure's time boundary, per site: an erasure deletes every sign-up collected up to it
    // (in the database, the journal and any replay), so every later sign-up must be collected
    // after it. collected_ms runs ahead of the clock in a burst (each row 1 ms after the last),
    // and a writer may have read the clock before waiting for the erasure's lock: insertSignups
    // reads this floor inside its transaction and collects every new row after it.
    version: 5,
    sql: `
ALTER TABLE sites ADD COLUMN erased_through_ms INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    // Erasure matched with poplet_fold(email), a JavaScript function no index can serve: every
    // erasure read every sign-up of the site on the event loop (~0.5-0.9 s per million). The
    // folded address is stored instead, written by its two writers (insertSignups, replay) with
    // foldEmail, the fold of the journal scrub and the erase records, and indexed with the site.
    // SQL's lower() folds ASCII only, so the backfill runs in JavaScript, in batches by seq.
    // signups_email (site_id, email) served nothing since erasure compared folded addresses.
    // The trigger refuses a row without its fold: such a row could never be erased.
    version: 6,
    sql: `
ALTER TABLE signups ADD COLUMN email_fold TEXT;
DROP INDEX signups_email;
`,
    run(db) {
      const read = db.prepare<[number, number], { seq: number; email: string }>(
        'SELECT seq, email FROM signups WHERE seq > ? ORDER BY seq LIMIT ?',
      );
      const write = db.prepare<[string, number]>('UPDATE signups SET email_fold = ? WHERE seq = ?');
      for (let after = 0; ; ) {
        const rows = read.all(after, FOLD_BATCH);
        if (!rows.length) break;
        for (const r of rows) write.run(foldEmail(r.email), r.seq);
        after = rows[rows.length - 1]!.seq;
      }
      db.exec(`
CREATE INDEX signups_email_fold ON signups(site_id, email_fold);
CREATE TRIGGER signups_email_fold_required BEFORE INSERT ON signups WHEN NEW.email_fold IS NULL
BEGIN SELECT RAISE(ABORT, 'signups.email_fold is required (foldEmail(email))'); END;
`);
    },
  },
  {
    // Unique visitors: the analytics id (wisepops_visitor) a batch of /events carries, counted
    // per campaign, group and day. events_daily gets the counts the stats read; visitors_daily
    // holds only what deduplicating them needs: one row per visitor shown a campaign and group
    // that day, the visitor being a 64-bit keyed hash of (site, day, campaign, group, id), so no
    // raw id is stored (store/events.ts, idToken; its key derives from secret.key, which left the
    // rows linkable by whoever had it: migration 8). flags: 1 shown (every row), 2 signed up, 4
    // credited a goal. The key leads with (site_id, day), the per-site daily cap's range.
    // The trigger deletes a row's visitors with the row itself, so whatever deletes daily counts
    // (the retention job, a site's deletion) deletes them too. Each visitors_daily row has its
    // events_daily row: a visitor row is only written with the display that counts there.
    version: 7,
    sql: `
ALTER TABLE events_daily ADD COLUMN visitors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events_daily ADD COLUMN visitors_signed_up INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events_daily ADD COLUMN visitors_with_goal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events_daily ADD COLUMN visitors_dropped INTEGER NOT NULL DEFAULT 0;
${visitorsDaily('visitors_daily')}
${VISITORS_TRIGGER}
`,
  },
  {
    // Unique visitors, unlinkable once their day is over. Up to 7, visitors_daily held idToken:
    // an HMAC under a key derived from secret.key, so whoever had the data folder and an analytics
    // id could find that id's rows, on every day. Each site-day now has a random key
    // (visitor_days.secret), kept only while the day can still be counted (today and yesterday in
    // the site's time zone, store/events.ts countableDays) and then deleted; the rows hold
    // dayToken(key, idToken). visitor_days also holds each open day's row count, which the
    // per-site daily cap reads with one seek instead of counting the day's rows.
    // The stored tokens are the idTokens of their visitors, so each becomes dayToken of itself:
    // under a new key kept for the days still countable (a visitor counted there before the upgrade
    // is recognised after it), under a key forgotten at the end of this step for every earlier
    // day. A new table, as the token is part of the primary key.
    version: 8,
    sql: `
CREATE TABLE visitor_days (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  secret BLOB NOT NULL,
  visitor_rows INTEGER NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
`,
    run(db) {
      const keys = new Map<string, { secret: Buffer; key: KeyObject }>();
      const keyOf = (site: string, day: string) => {
        const id = JSON.stringify([site, day]);
        let k = keys.get(id);
        if (!k) {
          const secret = randomBytes(32);
          keys.set(id, (k = { secret, key: createSecretKey(secret) }));
        }
        return k;
      };
      const FN = 'poplet_day_token';
      db.function(FN, { deterministic: true, safeIntegers: true }, (site: unknown, day: unknown, token: unknown) =>
        dayToken(keyOf(site as string, day as string).key, token as bigint),
      );
      // OR IGNORE: two visitors of one row whose new tokens collide (about 10^-10 at 100,000
      // visitors) share a row; the counts, in events_daily, are untouched.
      db.exec(`
DROP TRIGGER events_daily_visitors;
${visitorsDaily('visitors_daily_v8')}
INSERT OR IGNORE INTO visitors_daily_v8 (site_id, day, wisepop_id, variant, visitor, flags)
  SELECT site_id, day, wisepop_id, variant, ${FN}(site_id, day, visitor), flags FROM visitors_daily;
DROP TABLE visitors_daily;
ALTER TABLE visitors_daily_v8 RENAME TO visitors_daily;
${VISITORS_TRIGGER}
`);
      const now = Date.now();
      const zones = new Map(db.prepare('SELECT id, timezone FROM sites').raw().all() as Array<[string, string]>);
      const open = (site: string, day: string): boolean => {
        const zone = zones.get(site);
        if (zone === undefined) return false;
        try {
          return day >= countableDays(now, zone).yesterday;
        } catch {
          return false; // a time zone Intl does not know: nothing of the site can be counted
        }
      };
      const days = db.prepare('SELECT site_id, day, COUNT(*) FROM visitors_daily GROUP BY site_id, day').raw().all() as Array<[string, string, number]>;
      const keep = db.prepare('INSERT INTO visitor_days (site_id, day, secret, visitor_rows) VALUES (?, ?, ?, ?)');
      for (const [site, day, rows] of days) if (open(site, day)) keep.run(site, day, keyOf(site, day).secret, rows);
      // The closed days' keys end here: zeroed, and the function that held them replaced.
      for (const k of keys.values()) k.secret.fill(0);
      keys.clear();
      db.function(FN, () => {
        throw new Error(`${FN} belongs to the migration to schema 8`);
      });
    },
  },
  {
    // Purges of the database file that are due (lifecycle/purge.ts): whatever deletes personal
    // data (an erasure, a retention run, a replay) records one in the transaction of its delete,
    // so no process (the server, `poplet erase`) that commits the delete can lose it: not a crash,
    // not a restart. The server runs one purge for all of them by the earliest due_ms (or marked_ms
    // plus its own POPLET_PURGE_WITHIN), then deletes the rows that purge covered. No personal
    // data: times and what it was for.
    version: 9,
    sql: `
CREATE TABLE purge_due (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  reason TEXT NOT NULL,
  marked_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL
);
`,
  },
  {
    // Tombstones of deleted sign-ups (store/tombstones.ts): the browser's outbox sends a sign-up
    // again under its id until it sees a 2xx, so a retry arriving after an erasure stored the
    // erased address again. Whatever deletes sign-ups (an erasure, the retention job, a replayed
    // erasure) records, in its transaction, a 64-bit hash of each one's client_id, and
    // insertSignups answers a retry of one like a duplicate, storing nothing. No personal data:
    // a hash of a random id, its site, when it was deleted. Pruned after TOMBSTONE_DAYS by the
    // retention job; a site's go with it. Nothing to backfill: rows deleted before this version
    // left nothing to hash.
    version: 10,
    sql: `
CREATE TABLE signup_tombstones (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  id_hash INTEGER NOT NULL,
  erased_ms INTEGER NOT NULL,
  PRIMARY KEY (site_id, id_hash)
) WITHOUT ROWID;
`,
  },
];
