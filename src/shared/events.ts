// Analytics events: batched by the browser, aggregated per campaign, day and A/B group by the server.

export type EventKind = 'display' | 'close' | 'click' | 'signup' | 'goal';

export interface AnalyticsEvent {
  /** kind */
  k: EventKind;
  /** campaign id */
  c: number;
  /**
   * A/B group: variant id, or 'control' for the control group (counted, not shown); absent when
   * the campaign runs no test. On every kind, goals included: the stats are counted per group.
   */
  g?: string;
  /** epoch milliseconds */
  t: number;
  /** goal name (goal events only), 1–50 characters */
  n?: string;
  /** goal revenue (goal events only, optional), a number from 0 to MAX_REVENUE */
  r?: number;
}

/** Body of POST /events (JSON, also sent with sendBeacon as text/plain). */
export interface EventBatch {
  site: string;
  /** Analytics id (wisepops_visitor); only when consent allows. */
  visitor?: string;
  events: AnalyticsEvent[];
}

export const EVENT_KINDS: readonly EventKind[] = ['display', 'close', 'click', 'signup', 'goal'];
/** Longest goal name, checked by the browser and the server alike. */
export const MAX_GOAL_NAME = 50;
/** Events in one batch; the browser flushes far more often than this. */
export const MAX_EVENTS = 500;

/** Largest revenue one goal may carry: keeps forged values from overflowing the daily sums. */
export const MAX_REVENUE = 1e9;
export const isRevenue = (r: unknown): r is number => typeof r === 'number' && r >= 0 && r <= MAX_REVENUE;

/** The analytics id (`visitor`): the SDK's nanoid (21 characters), within the rule of sign-up ids. */
export const VISITOR_ID = /^[\w-]{10,64}$/;

// Half of a UTF-16 surrogate pair on its own (a JSON "\ud800" escape): not text. Stored, SQLite's
// UTF-8 turns it into U+FFFD, so the row no longer holds what was sent (a sign-up's address shown
// could never be erased, a goal name would not be the one sent). String.prototype.isWellFormed,
// without needing ES2024. Here rather than in signup.ts, which imports it: the core bundles this
// module (goal names, VISITOR_ID) and checks goal names with it too.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;
/** True when `s` is well-formed UTF-16: no lone surrogate. */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);
export const NOT_TEXT = 'must be well-formed Unicode text (it holds a lone surrogate)';

/** Checks a POST /events body. Returns null when valid, else an error naming the field. */
export function validateEventBatch(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'body: must be a JSON object';
  const b = x as Record<string, unknown>;
  if (typeof b.site !== 'string' || b.site.length < 1 || b.site.length > 64) return 'site: must be a site id';
  if (b.visitor !== undefined && (typeof b.visitor !== 'string' || !VISITOR_ID.test(b.visitor))) return 'visitor: must be 10–64 characters A–Z a–z 0–9 _ -';
  if (!Array.isArray(b.events) || b.events.length < 1 || b.events.length > MAX_EVENTS) return `events: must be an array of 1–${MAX_EVENTS} events`;
  for (let i = 0; i < b.events.length; i++) {
    const e = b.events[i] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) return `events[${i}]: must be an object`;
    if (!EVENT_KINDS.includes(e.k as EventKind)) return `events[${i}].k: must be one of ${EVENT_KINDS.join(', ')}`;
    if (typeof e.c !== 'number' || !Number.isSafeInteger(e.c) || e.c < 1) return `events[${i}].c: must be a positive integer`;
    if (e.g !== undefined && (typeof e.g !== 'string' || e.g.length > 64)) return `events[${i}].g: must be a string of at most 64 characters`;
    if (e.g !== undefined && !isWellFormed(e.g)) return `events[${i}].g: ${NOT_TEXT}`;
    if (typeof e.t !== 'number' || !Number.isFinite(e.t)) return `events[${i}].t: must be epoch milliseconds`;
    if (e.k === 'goal') {
      if (typeof e.n !== 'string' || e.n.length < 1 || e.n.length > MAX_GOAL_NAME) return `events[${i}].n: a goal needs a name of 1–${MAX_GOAL_NAME} characters`;
      if (!isWellFormed(e.n)) return `events[${i}].n: ${NOT_TEXT}`;
      if (e.r !== undefined && !isRevenue(e.r)) return `events[${i}].r: must be a number from 0 to ${MAX_REVENUE}`;
    } else if (e.n !== undefined || e.r !== undefined) return `events[${i}]: n and r belong to goal events only`;
  }
  return null;
}
