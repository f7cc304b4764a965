// The `wisepops` record: [signed up once (0|1), entries], an entry per campaign being
// [id, displays, closes, conversions, clicks, last display (epoch s), pageview count, group?].
import type { CampaignHistory } from '../context/types';
import { encode, fits } from './codec';
import { R, type Store } from './store';

export interface State {
  signedUp: boolean;
  history: Record<number, CampaignHistory>;
}

/** The CampaignHistory keys in entry order, after the id. */
const KEYS = 'dcvklpg';

/** The record's entries of a history: [id, d, c, v, k, l, p, g?], unsorted. */
export const toEntries = (history: State['history']): number[][] =>
  Object.entries(history).map(([id, h]) => [+id, ...[...KEYS].map((k) => h[k as 'd'])].filter((v) => v != null));

/**
 * A history from the record's entries, under `names` (each entry value's key, in order): the
 * record's own keys, or the readable names debug output shows (context/debug.ts).
 */
export const fromEntries = (entries: unknown[][], names: ArrayLike<string> = KEYS): Record<number, Record<string, unknown>> => {
  const history: Record<number, Record<string, unknown>> = {};
  for (const [id, ...e] of entries) e.forEach((v, i) => ((history[id as number] ||= {})[names[i]] = v));
  return history;
};

export function readState(store: Store): State {
  const [signed, entries] = store.read<[number, unknown[][]]>(R.STATE, [0, [[0, 0, 0, 0, 0, 0, 0]]]) || [0, []];
  return { signedUp: signed == 1, history: fromEntries(entries) as unknown as State['history'] };
}

/**
 * Saves; when too big, drops the least recently seen campaigns (from `state` too) until it fits.
 * Measured here, not by a refused write: one the storage refuses (full) must drop nothing, since
 * `state` is what the page goes on with.
 */
export function writeState(store: Store, state: State): void {
  const entries = toEntries(state.history).sort((a, b) => b[5] - a[5]);
  // `entries` shrinks in place: the record follows.
  const rec = [+state.signedUp, entries];
  while (!fits(encode(rec))) delete state.history[entries.pop()![0]];
  store.write(R.STATE, rec);
}
