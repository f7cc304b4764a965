// Visits and sessions. `wisepops_session`: [start, last page view, pageviews, landing URL,
// initial referrer, UTM values of the first page ('' when absent)]; `wisepops_visits`:
// [first visit, total pageviews, the last 10 visit dates]. Times are epoch seconds.
import { swap } from './codec';
import { R, type Store } from './store';

export type Session = [start: number, last: number, pageviews: number, landing: string, referrer: string, utm: string[]];
export type Visits = [first: number, total: number, times: number[]];

// Spelt as in the validator's `utm_(source|…)` pattern (src/shared/spec.ts), which gzip then stores once.
export const UTM = 'source|medium|campaign|term|content'.split('|').map((k) => 'utm_' + k);

/**
 * Cut to a cookie-encoded size: the session record stays under 1,300 bytes, its share of the
 * records' total (codec.ts). Measured swapped, as written: a ' or ~ becomes a 3-byte " or , there.
 * The cuts keep what targeting reads in practice: a landing path and its campaign parameters, a
 * referrer's host (browsers send cross-site referrers as an origin), a UTM value.
 */
const cut = (s: string, bytes: number) => {
  s = s.slice(0, bytes);
  while (encodeURIComponent(swap(JSON.stringify(s))).length > bytes) s = s.slice(0, -1);
  return s;
};

/**
 * The live session, or else a new one as this page starts it (pageviews 0: not saved until a
 * page view is recorded). A session ends after 30 minutes without a page view, and 2 hours
 * after its start.
 */
export function currentSession(store: Store, now: number, href: string, referrer: string): Session {
  const s = store.read<Session>(R.SESSION, [0, 0, 0, '', '', ['']]);
  return s && now - s[1] <= 1800 && now - s[0] <= 7200
    ? s
    : [now, now, 0, cut(href, 400), cut(referrer, 300), UTM.map((k) => cut(new URL(href).searchParams.get(k) || '', 100))];
}

export const readVisits = (store: Store): Visits => store.read<Visits>(R.VISITS, [0, 0, [0]]) || [0, 0, []];

/** Records one page view: a new visit when no session is live. */
export function recordPageview(store: Store, now: number, href: string, referrer: string): Session {
  const v = readVisits(store);
  const s = currentSession(store, now, href, referrer);
  if (!s[2]) {
    v[0] ||= now;
    v[2] = v[2].concat(now).slice(-10);
  }
  s[1] = now;
  s[2]++;
  v[1]++;
  store.write(R.SESSION, s);
  store.write(R.VISITS, v);
  return s;
}
