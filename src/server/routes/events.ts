// POST /events: analytics counts (and goals with their revenue, in total and per goal name),
// summed in memory per campaign, day and A/B group (the event's `g`), and written once a second
// in one transaction.
// Counts are statistics, not records: a crash loses at most the last second of them, which buys
// one fsync a second instead of one per batch. Sign-ups are counted when stored (store/signups.ts),
// so `signup` events are accepted but not counted twice.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { validateEventBatch, type EventBatch, type EventKind } from '../../shared/events';
import { tooManyRequests } from '../auth';
import { createLimiter } from '../rate-limit';
import type { SiteCache } from '../site-cache';
import { addCounts, addGoals, dayIn, type Counter, type CountKey, type GoalCounts } from '../store/events';
import { bodySite, originAllowed, type OriginRefusals } from './context';

const COUNTER: Partial<Record<EventKind, Counter>> = { display: 'displays', close: 'closes', click: 'clicks', goal: 'goals' };
const DAY = 86_400_000;
/** Client clocks are untrusted: times outside this window count as "now". */
const PAST = 30 * DAY;
const FUTURE = 3_600_000;

export interface EventCounter {
  add(site: string, timeZone: string, batch: EventBatch, now?: number): void;
  /** Writes what is pending in one transaction. */
  flush(): void;
  stop(): void;
}

interface Pending {
  key: CountKey;
  counts: Record<Counter, number>;
  /** The goals among counts.goals, per goal name. */
  goals: Map<string, GoalCounts>;
}

export function createEventCounter(deps: ServerDeps, intervalMs = 1000): EventCounter {
  // Keyed by the row's identity in JSON: the group is any string the browser sent, which a
  // separator-joined key would split wrongly. Goal names are keys of a map inside the row.
  let pending = new Map<string, Pending>();
  const write = deps.db.transaction((entries: Pending[]) => {
    for (const { key, counts, goals } of entries) {
      addCounts(deps.db, key, counts);
      for (const [name, g] of goals) addGoals(deps.db, key, name, g);
    }
  });
  const flush = () => {
    if (pending.size === 0) return;
    const entries = [...pending.values()];
    pending = new Map();
    try {
      write(entries);
    } catch (e) {
      deps.log.error({ err: e, rows: entries.length }, 'event counts not written');
    }
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();

  return {
    add(site, timeZone, batch, now = Date.now()) {
      for (const e of batch.events) {
        const counter = COUNTER[e.k];
        if (!counter) continue;
        const t = e.t > now - PAST && e.t < now + FUTURE ? e.t : now;
        const key: CountKey = { site, campaign: e.c, day: dayIn(t, timeZone), variant: e.g ?? '' };
        const id = JSON.stringify([key.site, key.campaign, key.day, key.variant]);
        let entry = pending.get(id);
        if (!entry) pending.set(id, (entry = { key, counts: { displays: 0, closes: 0, clicks: 0, signups: 0, goals: 0, revenue: 0 }, goals: new Map() }));
        entry.counts[counter] += 1;
        if (e.r) entry.counts.revenue += e.r;
        // validateEventBatch makes n a 1–50 character name on every goal event.
        if (e.k === 'goal') {
          const name = e.n!;
          let g = entry.goals.get(name);
          if (!g) entry.goals.set(name, (g = { goals: 0, revenue: 0 }));
          g.goals += 1;
          if (e.r) g.revenue += e.r;
        }
      }
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
    const wait = limiter.take(`${request.ip}|${bodySite(request.body)}`);
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
    deps.counter.add(site.id, site.timezone, batch);
    return reply.code(204).send();
  });
}
