// Builds the visitor context (see ./types) from the records and the page.
import type { VisitorContext } from './types';
import type { State } from '../storage/state';
import type { Props } from '../storage/props';
import { UTM, type Session, type Visits } from '../storage/visits';
import { deviceOf } from './device';

/** `props`: persistent and temporary properties, merged. */
export function buildContext(
  href: string,
  [start, , pageviews, landing, referrer, utmValues]: Session,
  [first, total, times]: Visits,
  state: State,
  props: Props,
  noshow: boolean,
  win: Window = window,
): VisitorContext {
  const u = new URL(href);
  // No prototype: a parameter named "constructor" or "__proto__" is just a parameter.
  const query: Record<string, string> = Object.create(null);
  u.searchParams.forEach((v, k) => k in query || (query[k] = v));
  const utm: Record<string, string> = {};
  UTM.forEach((k, n) => utmValues[n] && (utm[k] = utmValues[n]));
  const nav = win.navigator;
  return {
    now: Date.now(),
    url: href,
    path: u.pathname,
    query,
    hash: u.hash.slice(1),
    session: { start: start * 1000, landing, referrer, utm, pageviews },
    visits: times.map((t) => t * 1000),
    firstVisit: (first || start) * 1000,
    totalPageviews: total,
    props,
    device: deviceOf(nav, Math.min(win.screen.width, win.screen.height) || Math.min(win.innerWidth, win.innerHeight)),
    language: (nav.language || '').toLowerCase(),
    country: null,
    history: state.history,
    signedUp: state.signedUp,
    noshow,
  };
}
