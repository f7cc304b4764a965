// The targeting engine: campaigns + visitor context -> who is eligible now, and why not.
// Pure: no DOM, no timers, no globals; randomness and the clock come in as arguments.
import type { Campaign, Content } from '../../shared/campaign';
import { skippedName, validateCampaignCore } from '../../shared/campaign';
import type { VisitorContext } from '../context/types';
import type { DebugLine } from '../engine/types';
import { frequencyBlock } from './frequency';
import { compileRule, type Test } from './rules';
import { checkSchedule, compileSchedule, localTime, zone, type CompiledSchedule, type Local, type Offset } from './schedule';
import { byRank } from './slots';
import { assignGroup } from './variant';

export { pickWinners, slotOf } from './slots';
export { DEFAULT_GROUP } from './variant';

interface Entry {
  c: Campaign;
  t: Test | null;
  s?: CompiledSchedule;
}

export interface Compiled {
  /** Valid campaigns, best rank first. */
  list: Entry[];
  /** Invalid campaigns, reported by evaluate as skipped. */
  bad: DebugLine[];
  off: Offset;
}

export interface Candidate {
  campaign: Campaign;
  /** Variant id, 'control', or undefined when the campaign runs no test. */
  group?: string;
  /** The group was drawn now: persist it in the history's `g`. */
  assigned: boolean;
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
export function compile(campaigns: unknown[], o: { timezone?: string; log: (line: string) => void }): Compiled {
  const off = zone(o.timezone, o.log);
  const list: Entry[] = [];
  const bad: DebugLine[] = [];
  campaigns.forEach((x, i) => {
    const r = validateCampaignCore(x);
    const name = skippedName(x, i);
    if (!r.ok) {
      o.log(`${name} skipped: ${r.error}`);
      const y = x as Partial<Campaign> | null;
      bad.push({ id: typeof y?.id == 'number' ? y.id : -1, name: String(y?.name ?? ''), status: 'skipped', reason: 'invalid: ' + r.error });
      return;
    }
    const c = r.campaign;
    list.push({ c, t: c.targeting ? compileRule(c.targeting, (l) => o.log(`${name}: ${l}`)) : null, s: c.schedule && compileSchedule(c.schedule, off) });
  });
  list.sort((a, b) => byRank(a.c, b.c));
  return { list, bad, off };
}

/** Who may show now. The first failing rule is reported per campaign: noshow, status, schedule, frequency, targeting. */
export function evaluate(k: Compiled, x: VisitorContext, random: () => number): Decision {
  const eligible: Candidate[] = [];
  const debug: DebugLine[] = [];
  let local: Local | undefined;
  const now = () => (local ||= localTime(x.now, k.off));
  for (const { c, t, s } of k.list) {
    const h = x.history[c.id];
    const why = x.noshow
      ? 'the visitor chose "don\'t show popups again"'
      : c.status != 'live'
        ? `status is ${c.status}`
        : (s && checkSchedule(s, x.now, now)) || frequencyBlock(c.frequency, h, x) || (t && t(x, c.id));
    if (why) debug.push({ id: c.id, name: c.name, status: 'skipped', reason: why });
    else {
      const [group, assigned] = assignGroup(c, h?.g, random);
      eligible.push({ campaign: c, group, assigned, content: c.variants?.find((v) => v.id == group)?.content ?? c.content });
      debug.push({ id: c.id, name: c.name, status: 'eligible', reason: group && `group ${group}` });
    }
  }
  return { eligible, debug: debug.concat(k.bad) };
}
