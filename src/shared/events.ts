// Analytics events: batched by the browser, aggregated per campaign per day by the server.

export type EventKind = 'display' | 'close' | 'click' | 'signup';

export interface AnalyticsEvent {
  /** kind */
  k: EventKind;
  /** campaign id */
  c: number;
  /** variant id, or 'control' for the control group (counted, not shown) */
  g?: string;
  /** epoch milliseconds */
  t: number;
}

/** Body of POST /events (JSON, also sent with sendBeacon as text/plain). */
export interface EventBatch {
  site: string;
  /** Analytics id (wisepops_visitor); only when consent allows. */
  visitor?: string;
  events: AnalyticsEvent[];
}
