// A/B assignment: stable per visitor (the history's `g` wins while it still names a group of
// the campaign), otherwise a weighted draw with the injected random. The caller persists it.
import type { Campaign } from '../../shared/campaign';

/** Group of the treatment when a campaign has a control group but no variants. */
export const DEFAULT_GROUP = 'default';

/** [group, newly drawn]; group undefined when the campaign has neither variants nor control. */
export function assignGroup(c: Campaign, g: string | undefined, random: () => number): [string | undefined, boolean] {
  const v = c.variants;
  const ctl = c.control ?? 0;
  if (!v && !ctl) return [undefined, false];
  if (g && (g == 'control' ? ctl > 0 : v ? v.some((x) => x.id == g && x.weight > 0) : g == DEFAULT_GROUP)) return [g, false];
  if (random() * 100 < ctl) return ['control', true];
  if (!v) return [DEFAULT_GROUP, true];
  let r = random() * v.reduce((s, x) => s + x.weight, 0);
  for (const x of v) if (x.weight > 0 && (r -= x.weight) < 0) return [x.id, true];
  // Float rounding can leave r at 0 after the loop: the last weighted variant takes it.
  return [v.filter((x) => x.weight > 0).pop()!.id, true];
}
