// The boundary between the core (dist/poplet.js) and the lazily loaded UI chunk (dist/poplet.ui.js).
// The core owns state, records, analytics, the outbox and the listen API; the chunk only draws
// and reports what the visitor did through the host below.
import type { Campaign, Content } from '../../shared/campaign';
import type { VisitorContext } from '../context/types';
import type { EngineDeps } from '../engine/types';

export type SubmitResult =
  /** 2xx from the server, or safely in the outbox to be retried: show the success step */
  | { ok: true; queued: boolean }
  /** the server refused the data (4xx) or a before-form-submit listener cancelled */
  | { ok: false; error: string };

export interface UiHost {
  /** Current visitor context (hidden fields read properties and UTM from it). */
  context(): VisitorContext;
  /** The chunk has painted the campaign (after the enter animation started). */
  displayed(campaign: Campaign): void;
  closed(campaign: Campaign): void;
  /** A link or button click worth tracking. */
  clicked(campaign: Campaign, href?: string): void;
  /** Submit a form: fields by name, email included under `email`, consent text, honeypot value. */
  submit(campaign: Campaign, fields: Record<string, string>, consent: string | undefined, hp: string): Promise<SubmitResult>;
  /** "Don't show popups again". */
  noshow(): void;
  /** Debug log (no-op unless debug is on). */
  log(message: string, data?: unknown): void;
  /** CSP nonce for the chunk's <style> fallback where constructable stylesheets are missing. */
  nonce?: string;
}

export interface ShowRequest {
  campaign: Campaign;
  /** The variant's content, or the campaign's own. */
  content: Content;
  host: UiHost;
}

export interface Shown {
  /** Remove the campaign without recording a close (page navigation in an SPA, re-evaluation). */
  destroy(): void;
}

export interface PopletUi {
  show(req: ShowRequest): Shown;
  /**
   * The collection client (sign-up outbox, analytics) of one core: it lives in the chunk because
   * sign-ups and nearly every analytics event happen only once the chunk is loaded anyway.
   * The core calls it once, when it first has the chunk.
   */
  collect(kit: CollectKit): Collect;
}

/** What a core hands the chunk's collection client. */
export interface CollectKit {
  deps: EngineDeps;
  /** The visitor context with the campaign set's country. */
  ctx(): VisitorContext;
  /** Records a display in the campaign's history (the core does the same for the control group). */
  record(campaign: Campaign, group?: string): void;
  /** A new sign-up id (the core's nanoid: the chunk need not carry its own). */
  id(): string;
}

export interface Collect {
  /** The UiHost of one shown campaign in A/B group `group`; `closed` tells the core its slot is free. */
  host(group: string | undefined, closed: () => void): UiHost;
  /** Send the sign-ups waiting in the outbox (the core found some on a page view). */
  flush(): void;
}

/** localStorage key of the sign-up outbox; the core only checks it for unsent sign-ups. */
export const OUTBOX_KEY = 'poplet_outbox';

/**
 * The chunk registers itself on this global when it runs; the core loads the chunk with a
 * <script> tag next to its own and waits for it. A single namespaced global, so two copies of
 * the core with different global names share one chunk safely.
 */
export const UI_GLOBAL = '__popletUi';
