// The targeting engine: campaigns + visitor context -> who is eligible now, and why not.
// Pure: no DOM, no timers, no globals; randomness and the clock come in as arguments.
import type { Campaign, Content } from '../../shared/campaign';
import { skippedName } from '../../shared/campaign';
import { checkCampaign, type Err } from '../../shared/spec';
import type { VisitorContext } from '../context/types';
import type { DebugLine } from '../engine/types';
import { frequencyBlock } from './frequency';
import { compileRule, type Test } from './rules';
import { compileSchedule, zone } from './schedule';
import { byRank } from './slots';
import { assignGroup } from './variant';

export { slotOf } from './slots';
export { DEFAULT_GROUP } from '../../shared/campaign-targeting';

export interface Compiled {
  /** Valid campaigns with their targeting and schedule tests, best rank first. */
  ranked: Array<[Campaign, Test | null | undefined, ((now: number) => string | undefined) | undefined]>;
  /** Invalid campaigns, reported by evaluate as skipped. */
  bad: DebugLine[];
  /**
   * A/B groups drawn for campaigns not yet displayed, by campaign id: kept for as long as this
   * compiled set lives (until the page reloads; SPA page views keep it), so every evaluation, and
   * the debug output, names the group that will be shown.
   */
  drawn: Record<number, string | undefined>;
}

export interface Candidate {
  campaign: Campaign;
  /** Variant id, 'control', or undefined when the campaign runs no test. */
  group?: string;
  /** The variant's content, or the campaign's own (nothing is drawn for 'control'). */
  content: Content;
}

export interface Decision {
  /** Campaigns that may show now (each still waits for its trigger), best rank first. */
  eligible: Candidate[];
  /** One line per campaign, invalid ones included. */
  debug: DebugLine[];
}

/** Validates and compiles a campaign set once; invalid campaigns are skipped with one log line. */
export function compile(campaigns: unknown, o: { timezone?: string; log: (line: string) => void }): Compiled {
  const wall = zone(o.timezone, o.log);
  const k: Compiled = { ranked: [], bad: [], drawn: {} };
  // The set is JSON from the network: no list is no campaigns, and anything else one bad one.
  // Each one valid only when checkCampaign finds no error: until then, anything (null included).
  ([] as Campaign[]).concat((campaigns || []) as Campaign[]).forEach((c, i) => {
    const name = skippedName(c, i);
    let error: Err;
    // A valid campaign the compiler still cannot take (a date the browser's Intl refuses), or one
    // nested deeper than the validator's recursion goes, is skipped alone; the others still run.
    try {
      // validateCampaignCore's check (the campaign without its content), without the result object.
      if (!(error = checkCampaign(c))) k.ranked.push([c, c.targeting && compileRule(c.targeting, (l) => o.log(`${name}: ${l}`)), c.schedule && compileSchedule(c.schedule, wall)]);
    } catch (e) {
      error = String(e);
    }
    if (error) {
      o.log(`${name} skipped: ${error}`);
      // Its own id and name only when they are a number and a string: converting anything else
      // can throw (an object with a "toString" key).
      const { id, name: n }: { id?: unknown; name?: unknown } = c || {};
      k.bad.push({ id: typeof id == 'number' ? id : -1, name: (typeof n == 'string' && n) || name, status: 'skipped', reason: 'invalid: ' + error });
    }
  });
  k.ranked.sort((a, b) => byRank(a[0], b[0]));
  return k;
}

/** Who may show now. The first failing rule is reported per campaign: noshow, status, schedule, frequency, targeting. */
export function evaluate(k: Compiled, x: VisitorContext, random: () => number): Decision {
  const eligible: Candidate[] = [];
  const debug: DebugLine[] = [];
  for (const [c, t, s] of k.ranked) {
    const { id, name } = c;
    const h = x.history[id];
    const reason = x.noshow
      ? "\"don't show popups again\" is set"
      : c.status != 'live'
        ? 'status is ' + c.status
        : (s && s(x.now)) || frequencyBlock(c, h, x) || (t && t(x, id));
    if (reason) debug.push({ id, name, status: 'skipped', reason });
    else {
      const group = (k.drawn[id] = assignGroup(c, [h && h.g, k.drawn[id]], random));
      const v = c.variants && c.variants.find((v) => v.id == group);
      eligible.push({ campaign: c, group, content: (v && v.content) || c.content });
      debug.push({ id, name, status: 'eligible', reason: group && 'group ' + group });
    }
  }
  return { eligible, debug: debug.concat(k.bad) };
}
