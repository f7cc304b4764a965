// Visits and sessions. `wisepops_session`: [start, last page view, pageviews, landing URL,
// initial referrer, UTM values of the first page ('' when absent)]; `wisepops_visits`:
// [first visit, total pageviews, the last 10 visit dates]. Times are epoch seconds.
import { bytes, swap } from './codec';
import { R, type Store } from './store';

export type Session = [start: number, last: number, pageviews: number, landing: string, referrer: string, utm: string[]];
export type Visits = [first: number, total: number, times: number[]];

// Spelt as in the validator's `utm_(source|…)` pattern (src/shared/spec.ts), which gzip then stores once.
export const UTM = 'source|medium|campaign|term|content'.split('|').map((k) => 'utm_' + k);

/** A string's size in a record. Measured swapped, as written: a ' or ~ becomes a 3-byte " or , there. */
const size = (s: string) => bytes(swap(JSON.stringify(s)));

/**
 * The live session, or else a new one as this page starts it (pageviews 0: not saved until a
 * page view is recorded). A session ends 2 hours after its start: the cookie policy keeps its
 * data "a maximum of 2 hours", and Wisepops ends a session only after 2 hours without a page
 * view, so a reader idle for 40 minutes in between is still on the same visit, as there.
 */
export function currentSession(store: Store, now: number, href: string, referrer: string): Session {
  const s = store.read<Session>(R.SESSION, [0, 0, 0, '', '', ['']]);
  // One that starts in the future (written while the clock ran ahead, or hand-edited) is over too,
  // or it would never end and `time on_site` would stay negative.
  if (s && s[0] <= now && now - s[0] <= 7200) return s;
  // A new session's strings share 1,200 bytes, so the record stays under its 1,300 of the
  // records' total (codec.ts): the referrer up to 300 (browsers send a cross-site one as an
  // origin), each UTM value up to 250, and the landing URL the rest, at least about 200 (its
  // path): it repeats the UTM values, so it is the one to cut.
  let room = 1000;
  const take = (v: string, max: number) => {
    v = v.slice(0, (max = Math.min(max, room)));
    while (v && size(v) > max) v = v.slice(0, -1);
    room -= size(v);
    return v;
  };
  const ref = take(referrer, 300);
  const utm = UTM.map((k) => take(new URL(href).searchParams.get(k) || '', 250));
  return [now, now, 0, take(href, (room += 200)), ref, utm];
}

export const readVisits = (store: Store): Visits => store.read<Visits>(R.VISITS, [0, 0, [0]]) || [0, 0, []];

/**
 * Records one page view: a new visit when no session is live. Another tab may record one at the
 * same moment (tabs the browser restores together): the session is read before the visits and
 * written after them, so a tab that finds the other's session finds its visit too, and a visit
 * that tab started in this very second is the same visit, not a second one.
 */
export function recordPageview(store: Store, now: number, href: string, referrer: string): Session {
  const s = currentSession(store, now, href, referrer);
  const v = readVisits(store);
  if (!s[2] && !v[2].includes(now)) {
    v[0] ||= now;
    v[2] = v[2].concat(now).slice(-10);
  }
  s[1] = now;
  s[2]++;
  v[1]++;
  store.write(R.VISITS, v);
  store.write(R.SESSION, s);
  return s;
}
