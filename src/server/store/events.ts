// Per campaign, day and A/B group counters (displays, closes, clicks, sign-ups, goals and their
// revenue) and the stats read model. The group is kept apart so a test can be read: a control
// group's displays added to the campaign's would dilute every conversion rate. Goals are also
// counted per goal name in goals_daily, beside the totals in events_daily.
import type { Db } from './db';

export type Counter = 'displays' | 'closes' | 'clicks' | 'signups' | 'goals' | 'revenue';
export type Counts = Partial<Record<Counter, number>>;

/** One row of events_daily (and, with a goal name, of goals_daily). */
export interface CountKey {
  site: string;
  campaign: number;
  /** YYYY-MM-DD in the site's time zone. */
  day: string;
  /** Variant id, 'control', or '' when the campaign ran no test. */
  variant: string;
}

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

/** The goals of one name and their revenue. */
export interface GoalCounts {
  goals: number;
  revenue: number;
}

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();

function prepare(db: Db) {
  return {
    counts: db.prepare(
      `INSERT INTO events_daily (site_id, wisepop_id, day, variant, displays, closes, clicks, signups, goals, revenue)
       VALUES (@site, @campaign, @day, @variant, @displays, @closes, @clicks, @signups, @goals, @revenue)
       ON CONFLICT (site_id, wisepop_id, day, variant) DO UPDATE SET
         displays = displays + excluded.displays, closes = closes + excluded.closes,
         clicks = clicks + excluded.clicks, signups = signups + excluded.signups,
         goals = goals + excluded.goals, revenue = revenue + excluded.revenue`,
    ),
    goals: db.prepare(
      `INSERT INTO goals_daily (site_id, wisepop_id, day, variant, name, goals, revenue)
       VALUES (@site, @campaign, @day, @variant, @name, @goals, @revenue)
       ON CONFLICT (site_id, wisepop_id, day, variant, name) DO UPDATE SET
         goals = goals + excluded.goals, revenue = revenue + excluded.revenue`,
    ),
    // A prefix of the primary key: a seek, and a scan of that campaign's rows only.
    // Only rows /events wrote (a display, close, click or goal): /collect stores any campaign id
    // and group a stranger posts, so its sign-up counts must never make a campaign or group "had".
    groups: db
      .prepare<[string, number], string>(
        `SELECT DISTINCT variant FROM events_daily WHERE site_id = ? AND wisepop_id = ?
           AND (displays > 0 OR closes > 0 OR clicks > 0 OR goals > 0)`,
      )
      .pluck(),
  };
}

function statementsOf(db: Db): ReturnType<typeof prepare> {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

/** Adds to one campaign-day-group. Call inside the caller's transaction when batching. */
export function addCounts(db: Db, key: CountKey, counts: Counts): void {
  statementsOf(db).counts.run({
    site: key.site,
    campaign: key.campaign,
    day: key.day,
    variant: key.variant,
    displays: counts.displays ?? 0,
    closes: counts.closes ?? 0,
    clicks: counts.clicks ?? 0,
    signups: counts.signups ?? 0,
    goals: counts.goals ?? 0,
    revenue: counts.revenue ?? 0,
  });
}

/**
 * Adds to one goal name of a campaign-day-group. Only the per-name table: the caller adds the
 * same goals to the totals with addCounts, in the same transaction, so both always agree.
 */
export function addGoals(db: Db, key: CountKey, name: string, counts: GoalCounts): void {
  statementsOf(db).goals.run({ site: key.site, campaign: key.campaign, day: key.day, variant: key.variant, name, ...counts });
}

/**
 * The groups a campaign has /events counts under ('' for no group), in the retention window;
 * empty when the site has none of it. Sign-up counts alone do not count (see prepare).
 */
export function countedGroups(db: Db, site: string, campaign: number): Set<string> {
  return new Set(statementsOf(db).groups.all(site, campaign));
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export interface StatsRow {
  day: string;
  wisepop_id: number;
  /** Variant id, 'control' (the visitors held back: displays, no sign-ups), or null when the campaign ran no test. */
  variant: string | null;
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
  /**
   * The same goals per goal name, revenue rounded alike; {} without goals. Goals counted before
   * goals were stored by name are in the totals only, so these may add up to less than them.
   */
  goals_by_name: Record<string, GoalCounts>;
}

export interface StatsQuery {
  from: string;
  to: string;
  campaign?: number;
  /** A variant id or 'control'. */
  variant?: string;
  /** Only rows from this (day, campaign, group) on: after it, or from it when inclusive. */
  since?: { day: string; wisepop_id: number; variant: string; inclusive: boolean };
}

function statsWhere(site: string, q: StatsQuery): { where: string[]; args: Array<string | number> } {
  const where = ['site_id = ?', 'day >= ?', 'day <= ?'];
  const args: Array<string | number> = [site, q.from, q.to];
  if (q.since) {
    // Compared by SQLite itself, in the ORDER BY's own order (text in BINARY, as stored).
    where.push(`(day, wisepop_id, variant) ${q.since.inclusive ? '>=' : '>'} (?, ?, ?)`);
    args.push(q.since.day, q.since.wisepop_id, q.since.variant);
  }
  if (q.campaign !== undefined) {
    where.push('wisepop_id = ?');
    args.push(q.campaign);
  }
  if (q.variant !== undefined) {
    where.push('variant = ?');
    args.push(q.variant);
  }
  return { where, args };
}

/** How many rows readStats would read: the daily rows and their goal names. */
export function countStats(db: Db, site: string, q: StatsQuery): { rows: number; goalRows: number } {
  const { where, args } = statsWhere(site, q);
  const count = (table: string) => db.prepare(`SELECT COUNT(*) FROM ${table} WHERE ${where.join(' AND ')}`).pluck().get(...args) as number;
  return { rows: count('events_daily'), goalRows: count('goals_daily') };
}

type RowKey = { day: string; wisepop_id: number; variant: string };

/**
 * The newest rows that fit in `rows` daily rows and `goalRows` goal names, as readStats answers
 * them (oldest first), and whether older ones were left out. A row is never answered with only
 * part of its goal names: when the names are what overflows, the row they run out in is left out.
 */
export function readNewestStats(db: Db, site: string, q: StatsQuery, max: { rows: number; goalRows: number }): { rows: StatsRow[]; truncated: boolean } {
  return db.transaction(() => {
    const size = countStats(db, site, q);
    if (size.rows <= max.rows && size.goalRows <= max.goalRows) return { rows: readStats(db, site, q), truncated: false };
    const nth = (table: string, query: StatsQuery, offset: number): RowKey | undefined => {
      const { where, args } = statsWhere(site, query);
      return db
        .prepare(
          `SELECT day, wisepop_id, variant FROM ${table} WHERE ${where.join(' AND ')}
           ORDER BY day DESC, wisepop_id DESC, variant DESC${table === 'goals_daily' ? ', name DESC' : ''} LIMIT 1 OFFSET ?`,
        )
        .get(...args, offset) as RowKey | undefined;
    };
    let bounded: StatsQuery = q;
    if (size.rows > max.rows) {
      const oldest = nth('events_daily', q, max.rows - 1)!; // the oldest row that fits
      bounded = { ...q, since: { ...oldest, inclusive: true } };
    }
    const goals = countStats(db, site, bounded).goalRows;
    if (goals > max.goalRows) {
      // The first goal name that does not fit: its row and every older one are left out.
      const over = nth('goals_daily', bounded, max.goalRows)!;
      bounded = { ...q, since: { ...over, inclusive: false } };
    }
    return { rows: readStats(db, site, bounded), truncated: true };
  })();
}

/** One row per day, campaign and group, in that order (the no-test row, null, before the variants). */
export function readStats(db: Db, site: string, q: StatsQuery): StatsRow[] {
  const { where, args } = statsWhere(site, q);
  // One read transaction: the totals and the names come from the same snapshot, so they agree
  // even while another connection writes.
  const { rows, goalRows } = db.transaction(() => ({
    rows: db
      .prepare(
        `SELECT day, wisepop_id, variant, displays, closes, clicks, signups, goals, revenue FROM events_daily
         WHERE ${where.join(' AND ')} ORDER BY day, wisepop_id, variant`,
      )
      .all(...args) as Array<Omit<StatsRow, 'conversion_rate' | 'variant' | 'goals_by_name'> & { variant: string }>,
    goalRows: db
      .prepare(
        `SELECT day, wisepop_id, variant, name, goals, revenue FROM goals_daily
         WHERE ${where.join(' AND ')} ORDER BY day, wisepop_id, variant, name`,
      )
      .all(...args) as Array<GoalCounts & { day: string; wisepop_id: number; variant: string; name: string }>,
  }))();
  // Keyed by JSON, as in routes/events.ts: variants are arbitrary strings.
  const rowId = (r: { day: string; wisepop_id: number; variant: string }) => JSON.stringify([r.day, r.wisepop_id, r.variant]);
  const names = new Map<string, Array<[string, GoalCounts]>>();
  for (const g of goalRows) {
    const id = rowId(g);
    let list = names.get(id);
    if (!list) names.set(id, (list = []));
    list.push([g.name, { goals: g.goals, revenue: round4(g.revenue) }]);
  }
  return rows.map((r) => ({
    day: r.day,
    wisepop_id: r.wisepop_id,
    variant: r.variant || null,
    displays: r.displays,
    closes: r.closes,
    clicks: r.clicks,
    signups: r.signups,
    conversion_rate: r.displays ? round4(r.signups / r.displays) : 0,
    goals: r.goals,
    revenue: round4(r.revenue),
    // fromEntries defines own properties: a goal named '__proto__' stays a goal, where
    // assigning it to an object literal would replace the object's prototype.
    goals_by_name: Object.fromEntries(names.get(rowId(r)) ?? []),
  }));
}
