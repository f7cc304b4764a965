// Per campaign per day counters (displays, closes, clicks, sign-ups) and the stats read model.
import type { Db } from './db';

export type Counter = 'displays' | 'closes' | 'clicks' | 'signups';
export type Counts = Partial<Record<Counter, number>>;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of an instant in a time zone (the site's: owners read days in their own time). */
export function dayIn(ms: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(ms);
}

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();

function prepare(db: Db) {
  return db.prepare(
    `INSERT INTO events_daily (site_id, wisepop_id, day, displays, closes, clicks, signups)
     VALUES (@site, @campaign, @day, @displays, @closes, @clicks, @signups)
     ON CONFLICT (site_id, wisepop_id, day) DO UPDATE SET
       displays = displays + excluded.displays, closes = closes + excluded.closes,
       clicks = clicks + excluded.clicks, signups = signups + excluded.signups`,
  );
}

/** Adds to one campaign-day. Call inside the caller's transaction when batching. */
export function addCounts(db: Db, site: string, campaign: number, day: string, counts: Counts): void {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  s.run({
    site,
    campaign,
    day,
    displays: counts.displays ?? 0,
    closes: counts.closes ?? 0,
    clicks: counts.clicks ?? 0,
    signups: counts.signups ?? 0,
  });
}

export interface StatsRow {
  day: string;
  wisepop_id: number;
  displays: number;
  closes: number;
  clicks: number;
  signups: number;
  /** signups / displays, 0 when nothing was displayed; rounded to 4 decimals. */
  conversion_rate: number;
}

export function readStats(db: Db, site: string, from: string, to: string, campaign?: number): StatsRow[] {
  const rows = db
    .prepare(
      `SELECT day, wisepop_id, displays, closes, clicks, signups FROM events_daily
       WHERE site_id = ? AND day >= ? AND day <= ? ${campaign === undefined ? '' : 'AND wisepop_id = ?'}
       ORDER BY day, wisepop_id`,
    )
    .all(...(campaign === undefined ? [site, from, to] : [site, from, to, campaign])) as Omit<StatsRow, 'conversion_rate'>[];
  return rows.map((r) => ({
    ...r,
    conversion_rate: r.displays ? Math.round((r.signups / r.displays) * 1e4) / 1e4 : 0,
  }));
}
