// The visitor context as debug output shows it (the `context` line, `wisepops('debug').context`):
// each campaign's history under readable names. The `wisepops` record keeps its compact keys
// (see storage/state.ts); only this copy is renamed, by the record's own conversion.
import { fromEntries, toEntries } from '../storage/state';
import type { VisitorContext } from './types';

/**
 * The readable name of each CampaignHistory key, in the record's entry order (d c v k l p g). The
 * last display stays in epoch seconds, as stored (the context's other times are in ms): its name
 * says so.
 */
const NAMES = 'displays closes signups clicks lastDisplaySeconds lastDisplayPageview group'.split(' ');

export const debugContext = (x: VisitorContext) => ({ ...x, history: fromEntries(toEntries(x.history), NAMES) });
