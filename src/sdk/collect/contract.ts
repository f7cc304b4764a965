// The boundary between the core and the lazily loaded collection chunk (dist/poplet.collect.js):
// the sign-up outbox, batched analytics and the UiHost a shown campaign reports through. Most
// page views show nothing, so none of this rides in the core: the engine loads the chunk with the
// UI chunk, and on a page view that finds sign-ups left unsent.
import type { Campaign } from '../../shared/campaign';
import type { VisitorContext } from '../context/types';
import type { EngineDeps } from '../engine/types';
import type { UiHost } from '../render/contract';
import { VERSION } from '../version';

/** What the engine hands the collection client. */
export interface CollectKit {
  deps: EngineDeps;
  /** The visitor context with the campaign set's country. */
  ctx(): VisitorContext;
  /** Records a display in the campaign's history (the engine does the same for the control group). */
  record(campaign: Campaign, group?: string): void;
  /** A new sign-up id. */
  id(): string;
  /** The core's JSON.stringify, safe from Prototype.js (../json): the chunk carries no copy of its own. */
  serialize(value: unknown): string;
}

export interface Collect {
  /** The UiHost of one shown campaign in A/B group `group`; `closed` tells the engine its slot is free. */
  host(group: string | undefined, closed: () => void): UiHost;
  /** Send the sign-ups waiting in the outbox (the engine found some on a page view). */
  flush(): void;
}

/** The chunk's export: one collection client per core, started on first need. */
export type StartCollect = (kit: CollectKit) => Collect;

/** The chunk registers its StartCollect on this global, namespaced by version as UI_GLOBAL is. */
export const COLLECT_GLOBAL = '__popletCollect@' + VERSION;

/**
 * localStorage key of the sign-up outbox; present only while sign-ups wait to be sent. The core
 * checks it on every page view and loads the chunk only when it exists. One key for every install
 * of the page: each sends only its own site's sign-ups (outbox.ts).
 */
export const OUTBOX_KEY = 'poplet_outbox';
