// Builds the visitor context (see ./types) from the records and the page.
import type { VisitorContext } from './types';
import type { State } from '../storage/state';
import type { Props } from '../storage/props';
import { UTM, type Session, type Visits } from '../storage/visits';
import { deviceOf } from './device';

export interface ContextInput {
  /** epoch ms */
  now: number;
  href: string;
  session: Session;
  visits: Visits;
  state: State;
  /** persistent and temporary properties, merged */
  props: Props;
  noshow: boolean;
}

export function buildContext(i: ContextInput, win: Window = window): VisitorContext {
  const u = new URL(i.href);
  // No prototype: a parameter named "constructor" or "__proto__" is just a parameter.
  const query: Record<string, string> = Object.create(null);
  u.searchParams.forEach((v, k) => k in query || (query[k] = v));
  const utm: VisitorContext['session']['utm'] = {};
  UTM.forEach((k, n) => i.session.utm[n] && (utm[k] = i.session.utm[n]));
  const { width, height } = win.screen;
  return {
    now: i.now,
    url: i.href,
    path: u.pathname,
    query,
    hash: u.hash.slice(1),
    session: {
      start: i.session.start * 1000,
      landing: i.session.landing,
      referrer: i.session.referrer,
      utm,
      pageviews: i.session.pageviews,
    },
    visits: i.visits.times.map((t) => t * 1000),
    firstVisit: (i.visits.first || i.session.start) * 1000,
    totalPageviews: i.visits.total,
    props: i.props,
    device: deviceOf(win.navigator, Math.min(width, height) || Math.min(win.innerWidth, win.innerHeight)),
    language: (win.navigator.language || '').toLowerCase(),
    country: null,
    history: i.state.history,
    signedUp: i.state.signedUp,
    noshow: i.noshow,
  };
}
