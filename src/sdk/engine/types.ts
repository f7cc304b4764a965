// The boundary between the command layer (src/sdk/index.ts: queue, options, storage, context)
// and the engine (src/sdk/engine: campaigns, decisions, triggers, the UI chunk, collection).
import type { CampaignHistory, VisitorContext } from '../context/types';
import type { ListenEvent } from '../listen';
import type { Log } from '../log';

export interface DebugLine {
  id: number;
  name: string;
  /** 'shown' | 'eligible' (waiting for its trigger) | 'skipped' */
  status: 'shown' | 'eligible' | 'skipped';
  /** First failing rule in plain words, e.g. "visits in last 30 days is 2, needs ≥ 5". */
  reason?: string;
}

export interface EngineDeps {
  site: string;
  /** Base URL of the collection server, e.g. https://popups.example.com (no trailing slash). */
  endpoint: string;
  /** URL of dist/poplet.ui.js. */
  uiUrl: string;
  /** Current visitor context (rebuilt by the command layer on pageview/properties). */
  context(): VisitorContext;
  /** Re-reads the campaign history and the opt-out into the context: another tab may have shown a campaign, stored an A/B group or set "don't show again" since. */
  reload(): void;
  /** Persistent per-campaign history in the `wisepops` record. */
  history: {
    update(campaignId: number, change: (h: CampaignHistory) => void): void;
    markSignedUp(): void;
  };
  /** Sets the opt-out record ("Don't show popups again"), then refreshes the engine (which removes what is shown). */
  noshow(): void;
  /** The `wisepops_activity_session` record (exit-intent state), raw string. */
  activity: { get(): string | undefined; set(value: string): void };
  /** Analytics id when consent allows, else undefined. */
  visitorId(): string | undefined;
  /** The listen bus. Returns false when a before-* listener vetoed. Never throws. */
  emit(name: ListenEvent, detail: Record<string, unknown>, target?: EventTarget): boolean;
  /** Debug log: no-op unless debug is on; `on` says whether it is, so debug-only work can be skipped. */
  log: Log;
  /** CSP nonce option, passed to the UI chunk. */
  nonce?: string;
}

export interface Engine {
  /**
   * A page view happened (the first one, or an SPA `wisepops('pageview')`): re-evaluate. The first
   * emits `ready` once the campaign set is evaluated.
   */
  pageview(): void;
  /** `wisepops('event', name)`: fire event triggers, re-evaluate. */
  event(name: string): void;
  /** Properties or consent changed: re-evaluate without counting a page view. */
  refresh(): void;
  /** `wisepops('debug')`: per campaign, shown or not and why. */
  debug(): DebugLine[];
  /** `wisepops('goal', name, {revenue})`. */
  goal(name: string, revenue?: number): void;
}
