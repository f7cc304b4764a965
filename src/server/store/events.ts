// Per campaign, day and A/B group counters (displays, closes, clicks, sign-ups, goals and their
// revenue) and the stats read model. The group is kept apart so a test can be read: a control
// group's displays added to the campaign's would dilute every conversion rate. Goals are also
// counted per goal name in goals_daily, beside the totals in events_daily. Unique visitors (the
// analytics id of /events batches) are counted in events_daily too, deduplicated through
// visitors_daily, which holds a keyed hash per visitor and row, never the id; the key is a random
// one of the site and day (visitor_days), kept only while that day can still be counted.
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Db } from './db';
import { DEFAULT_PURGE_WITHIN_MINUTES } from '../config';
import { markPurgeDue } from '../lifecycle/purge';

/** The unique-visitor counts of a row (see StatsRow); visitors_dropped: new visitors over the site's daily cap. */
export type VisitorCounter = 'visitors' | 'visitors_signed_up' | 'visitors_with_goal' | 'visitors_dropped';
export type Counter = 'displays' | 'closes' | 'clicks' | 'signups' | 'goals' | 'revenue' | VisitorCounter;
export type Counts = Partial<Record<Counter, number>>;

/** What an analytics id did in one campaign-day-group: bits of visitors_daily.flags. */
export const SHOWN = 1;
export const SIGNED_UP = 2;
export const GOAL = 4;

/** One row of events_daily (and, with a goal name, of goals_daily). */
export interface CountKey {
  site: string;
  campaign: number;
  /** YYYY-MM-DD in the site's time zone. */
  day: string;
  /** Variant id, 'control', or '' when the campaign ran no test. */
  variant: string;
}

const formatters = new Map<string, { format: Intl.DateTimeFormat; minute: number; day: string }>();
/** The instants whose day dayIn keeps per minute (see there). Date's last instant is 8.64e15. */
const MEMO_FROM = Date.UTC(1973, 0, 1);
const MEMO_TO = 8.64e15;

/** YYYY-MM-DD of an instant in a time zone (the site's: owners read days in their own time). */
export function dayIn(ms: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = { format: new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }), minute: NaN, day: '' };
    formatters.set(timeZone, f);
  }
  // Sign-ups and events come in at "now": the last minute's day is asked again and again, and
  // days change on a whole minute since 1973 (every UTC offset in use since 7 January 1972 is
  // whole minutes). Other instants are formatted each time: local mean times (-04:56:02), a
  // fraction of a ms before 1970 (which Intl drops towards 0, not down), NaN and out of range
  // (an error every time, never the day cached before).
  if (!(ms >= MEMO_FROM && ms < MEMO_TO)) return f.format.format(ms);
  const minute = Math.floor(ms / 60_000);
  if (minute !== f.minute) (f.day = f.format.format(ms)), (f.minute = minute);
  return f.day;
}

/** The calendar day before `day` (YYYY-MM-DD), whatever the length of either day in a time zone. */
export function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/**
 * The days whose visitors can still be counted at `now` in a site's time zone: today, and
 * yesterday for the batches a browser sends just after midnight (a page left open, a beacon sent
 * when the tab is hidden). Events of earlier days count in the totals only: with no visitor rows
 * written for them, a batch cannot spread made-up ids over a month of days, and a day's key
 * (visitor_days) can be deleted once the day is over.
 */
export function countableDays(now: number, timeZone: string): { today: string; yesterday: string } {
  const today = dayIn(now, timeZone);
  return { today, yesterday: previousDay(today) };
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
      `INSERT INTO events_daily (site_id, wisepop_id, day, variant, displays, closes, clicks, signups, goals, revenue,
         visitors, visitors_signed_up, visitors_with_goal, visitors_dropped)
       VALUES (@site, @campaign, @day, @variant, @displays, @closes, @clicks, @signups, @goals, @revenue,
         @visitors, @visitors_signed_up, @visitors_with_goal, @visitors_dropped)
       ON CONFLICT (site_id, wisepop_id, day, variant) DO UPDATE SET
         displays = displays + excluded.displays, closes = closes + excluded.closes,
         clicks = clicks + excluded.clicks, signups = signups + excluded.signups,
         goals = goals + excluded.goals, revenue = revenue + excluded.revenue,
         visitors = visitors + excluded.visitors, visitors_signed_up = visitors_signed_up + excluded.visitors_signed_up,
         visitors_with_goal = visitors_with_goal + excluded.visitors_with_goal,
         visitors_dropped = visitors_dropped + excluded.visitors_dropped`,
    ),
    // The whole primary key: one seek.
    visitorFlags: db
      .prepare<VisitorKey, number>(
        'SELECT flags FROM visitors_daily WHERE site_id = @site AND day = @day AND wisepop_id = @campaign AND variant = @variant AND visitor = @visitor',
      )
      .pluck(),
    insertVisitor: db.prepare<VisitorKey & { flags: number }>(
      'INSERT INTO visitors_daily (site_id, day, wisepop_id, variant, visitor, flags) VALUES (@site, @day, @campaign, @variant, @visitor, @flags)',
    ),
    updateVisitor: db.prepare<VisitorKey & { flags: number }>(
      'UPDATE visitors_daily SET flags = @flags WHERE site_id = @site AND day = @day AND wisepop_id = @campaign AND variant = @variant AND visitor = @visitor',
    ),
    // The day's key and row count: one seek of visitor_days' primary key.
    visitorDay: db.prepare<[string, string], { secret: Buffer; visitor_rows: number }>(
      'SELECT secret, visitor_rows FROM visitor_days WHERE site_id = ? AND day = ?',
    ),
    openVisitorDay: db.prepare<[string, string, Buffer, number]>(
      'INSERT INTO visitor_days (site_id, day, secret, visitor_rows) VALUES (?, ?, ?, ?)',
    ),
    visitorDayRows: db.prepare<[number, string, string]>('UPDATE visitor_days SET visitor_rows = ? WHERE site_id = ? AND day = ?'),
    // Only when a day's key is made: a new day has no rows (an empty range of the primary key's
    // prefix, one seek), unless a time zone change made a closed day countable again.
    storedVisitorRows: db.prepare<[string, string], number>('SELECT COUNT(*) FROM visitors_daily WHERE site_id = ? AND day = ?').pluck(),
    openZones: db.prepare<[], string>('SELECT DISTINCT s.timezone FROM visitor_days v JOIN sites s ON s.id = v.site_id').pluck(),
    closeVisitorDays: db.prepare<[string, string]>(
      'DELETE FROM visitor_days WHERE day < ? AND site_id IN (SELECT id FROM sites WHERE timezone = ?)',
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

type VisitorKey = { site: string; day: string; campaign: number; variant: string; visitor: bigint };

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
    visitors: counts.visitors ?? 0,
    visitors_signed_up: counts.visitors_signed_up ?? 0,
    visitors_with_goal: counts.visitors_with_goal ?? 0,
    visitors_dropped: counts.visitors_dropped ?? 0,
  });
}

/** The key of the first hash of an analytics id (idToken), derived from the server secret for this one use. */
export function visitorIdKey(secret: Buffer): KeyObject {
  return createSecretKey(createHmac('sha256', secret).update('poplet visitors_daily v1').digest());
}

/**
 * 64 bits of HMAC-SHA256 under `idKey` (visitorIdKey) of a campaign-day-group and analytics id:
 * what visitors_daily stored up to schema 7, and the input of dayToken since. The row is hashed
 * with the id, so one visitor has a different token in every row.
 */
export function idToken(idKey: KeyObject, key: CountKey, id: string): bigint {
  return createHmac('sha256', idKey).update(JSON.stringify([key.site, key.day, key.campaign, key.variant, id])).digest().readBigInt64BE(0);
}

/** 64 bits of HMAC-SHA256 under a day's random key (visitor_days.secret) of an idToken. */
export function dayToken(dayKey: KeyObject, token: bigint): bigint {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(token);
  return createHmac('sha256', dayKey).update(bytes).digest().readBigInt64BE(0);
}

/**
 * What visitors_daily stores for analytics id `id` in one campaign-day-group: dayToken of idToken.
 * The day's key is random and deleted once the day can no longer be counted (closeVisitorDays),
 * so the rows of a closed day cannot be linked to an id, nor to each other, even by whoever holds
 * the database, secret.key and the id. While the day is open the key must stay (a visitor shown
 * again, or after a restart, is found by its token); idToken's key, kept out of the database,
 * means the database alone does not link them either. idToken in between also let the upgrade
 * to schema 8 turn the tokens stored before it into these (schema.ts). Two visitors of one row
 * share a token with a chance of about n²/2^64 (n visitors in the row, two 64-bit hashes):
 * 5·10^-10 for 100,000.
 */
export function visitorToken(idKey: KeyObject, dayKey: KeyObject, key: CountKey, id: string): bigint {
  return dayToken(dayKey, idToken(idKey, key, id));
}

/** A site-day whose visitors are being counted: its key, and its rows in visitors_daily. */
export interface VisitorDay {
  key: KeyObject;
  rows: number;
}

/** The site-day's key and row count, if it has been opened and not closed since. */
export function visitorDay(db: Db, site: string, day: string): VisitorDay | undefined {
  const r = statementsOf(db).visitorDay.get(site, day);
  return r && { key: createSecretKey(r.secret), rows: r.visitor_rows };
}

/**
 * Makes a site-day's random key (32 bytes), stored in visitor_days until closeVisitorDays. Its
 * row count starts from the rows the day has: none, unless the site's time zone changed and
 * made a closed day countable again. Call inside the caller's transaction.
 */
export function openVisitorDay(db: Db, site: string, day: string): VisitorDay {
  const s = statementsOf(db);
  const secret = randomBytes(32);
  const rows = s.storedVisitorRows.get(site, day)!;
  s.openVisitorDay.run(site, day, secret, rows);
  return { key: createSecretKey(secret), rows };
}

/** Stores a site-day's row count, as addVisitors' room() counted it. Inside the same transaction as the rows. */
export function setVisitorRows(db: Db, site: string, day: string, rows: number): void {
  statementsOf(db).visitorDayRows.run(rows, site, day);
}

/**
 * Deletes the keys of the site-days that can no longer be counted (before yesterday in the site's
 * time zone, see countableDays): their rows can then never be linked to an id again. Returns how
 * many were deleted. A deleted key's bytes are zeroed (secure_delete) but may stay in a rebuilt
 * page or the WAL: when it deletes any, it records a purge of the database file as due
 * (lifecycle/purge.ts), in the same transaction, as erasures do; the server's purge job runs it
 * within its POPLET_PURGE_WITHIN (`purgeWithinMs` is only the recorded bound).
 */
export function closeVisitorDays(db: Db, now: number, purgeWithinMs = DEFAULT_PURGE_WITHIN_MINUTES * 60_000): number {
  const s = statementsOf(db);
  return db.transaction(() => {
    let closed = 0;
    for (const zone of s.openZones.all()) closed += s.closeVisitorDays.run(countableDays(now, zone).yesterday, zone).changes;
    if (closed) markPurgeDue(db, 'visitor-days', purgeWithinMs);
    return closed;
  }).immediate();
}

/**
 * Records what visitors did in one campaign-day-group (each visitor's token and the flags it
 * earned since the last call) and returns what that adds to the row's visitor counts. A visitor
 * gets its row with its first display of the day, if `room()` (asked once per new visitor) says
 * the site's daily cap allows one more row; else it counts in visitors_dropped. A sign-up or a goal
 * only adds to a row already there: of a visitor not shown the campaign that day, it counts in
 * the totals only. Call inside the caller's transaction, before addCounts with the result.
 * `unseen(i)` is told of the i-th of `seen` when it is such a sign-up or goal (no row, not shown
 * here): its display may still be on its way (see routes/events.ts, LATE_FLUSHES).
 */
export function addVisitors(
  db: Db, key: CountKey, seen: Iterable<[bigint, number]>, room: () => boolean, unseen?: (i: number) => void,
): Record<VisitorCounter, number> {
  const s = statementsOf(db);
  const out = { visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitors_dropped: 0 };
  let i = -1;
  for (const [visitor, flags] of seen) {
    i += 1;
    const args = { site: key.site, day: key.day, campaign: key.campaign, variant: key.variant, visitor };
    const old = s.visitorFlags.get(args);
    let added: number;
    if (old === undefined) {
      if (!(flags & SHOWN)) {
        unseen?.(i);
        continue;
      }
      if (!room()) {
        out.visitors_dropped += 1;
        continue;
      }
      s.insertVisitor.run({ ...args, flags });
      out.visitors += 1;
      added = flags;
    } else {
      added = flags & ~old;
      if (!added) continue;
      s.updateVisitor.run({ ...args, flags: old | flags });
    }
    if (added & SIGNED_UP) out.visitors_signed_up += 1;
    if (added & GOAL) out.visitors_with_goal += 1;
  }
  return out;
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
  /**
   * Distinct analytics ids (the wisepops_visitor cookie: consenting visitors only) that had a
   * display of this campaign and group that day; for 'control', the visitors held back.
   */
  visitors: number;
  /** Of those, how many also signed up (a sign-up of this campaign, that day). */
  visitors_signed_up: number;
  /** Of those, how many were also credited a goal for this campaign, under this group, that day. */
  visitors_with_goal: number;
  /** visitors_signed_up / visitors, 0 without visitors; rounded to 4 decimals. */
  visitor_conversion_rate: number;
  /** visitors_with_goal / visitors, 0 without visitors; rounded to 4 decimals. */
  visitor_goal_rate: number;
  /** The site reached its daily cap of visitor rows: some visitors of this row were not counted. */
  visitors_capped: boolean;
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
        `SELECT day, wisepop_id, variant, displays, closes, clicks, signups, goals, revenue,
           visitors, visitors_signed_up, visitors_with_goal, visitors_dropped FROM events_daily
         WHERE ${where.join(' AND ')} ORDER BY day, wisepop_id, variant`,
      )
      .all(...args) as Array<
      Pick<StatsRow, 'day' | 'wisepop_id' | 'displays' | 'closes' | 'clicks' | 'signups' | 'goals' | 'revenue'> &
        Record<VisitorCounter, number> & { variant: string }
    >,
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
    visitors: r.visitors,
    visitors_signed_up: r.visitors_signed_up,
    visitors_with_goal: r.visitors_with_goal,
    visitor_conversion_rate: r.visitors ? round4(r.visitors_signed_up / r.visitors) : 0,
    visitor_goal_rate: r.visitors ? round4(r.visitors_with_goal / r.visitors) : 0,
    visitors_capped: r.visitors_dropped > 0,
  }));
}
