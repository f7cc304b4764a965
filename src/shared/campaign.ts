// The campaign schema, defined once for the SDK, the server and the tests.
import type { Frequency, Rule, Schedule, Trigger, Variant } from './campaign-targeting';
import type { Content, Layout } from './campaign-content';
import { checkContent } from './campaign-content';
import { checkCampaign, isObj } from './spec';

export type * from './campaign-targeting';
export type * from './campaign-content';

export interface Campaign {
  /** The `wisepop_id` of the Email API and hooks. */
  id: number;
  name: string;
  status: 'draft' | 'live' | 'paused';
  /** Higher wins when several are eligible for one slot. Default 0. */
  priority?: number;
  schedule?: Schedule;
  targeting?: Rule;
  trigger: Trigger;
  frequency?: Frequency;
  /** A/B variants. Each may override `content`. */
  variants?: Array<Variant & { content?: Content }>;
  /** Percentage (0–100) of visitors held back as a control group: counted, shown nothing. */
  control?: number;
  layout: Layout;
  content: Content;
}

/** What GET /sites/:siteId/campaigns.json returns and the SDK loads. */
export interface CampaignSet {
  site: string;
  /** IANA time zone of the site, for schedules. Default UTC. */
  timezone?: string;
  /** Visitor's country (ISO 3166-1 alpha-2) from the trusted CDN header, or null. */
  country: string | null;
  campaigns: Campaign[];
}

// ---- Validator ------------------------------------------------------------------------------

export type Validated = { ok: true; campaign: Campaign } | { ok: false; error: string };

/**
 * Everything except content: what the browser core checks before targeting. Content is checked by
 * the server, on import and when serving (the UI chunk has no bytes left for it: see
 * render/mount.tsx). The error names the first bad field by path.
 */
export function validateCampaignCore(x: unknown): Validated {
  const e = checkCampaign(x);
  return e ? { ok: false, error: e } : { ok: true, campaign: x as Campaign };
}

/** The whole campaign, content and variants' content included (server and tests). */
export function validateCampaign(x: unknown): Validated {
  const r = validateCampaignCore(x);
  if (!r.ok) return r;
  const c = r.campaign;
  let e = checkContent(c.content, 'content');
  (c.variants || []).forEach((v, i) => {
    e = e || (v.content === undefined ? null : checkContent(v.content, `variants[${i}].content`));
  });
  return e ? { ok: false, error: e } : r;
}

/**
 * A campaign set as received (JSON). Keeps the valid campaigns and logs one line per skipped one,
 * so one bad campaign never takes the others down.
 */
export function parseCampaignSet(x: unknown, log: (line: string) => void): CampaignSet {
  const o = isObj(x) ? x : {};
  const list = Array.isArray(o.campaigns) ? o.campaigns : [];
  if (!Array.isArray(o.campaigns)) log('campaign set: campaigns must be a list');
  const campaigns: Campaign[] = [];
  list.forEach((c, i) => {
    const r = validateCampaign(c);
    if (r.ok) campaigns.push(r.campaign);
    else log(`${skippedName(c, i)} skipped: ${r.error}`);
  });
  return {
    site: typeof o.site == 'string' ? o.site : '',
    timezone: typeof o.timezone == 'string' ? o.timezone : undefined,
    country: typeof o.country == 'string' ? o.country.toUpperCase() : null,
    campaigns,
  };
}

/** "campaign 12" when the id is usable, else "campaign #3" (position in the set). */
export function skippedName(c: unknown, i: number): string {
  const id = isObj(c) && c.id;
  return 'campaign ' + (typeof id == 'number' ? id : '#' + i);
}
