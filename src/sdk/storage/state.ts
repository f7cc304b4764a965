// The `wisepops` record: [flags, entries], flags being 1 for signed up once, 2 for consent
// granted by `wisepops('consent', 'granted')` (remembered until denied, as Wisepops does), 4 for
// consent denied by `wisepops('consent', 'denied')` (remembered for the browser session, which is
// all a denied record lives), and an entry per campaign being [id, displays, closes,
// conversions, clicks, last display (epoch s), pageview count, group?].
import type { CampaignHistory } from '../context/types';
import { encode, fits, Rec } from './codec';
import { isWellFormed } from '../../shared/events';
import { R, type Store } from './store';

/** The consent the record's first item remembers, if any. */
export const consentOf = (flags: number): boolean | undefined => (flags & 2 ? true : flags & 4 ? false : undefined);

export interface State {
  signedUp: boolean;
  /** The consent remembered (read only: writeState takes it apart). */
  granted?: boolean;
  history: Record<number, CampaignHistory>;
}

/** The CampaignHistory keys in entry order, after the id. */
const KEYS = 'dcvklpg';

export function readState(store: Store): State {
  const [signed, entries] = store.read<[number, unknown[][]]>(R.STATE, [0, [[0, 0, 0, 0, 0, 0, 0]]]) || [0, []];
  const history: Record<number, Record<string, unknown>> = {};
  // An entry the server would refuse in an event (a hand-edited cookie: an id that is no
  // campaign's, a group that is none) is left out, not the whole record: the server refuses a
  // batch holding one bad event, and a goal goes to every campaign in the history.
  for (const [id, ...e] of entries)
    if (Number.isSafeInteger(id) && (id as number) > 0 && (e[6] == null || (typeof e[6] == 'string' && e[6].length <= 64 && isWellFormed(e[6]))))
      e.forEach((v, i) => ((history[id as number] ||= {})[KEYS[i]] = v));
  return { signedUp: (signed & 1) > 0, granted: consentOf(signed), history: history as unknown as State['history'] };
}

/**
 * An entry's place in eviction, last display first: one the visitor closed, signed up to or clicked
 * counts as displayed a year later, since a rule that stops the campaign after that never shows it
 * again to refresh its date, and forgetting it would show it again.
 */
const rank = (e: number[]) => e[5] + (e[2] || e[3] || e[4] ? 3e7 : 0);

/**
 * Saves; when too big, drops the least recently seen campaigns (from `state` too) until it fits.
 * Measured here, not by a refused write: one the storage refuses (full) must drop nothing, since
 * `state` is what the page goes on with.
 */
export function writeState(store: Store, state: State, granted?: boolean): void {
  const entries = Object.entries(state.history)
    .map(([id, h]) => [+id, ...[...KEYS].map((k) => h[k as 'd'])].filter((v) => v != null))
    .sort((a, b) => rank(b) - rank(a));
  // `entries` shrinks in place: the record follows.
  const rec = [+state.signedUp | (granted ? 2 : granted === false ? 4 : 0), entries];
  while (!fits(encode(rec), Rec.STATE_BYTES)) delete state.history[entries.pop()![0]];
  store.write(R.STATE, rec);
}
