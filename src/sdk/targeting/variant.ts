// A/B assignment: stable per visitor (the history's `g` wins while it still names a group of
// the campaign), otherwise a weighted draw with the injected random. The caller persists it.
import type { Campaign } from '../../shared/campaign';

/** Group of the treatment when a campaign has a control group but no variants. */
export const DEFAULT_GROUP = 'default';

/** [group, newly drawn]; group undefined when the campaign has neither variants nor control. */
export function assignGroup(c: Campaign, g: string | undefined, random: () => number): [string | undefined, boolean] {
  const ctl = c.control || 0;
  // Only weighted variants can be drawn or kept.
  const v = (c.variants || [{ id: DEFAULT_GROUP, weight: ctl && 1 }]).filter((x) => x.weight > 0);
  if (!v.length) return [undefined, false];
  if (g && (g == 'control' ? ctl > 0 : v.some((x) => x.id == g))) return [g, false];
  if (random() * 100 < ctl) return ['control', true];
  let r = random() * v.reduce((s, x) => s + x.weight, 0);
  // Float rounding can leave r at 0 after the loop: the last variant takes it.
  return [(v.find((x) => (r -= x.weight) < 0) || v[v.length - 1]).id, true];
}
