// Targeting half of the campaign schema: who sees a campaign, when it fires, how often.
// Plain JSON shapes; src/shared/spec.ts describes them for the validator.

/** String operators. The `not_` forms negate; `ci: true` compares case-insensitively. */
export type StringOp =
  | 'equals' | 'not_equals'
  | 'contains' | 'not_contains'
  | 'starts_with' | 'not_starts_with'
  | 'ends_with' | 'not_ends_with'
  | 'matches' | 'not_matches'
  | 'in' | 'not_in'
  | 'exists' | 'not_exists';

export type NumberOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';

/** Date operators for custom properties and dates in general. */
export type DateOp = 'before' | 'after' | 'more_than_days_ago' | 'less_than_days_ago';

/** Page-level string sources. `query` needs `key` (the parameter name). */
export type PageField = 'url' | 'path' | 'query' | 'hash' | 'landing' | 'referrer' | 'referrer_domain';
export type UtmField = 'utm_source' | 'utm_medium' | 'utm_campaign' | 'utm_term' | 'utm_content';

export type Condition =
  | { type: 'page'; field: PageField; key?: string; op: StringOp; value?: string | string[]; ci?: boolean }
  | { type: 'utm'; field: UtmField; op: StringOp; value?: string | string[]; ci?: boolean }
  | { type: 'visitor'; is: 'new' | 'returning' }
  /** "came N times in the last D days", from the last-10 visit dates. */
  | { type: 'visits'; op: NumberOp; value: number; days?: number }
  | { type: 'pageviews'; scope: 'session' | 'total'; op: NumberOp; value: number }
  /** Seconds since the first visit, or on site in this session. */
  | { type: 'time'; scope: 'since_first_visit' | 'on_site'; op: NumberOp; value: number }
  /** Custom property by dot path. Which ops apply depends on `kind`. */
  | { type: 'property'; key: string; kind: 'string'; op: StringOp; value?: string | string[]; ci?: boolean }
  | { type: 'property'; key: string; kind: 'number'; op: NumberOp | 'exists' | 'not_exists'; value?: number }
  | { type: 'property'; key: string; kind: 'boolean'; op: 'is' | 'exists' | 'not_exists'; value?: boolean }
  | { type: 'property'; key: string; kind: 'date'; op: DateOp | 'exists' | 'not_exists'; value?: string | number }
  | { type: 'device'; in: Array<'mobile' | 'tablet' | 'desktop'> }
  | { type: 'language'; op: StringOp; value?: string | string[] }
  | { type: 'country'; op: 'in' | 'not_in'; value: string[] }
  | { type: 'history'; campaign: number; event: 'seen' | 'closed' | 'converted' | 'clicked'; negate?: boolean }
  /** Displays of this campaign so far. */
  | { type: 'displays'; op: NumberOp; value: number }
  | { type: 'signed_up'; value: boolean };

export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Condition;

export type Trigger =
  | { type: 'landing'; delay?: number /* seconds */ }
  | { type: 'scroll'; percent: number }
  /** Desktop: pointer leaves through the top. Mobile: fast upward scroll or tab switch back. */
  | { type: 'exit'; mobile?: boolean; oncePerSession?: boolean }
  | { type: 'inactivity'; seconds: number }
  | { type: 'click'; selector: string }
  | { type: 'event'; name: string }
  | { type: 'pageviews'; count: number; scope?: 'session' | 'total' };

export interface Frequency {
  /**
   * When may it show again after a display. Default: every page view for an embed, once per
   * session for the other layouts (applied in src/sdk/targeting/frequency.ts, its one definition).
   */
  repeat?:
    | { every: 'page' }
    | { every: 'session' }
    | { every: 'days' | 'minutes' | 'pages'; n: number }
    | { every: 'never' };
  /** Stop for good after any of these. Defaults: close and signup true. */
  stopAfter?: { close?: boolean; signup?: boolean; click?: boolean; displays?: number };
}

export interface Schedule {
  start?: string; // ISO date-time
  end?: string; // ISO date-time
  days?: number[]; // 0 = Sunday … 6 = Saturday, in the site's time zone
  hours?: [number, number]; // [from, to) hours 0–24 in the site's time zone
}

export interface Variant {
  id: string;
  weight: number;
}

/**
 * The group the SDK reports for the treatment of a campaign with a control group but no variants:
 * the server counts it as one of the campaign's groups.
 */
export const DEFAULT_GROUP = 'default';

/** Epoch ms of a date given as ISO string or epoch number (below 1e11: seconds). NaN if not a date. */
export const toTime = (v: unknown): number =>
  typeof v == 'number' && isFinite(v) ? (v < 1e11 ? v * 1000 : v) : typeof v == 'string' ? Date.parse(v) : v instanceof Date ? +v : NaN;

/**
 * The dates a schedule takes: strict ISO, the one form every browser's Date.parse reads alike
 * (V8 also reads "2025-06-01 9:00", and could not read it back with a Z). Groups: 1 the time, 4 the offset.
 */
export const ISO = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/;
