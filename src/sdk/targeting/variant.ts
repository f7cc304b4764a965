// A/B assignment: stable per visitor (the history's `g` wins while it still names a group of
// the campaign, then the group drawn earlier in this page), otherwise a weighted draw with the
// injected random. The group is persisted only when the campaign is displayed (or counted for
// the control group), so `g` is always the group the visitor actually got, which is what goals
// are credited to.
import type { Campaign } from '../../shared/campaign';
import { DEFAULT_GROUP } from '../../shared/campaign-targeting';

/** The group; undefined when the campaign has neither variants nor control. `kept`: groups to keep, first valid wins. */
export function assignGroup(c: Campaign, kept: Array<string | undefined>, random: () => number): string | undefined {
  const ctl = c.control || 0;
  // Only weighted variants can be drawn or kept.
  const v = (c.variants || [{ id: DEFAULT_GROUP, weight: ctl && 1 }]).filter((x) => x.weight > 0);
  if (!v.length) return;
  const g = kept.find((g) => g && (g == 'control' ? ctl > 0 : v.some((x) => x.id == g)));
  if (g) return g;
  if (random() * 100 < ctl) return 'control';
  // A loop, not reduce: Prototype.js 1.6 (still on shops) replaces Array#reduce with one that
  // returns the array itself, which made every draw the last variant.
  let r = 0;
  for (const x of v) r += x.weight;
  r *= random();
  // Float rounding can leave r at 0 after the loop: the last variant takes it.
  return (v.find((x) => (r -= x.weight) < 0) || v[v.length - 1]).id;
}
