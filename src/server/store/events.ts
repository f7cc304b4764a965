// Per campaign per day counters (displays, closes, clicks, sign-ups, goals and their revenue) and
// the stats read model.
import type { Db } from './db';

export type Counter = 'displays' | 'closes' | 'clicks' | 'signups' | 'goals' | 'revenue';
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
    `INSERT INTO events_daily (site_id, wisepop_id, day, displays, closes, clicks, signups, goals, revenue)
     VALUES (@site, @campaign, @day, @displays, @closes, @clicks, @signups, @goals, @revenue)
     ON CONFLICT (site_id, wisepop_id, day) DO UPDATE SET
       displays = displays + excluded.displays, closes = closes + excluded.closes,
       clicks = clicks + excluded.clicks, signups = signups + excluded.signups,
       goals = goals + excluded.goals, revenue = revenue + excluded.revenue`,
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
    goals: counts.goals ?? 0,
    revenue: counts.revenue ?? 0,
  });
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export interface StatsRow {
  day: string;
  wisepop_id: number;
  displays: number;
  closes: number;
  clicks: number;
  signups: number;
  /** signups / displays, 0 when nothing was displayed; rounded to 4 decimals. */
  conversion_rate: number;
  /** wisepops('goal') calls credited to the campaign */
  goals: number;
  /** Sum of their revenue, rounded to 4 decimals (no float dust such as 0.30000000000000004). */
  revenue: number;
}

export function readStats(db: Db, site: string, from: string, to: string, campaign?: number): StatsRow[] {
  const rows = db
    .prepare(
      `SELECT day, wisepop_id, displays, closes, clicks, signups, goals, revenue FROM events_daily
       WHERE site_id = ? AND day >= ? AND day <= ? ${campaign === undefined ? '' : 'AND wisepop_id = ?'}
       ORDER BY day, wisepop_id`,
    )
    .all(...(campaign === undefined ? [site, from, to] : [site, from, to, campaign])) as Omit<StatsRow, 'conversion_rate'>[];
  return rows.map(({ goals, revenue, ...r }) => ({
    ...r,
    conversion_rate: r.displays ? round4(r.signups / r.displays) : 0,
    goals,
    revenue: round4(revenue),
  }));
}
