// One campaign per slot: a bar and a popup may show together, two popups never.
import type { Campaign, Layout } from '../../shared/campaign';

export const slotOf = (l: Layout): string => (l.type == 'bar' ? 'bar' : l.type == 'embed' ? 'embed:' + l.selector : 'main');

/** Highest priority first, ties broken by the lower id: the order the engine gives slots in. */
export const byRank = (a: Campaign, b: Campaign): number => (b.priority || 0) - (a.priority || 0) || a.id - b.id;
