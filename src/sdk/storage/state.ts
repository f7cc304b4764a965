// The `wisepops` record: per-campaign history and "signed up once". Entries are arrays
// [id, displays, closes, conversions, clicks, last display (epoch s), pageview count, group?].
import type { CampaignHistory } from '../context/types';
import { STATE, num, str, type Store } from './store';

export interface State {
  signedUp: boolean;
  history: Record<number, CampaignHistory>;
}

type Entry = [number, number, number, number, number, number, number, string?];

export function readState(store: Store): State {
  const s = store.read(STATE, ([signed, entries]): State => {
    if (!Array.isArray(entries)) throw Error('bad entries');
    const history: State['history'] = {};
    for (const e of entries as unknown[][]) {
      const h: CampaignHistory = { d: num(e[1]), c: num(e[2]), v: num(e[3]), k: num(e[4]), l: num(e[5]), p: num(e[6]) };
      if (e[7] != null) h.g = str(e[7]);
      history[num(e[0])] = h;
    }
    return { signedUp: signed === 1, history };
  });
  return s || { signedUp: false, history: {} };
}

/** Saves; when too big, drops the least recently seen campaigns (from `state` too) until it fits. */
export function writeState(store: Store, state: State): void {
  const entries = Object.keys(state.history)
    .map((id): Entry => {
      const h = state.history[+id];
      const e: Entry = [+id, h.d, h.c, h.v, h.k, h.l, h.p];
      if (h.g != null) e.push(h.g);
      return e;
    })
    .sort((a, b) => b[5] - a[5]);
  while (!store.write(STATE, [state.signedUp ? 1 : 0, entries])) delete state.history[entries.pop()![0]];
}
