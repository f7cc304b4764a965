// Visits and sessions: `wisepops_session` (start, last activity, pageviews, landing page,
// initial referrer, UTM of the first page) and `wisepops_visits` (first visit, total pageviews,
// the last 10 visit dates). Times are epoch seconds.
import { SESSION, VISITS, num, str, type Store } from './store';

export const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
/** A session ends after 30 minutes without a page view, and lasts 2 hours at most. */
export const IDLE = 1800;
export const MAX_SESSION = 7200;
const VISITS_KEPT = 10;

export interface Session {
  start: number;
  last: number;
  pageviews: number;
  landing: string;
  referrer: string;
  /** values in UTM order, '' when absent */
  utm: string[];
}

export interface Visits {
  first: number;
  total: number;
  /** oldest first */
  times: number[];
}

/** Cut to a cookie-encoded size so the session record always fits its 4,000 bytes. */
function cut(s: string, bytes: number): string {
  s = s.slice(0, bytes);
  while (encodeURIComponent(JSON.stringify(s)).length > bytes) s = s.slice(0, -1);
  return s;
}

export function readSession(store: Store, now: number): Session | undefined {
  const s = store.read(SESSION, (p): Session => ({
    start: num(p[0]),
    last: num(p[1]),
    pageviews: num(p[2]),
    landing: str(p[3]),
    referrer: str(p[4]),
    utm: UTM.map((_, i) => str((p[5] as unknown[])[i])),
  }));
  return s && now - s.last <= IDLE && now - s.start <= MAX_SESSION ? s : undefined;
}

/** A session as the page starts one: not saved until a page view is recorded. */
export function newSession(now: number, href: string, referrer: string): Session {
  const q = new URL(href).searchParams;
  return {
    start: now,
    last: now,
    pageviews: 0,
    landing: cut(href, 700),
    referrer: cut(referrer, 700),
    utm: UTM.map((k) => cut(q.get(k) || '', 300)),
  };
}

export function readVisits(store: Store): Visits {
  const v = store.read(VISITS, (p): Visits => {
    if (!Array.isArray(p[2])) throw Error('bad visits');
    return { first: num(p[0]), total: num(p[1]), times: p[2].map(num) };
  });
  return v || { first: 0, total: 0, times: [] };
}

/** Records one page view: a new visit when no session is live. */
export function recordPageview(store: Store, now: number, href: string, referrer: string): { session: Session; visits: Visits } {
  const visits = readVisits(store);
  let session = readSession(store, now);
  if (!session) {
    session = newSession(now, href, referrer);
    visits.first ||= now;
    visits.times = [...visits.times, now].slice(-VISITS_KEPT);
  }
  session.pageviews++;
  session.last = now;
  visits.total++;
  const { start, last, pageviews, landing, referrer: ref, utm } = session;
  store.write(SESSION, [start, last, pageviews, landing, ref, utm]);
  store.write(VISITS, [visits.first, visits.total, visits.times]);
  return { session, visits };
}
