// One campaign per slot: a bar and a popup may show together, two popups never.
import type { Campaign, Layout } from '../../shared/campaign';

export const slotOf = (l: Layout): string => (l.type == 'bar' ? 'bar' : l.type == 'embed' ? 'embed:' + l.selector : 'main');

/** Highest priority first, ties broken by the lower id: the order winners are picked in. */
export const byRank = (a: Campaign, b: Campaign): number => (b.priority || 0) - (a.priority || 0) || a.id - b.id;

/** The winner of each free slot, best first. A control-group candidate wins its slot too (counted, nothing drawn). */
export function pickWinners<T extends { campaign: Campaign }>(candidates: T[], occupiedSlots: Iterable<string>): T[] {
  const taken = new Set(occupiedSlots);
  return candidates
    .slice()
    .sort((a, b) => byRank(a.campaign, b.campaign))
    .filter((x) => {
      const s = slotOf(x.campaign.layout);
      return !taken.has(s) && !!taken.add(s);
    });
}
