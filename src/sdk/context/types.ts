// The visitor context: one plain object built once per page view from the records and the page.
// It is the only input of targeting besides the campaigns (see src/sdk/targeting).

export type Device = 'mobile' | 'tablet' | 'desktop';

/** Per-campaign history, as kept in the persistent `wisepops` record. Times are epoch seconds. */
export interface CampaignHistory {
  /** displays */ d: number;
  /** closes */ c: number;
  /** conversions (sign-ups) */ v: number;
  /** tracked clicks */ k: number;
  /** last display, epoch seconds (0 = never); with d 0, when a tab claimed the first one (see frequencyBlock) */ l: number;
  /** total pageview count at the last display, for "every N pages" */ p: number;
  /** A/B group the visitor got at the last display (variant id, or 'control'); absent without a test */ g?: string;
}

export interface VisitorContext {
  /** epoch milliseconds of this evaluation */
  now: number;
  url: string;
  path: string;
  /** URL parameters, the first value of each; no prototype (any name is a plain key) */
  query: Record<string, string>;
  /** without the leading '#' ('' when none) */
  hash: string;
  /** Session-level facts (the `wisepops_session` record). */
  session: {
    /** epoch ms the session started */ start: number;
    landing: string;
    /** initial referrer of the session ('' if none) */ referrer: string;
    utm: Partial<Record<'utm_source' | 'utm_medium' | 'utm_campaign' | 'utm_term' | 'utm_content', string>>;
    pageviews: number;
  };
  /** Dates of the last 10 visits, epoch ms, oldest first, the current one last. */
  visits: number[];
  /** epoch ms of the first visit ever recorded */
  firstVisit: number;
  totalPageviews: number;
  /** Persistent properties merged with this page view's temporary ones; nested objects allowed. */
  props: Record<string, unknown>;
  device: Device;
  /** navigator.language, lower case, e.g. 'en-gb' */
  language: string;
  /** from the campaign set; null when unknown */
  country: string | null;
  history: Record<number, CampaignHistory>;
  /** any sign-up ever */
  signedUp: boolean;
  /** "Don't show popups again" is set */
  noshow: boolean;
}
