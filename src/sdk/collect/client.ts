// The collection client of one core: one sign-up outbox and one analytics tracker, and the
// UiHost of each shown campaign over them. It lives in the core, not the UI chunk, so a page view
// can resend a queued sign-up without downloading the renderer.
import type { Campaign } from '../../shared/campaign';
import type { AnalyticsEvent } from '../../shared/events';
import type { VisitorContext } from '../context/types';
import type { EngineDeps } from '../engine/types';
import type { UiHost } from '../render/contract';
import { uiHost } from './host';
import { browserNet, type Net } from './net';
import { createOutbox } from './outbox';
import { createTracker } from './tracker';

/** What the engine hands its collection client. */
export interface CollectKit {
  deps: EngineDeps;
  /** The visitor context with the campaign set's country. */
  ctx(): VisitorContext;
  /** Records a display in the campaign's history (the engine does the same for the control group). */
  record(campaign: Campaign, group?: string): void;
  /** A new sign-up id. */
  id(): string;
}

export interface Collect {
  /** The UiHost of one shown campaign in A/B group `group`; `closed` tells the engine its slot is free. */
  host(group: string | undefined, closed: () => void): UiHost;
  /** Send the sign-ups waiting in the outbox (the engine found some on a page view). */
  flush(): void;
  /** Send analytics events at once, by beacon (control-group counts and goals: no UI involved). */
  send(events: AnalyticsEvent[]): void;
}

export function client(kit: CollectKit, net: Net = browserNet): Collect {
  const { deps } = kit;
  let store: Storage | null = null;
  try {
    // Reading `localStorage` itself throws where storage is blocked: the outbox keeps to memory.
    store = localStorage;
  } catch {
    /* memory */
  }
  const outbox = createOutbox(deps.endpoint, net, deps.log, store);
  const { track, send } = createTracker(deps.endpoint, deps.site, deps.visitorId, net, deps.log);
  return { host: (group, closed) => uiHost(kit, outbox, track, group, closed), flush: () => outbox.flush(), send };
}
