// POST /events: analytics counts (and goals with their revenue, in total and per goal name),
// summed in memory per campaign, day and A/B group (the event's `g`), and written once a second
// in one transaction.
// Counts are statistics, not records: a crash loses at most the last second of them, which buys
// one fsync a second instead of one per batch. A flush the database refuses for a while (a full
// disk) keeps them in memory until one is written. Sign-ups are counted when stored (store/signups.ts),
// so `signup` events are accepted but not counted twice.
// Anyone can post here (no Origin, no key), and every distinct campaign, group, day and goal name
// is a row kept for the retention period: only campaigns and groups the site has or had are
// counted as sent, and goal names are capped per site and day, so what a stranger can add is
// bounded by what the owner configured.
// A batch's analytics id (`visitor`, sent only when consent allows) is counted once per campaign,
// group and day: displays make the visitor count, sign-up and goal events mark it as converted
// (store/events.ts, addVisitors). Only for events of the site's today or yesterday (countableDays):
// a day's hashing key is deleted once it is over. Each visitor shown is a row kept for the
// retention period, which any made-up id would add, so those rows are capped per site and day too
// (MAX_VISITOR_ROWS).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { validateEventBatch, type EventBatch, type EventKind } from '../../shared/events';
import { tooManyRequests } from '../auth';
import { createLimiter } from '../rate-limit';
import type { SiteCache } from '../site-cache';
import {
  addCounts, addGoals, addVisitors, closeVisitorDays, countableDays, countedGroups, dayIn, GOAL, openVisitorDay, setVisitorRows, SHOWN,
  SIGNED_UP, visitorDay, visitorIdKey, visitorToken, type Counter, type CountKey, type GoalCounts, type VisitorDay,
} from '../store/events';
import { bodySite, countGroup, limitKey, originAllowed, type OriginRefusals } from './context';

const COUNTER: Partial<Record<EventKind, Counter>> = { display: 'displays', close: 'closes', click: 'clicks', goal: 'goals' };
/** What an event tells of the visitor who sent it (sign-ups are counted from /collect, their visitors from here). */
const VISITOR_FLAG: Partial<Record<EventKind, number>> = { display: SHOWN, signup: SIGNED_UP, goal: GOAL };
const DAY = 86_400_000;
/** Distinct goal names counted per site and day; goals under further names count in the totals only. */
export const MAX_GOAL_NAMES = 100;
/**
 * Visitor rows (one per visitor shown a campaign and group) counted per site and day; visitors
 * first shown after it are left out of the unique counts (the row says so: visitors_capped).
 * About 5 MB of database per site and day at most (49 bytes a row, measured), whatever ids a
 * stranger makes up: only today and yesterday take rows (countableDays), so a flood fills two
 * days at most, never a month of them at once.
 */
export const MAX_VISITOR_ROWS = 100_000;
/**
 * Flushes a sign-up or goal of a visitor with no row yet is kept for, waiting for the display that
 * makes the row. The browser sends a goal (and a control group's display) at once, but batches a
 * popup's display for a second: a goal a moment after the first display arrives before it, and
 * dropping its flag at the flush in between left it out of visitors_with_goal for the variants,
 * never for the control group. Three flushes: about three seconds.
 */
const LATE_FLUSHES = 3;
/** Site-days of goal names kept in memory before the cache is dropped (after a flush, so nothing is missed). */
const NAME_CACHE = 1000;
/** How often the keys of days that can no longer be counted are looked for and deleted. */
const CLOSE_EVERY = 60_000;
/**
 * Client clocks are untrusted: times more than this long ago, or ahead of the server's clock,
 * count as "now". A fast clock's time is never kept: near midnight it would date the event on a
 * day not begun yet, whose visitors are not counted (countableDays).
 */
const PAST = 30 * DAY;
/**
 * The errors of a database that cannot take a write for now (a full disk, a lock held past the
 * busy timeout, a disk error): the flush's counts are kept and written with the next one. Any
 * other error drops them, as it would fail every flush that kept them.
 */
const WRITE_AGAIN = /^SQLITE_(FULL|BUSY|IOERR)/;

export interface EventCounter {
  add(site: string, timeZone: string, batch: EventBatch, now?: number): void;
  /**
   * The groups a campaign has counts under ('' for no group): written (retention window) or still
   * pending; empty when it has none.
   */
  groupsCounted(site: string, campaign: number): Set<string>;
  /** Writes what is pending in one transaction. */
  flush(): void;
  stop(): void;
}

interface Pending {
  key: CountKey;
  counts: Record<Counter, number>;
  /** The goals among counts.goals, per goal name. */
  goals: Map<string, GoalCounts>;
  /** Analytics ids seen in this row since the last flush, with what they did (flags, see store/events.ts). */
  visitors: Map<string, number>;
  /** The site's time zone, to tell at flush time whether the day can still be counted. */
  timeZone: string;
  /** Whether the row has counts (a sign-up event alone only marks a visitor: it makes no group "had"). */
  counted: boolean;
  /** Flushes a visitor of `visitors` has waited for its display already (LATE_FLUSHES). */
  waited: Map<string, number>;
}

/** A sign-up or goal flag kept for the next flush (LATE_FLUSHES). */
interface Late {
  key: CountKey;
  timeZone: string;
  id: string;
  flags: number;
  waited: number;
}

export function createEventCounter(
  deps: ServerDeps,
  intervalMs = 1000,
  opts: { maxVisitorRows?: number; now?: () => number } = {},
): EventCounter {
  const maxVisitorRows = opts.maxVisitorRows ?? MAX_VISITOR_ROWS;
  const clock = opts.now ?? Date.now;
  const idKey = visitorIdKey(deps.secret);
  // Keyed by the row's identity in JSON: the group is any string the browser sent, which a
  // separator-joined key would split wrongly. Goal names are keys of a map inside the row.
  let pending = new Map<string, Pending>();
  // The groups in `pending` per site and campaign: a campaign deleted (or a test ended) within the
  // second after its first counts has them here only.
  let pendingGroups = new Map<string, Set<string>>();
  let late: Late[] = [];
  const entryOf = (key: CountKey, timeZone: string): Pending => {
    const id = JSON.stringify([key.site, key.campaign, key.day, key.variant]);
    let entry = pending.get(id);
    if (!entry) {
      const counts: Record<Counter, number> = {
        displays: 0, closes: 0, clicks: 0, signups: 0, goals: 0, revenue: 0,
        visitors: 0, visitors_signed_up: 0, visitors_with_goal: 0, visitors_dropped: 0,
      };
      pending.set(id, (entry = { key, counts, goals: new Map(), visitors: new Map(), timeZone, counted: false, waited: new Map() }));
    }
    return entry;
  };
  // Goal names per site and day, what goals_daily holds plus what is pending. Loaded on a
  // site-day's first goal; dropped only right after a flush, when the table has them all.
  const names = new Map<string, Set<string>>();
  const storedNames = deps.db.prepare<[string, string], string>('SELECT DISTINCT name FROM goals_daily WHERE site_id = ? AND day = ?').pluck();
  const nameCounted = (site: string, day: string, name: string): boolean => {
    const id = JSON.stringify([site, day]);
    let set = names.get(id);
    if (!set) names.set(id, (set = new Set(storedNames.all(site, day))));
    if (set.has(name)) return true;
    if (set.size >= MAX_GOAL_NAMES) return false;
    set.add(name);
    return true;
  };
  const siteRow = deps.db.prepare<[string], number>('SELECT 1 FROM sites WHERE id = ?').pluck();
  const write = deps.db.transaction((entries: Pending[], now: number): Late[] => {
    const waiting: Late[] = [];
    // The site-days this flush counts visitors of, read once each (one seek: key and row count)
    // and their counts written back with the rows, in this transaction: no count outlives it, so
    // a rolled-back flush leaves none to correct, and no flush ever counts visitors_daily's rows.
    const days = new Map<string, (VisitorDay & { site: string; day: string; stored: number }) | null>();
    const dayOf = (key: CountKey, timeZone: string) => {
      const id = JSON.stringify([key.site, key.day]);
      let d = days.get(id);
      if (d === undefined) {
        const { today, yesterday } = countableDays(now, timeZone);
        // A day closed since its events were added (a flush just after midnight) gets no new key:
        // its visitors count in the totals only, as add() would have decided a moment later.
        const open = visitorDay(deps.db, key.site, key.day) ?? (key.day === today || key.day === yesterday ? openVisitorDay(deps.db, key.site, key.day) : undefined);
        d = open ? { ...open, site: key.site, day: key.day, stored: open.rows } : null;
        days.set(id, d);
      }
      return d;
    };
    // A site the retention job deleted since its events came (the site cache forgets it then, but
    // its pending counts remain): its rows would fail their foreign key, and with them every
    // site's counts of this flush. Dropped, as its later events are (404).
    const exists = new Map<string, boolean>();
    const siteExists = (site: string) => {
      let e = exists.get(site);
      if (e === undefined) exists.set(site, (e = siteRow.get(site) !== undefined));
      return e;
    };
    for (const { key, counts: added, goals, visitors, timeZone, waited } of entries) {
      if (!siteExists(key.site)) continue;
      // A copy: the entries of a flush the database refused are written again as they were added (flush).
      const counts = { ...added };
      const day = visitors.size ? dayOf(key, timeZone) : null;
      if (day) {
        const list = [...visitors];
        const seen = list.map(([id, flags]): [bigint, number] => [visitorToken(idKey, day.key, key, id), flags]);
        const room = (): boolean => {
          if (day.rows >= maxVisitorRows) return false;
          day.rows += 1;
          return true;
        };
        const found = addVisitors(deps.db, key, seen, room, (i) => {
          const [id, flags] = list[i]!;
          const n = (waited.get(id) ?? 0) + 1;
          if (n < LATE_FLUSHES) waiting.push({ key, timeZone, id, flags, waited: n });
        });
        for (const [c, n] of Object.entries(found) as Array<[Counter, number]>) counts[c] += n;
      }
      // A sign-up event whose visitor was not shown that day adds nothing: no row for it.
      if (Object.values(counts).some((n) => n !== 0)) addCounts(deps.db, key, counts);
      for (const [name, g] of goals) addGoals(deps.db, key, name, g);
    }
    for (const d of days.values()) if (d && d.rows !== d.stored) setVisitorRows(deps.db, d.site, d.day, d.rows);
    return waiting;
  });
  let closedAt = -Infinity;
  const flush = () => {
    const now = clock();
    if (now - closedAt >= CLOSE_EVERY) {
      try {
        closeVisitorDays(deps.db, now);
        closedAt = now;
      } catch (e) {
        deps.log.error({ err: e }, 'visitor keys of past days not deleted');
      }
    }
    // The flags still waiting for their display join this flush's rows (their display may be here).
    for (const l of late.splice(0)) {
      const entry = entryOf(l.key, l.timeZone);
      entry.visitors.set(l.id, (entry.visitors.get(l.id) ?? 0) | l.flags);
      entry.waited.set(l.id, l.waited);
    }
    if (pending.size === 0) return;
    const entries = [...pending.values()];
    const kept = { pending, groups: pendingGroups };
    pending = new Map();
    pendingGroups = new Map();
    try {
      // IMMEDIATE: it reads (visitor_days, visitors_daily) before it writes; taking the write lock
      // first means another connection's commit in between cannot make the upgrade fail.
      late = write.immediate(entries, now);
    } catch (e) {
      const again = WRITE_AGAIN.test(String((e as { code?: unknown }).code));
      deps.log.error({ err: e, rows: entries.length, kept: again }, 'event counts not written');
      if (again) {
        // Nothing was added since the swap (this runs in one turn): the counts go back as they
        // were, to be written with the next second's. Their goal names stay in `names` too.
        ({ pending, groups: pendingGroups } = kept);
        keepBounded();
        return;
      }
    }
    if (names.size > NAME_CACHE) names.clear();
  };
  // A write refused for minutes holds every visitor id of those minutes: past the daily cap's
  // worth, the ids are dropped (their rows say visitors_capped) and the counts kept.
  const keepBounded = () => {
    let ids = 0;
    for (const entry of pending.values()) ids += entry.visitors.size;
    if (ids <= maxVisitorRows) return;
    for (const entry of pending.values()) {
      if (entry.counted && entry.visitors.size) entry.counts.visitors_dropped += 1;
      entry.visitors.clear();
      entry.waited.clear();
    }
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();

  return {
    add(site, timeZone, batch, now = clock()) {
      const visitor = batch.visitor;
      const countable = visitor === undefined ? null : countableDays(now, timeZone);
      for (const e of batch.events) {
        const counter = COUNTER[e.k];
        if (!counter && !(countable && VISITOR_FLAG[e.k])) continue;
        const t = e.t > now - PAST && e.t <= now ? e.t : now;
        const key: CountKey = { site, campaign: e.c, day: dayIn(t, timeZone), variant: e.g ?? '' };
        // The visitor of an earlier day counts in that day's totals only (countableDays).
        const flag = countable && (key.day === countable.today || key.day === countable.yesterday) ? VISITOR_FLAG[e.k] : undefined;
        if (!counter && !flag) continue;
        const entry = entryOf(key, timeZone);
        if (flag && visitor !== undefined) entry.visitors.set(visitor, (entry.visitors.get(visitor) ?? 0) | flag);
        if (!counter) continue;
        if (!entry.counted) {
          entry.counted = true;
          const campaignId = JSON.stringify([site, e.c]);
          let groups = pendingGroups.get(campaignId);
          if (!groups) pendingGroups.set(campaignId, (groups = new Set()));
          groups.add(key.variant);
        }
        entry.counts[counter] += 1;
        if (e.r) entry.counts.revenue += e.r;
        // validateEventBatch makes n a 1–50 character name on every goal event.
        if (e.k === 'goal' && nameCounted(site, key.day, e.n!)) {
          const name = e.n!;
          let g = entry.goals.get(name);
          if (!g) entry.goals.set(name, (g = { goals: 0, revenue: 0 }));
          g.goals += 1;
          if (e.r) g.revenue += e.r;
        }
      }
    },
    groupsCounted(site, campaign) {
      const groups = countedGroups(deps.db, site, campaign);
      for (const g of pendingGroups.get(JSON.stringify([site, campaign])) ?? []) groups.add(g);
      return groups;
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}

export function registerEventsRoute(app: FastifyInstance, deps: ServerDeps & { sites: SiteCache; counter: EventCounter; refusals: OriginRefusals }): void {
  const limiter = createLimiter(deps.config.eventsPerMinute);
  app.post('/events', async (request, reply) => {
    const wait = limiter.take(`${limitKey(request)}|${bodySite(request.body)}`);
    if (wait) return tooManyRequests(reply, wait);
    const error = validateEventBatch(request.body);
    if (error) return reply.code(422).send({ error });
    const batch = request.body as EventBatch;
    const site = deps.sites.get(batch.site);
    if (!site) return reply.code(404).send({ error: 'site: unknown site' });
    if (!originAllowed(request, site)) {
      deps.refusals.refused(site, request.headers.origin!);
      return reply.code(403).send({ error: 'origin: not allowed for this site' });
    }
    // A goal is credited to the campaigns a visitor saw in the 30 days before, under the group
    // stored then: the campaign may be deleted since, or its A/B test ended. countGroup keeps
    // those and drops only campaigns the site never had (dropped, not refused: the rest of a
    // visitor's batch is good). Pending counts are asked too, once per campaign and batch.
    const configured = deps.sites.campaignGroups(site.id);
    const counted = new Map<number, Set<string>>();
    const countedOf = (c: number): Set<string> => {
      let groups = counted.get(c);
      if (!groups) counted.set(c, (groups = deps.counter.groupsCounted(site.id, c)));
      return groups;
    };
    const events: EventBatch['events'] = [];
    for (const e of batch.events) {
      const g = countGroup(configured.get(e.c), e.g ?? '', () => countedOf(e.c));
      if (g !== null) events.push(g === (e.g ?? '') ? e : { ...e, g: undefined });
    }
    if (events.length) deps.counter.add(site.id, site.timezone, { ...batch, events });
    return reply.code(204).send();
  });
}
