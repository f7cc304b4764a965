// The campaign schema, defined once for the SDK, the server and the tests.
import type { Frequency, Rule, Schedule, Trigger, Variant } from './campaign-targeting';
import type { Content, Layout } from './campaign-content';

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
