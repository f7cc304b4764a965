// The boundary between the engine and the lazily loaded UI chunk (dist/poplet.ui.js). The core
// owns state, records and the listen API, the collection chunk (dist/poplet.collect.js) the
// sign-up outbox and analytics; the UI chunk only draws and reports what the visitor did through
// the host below, which the collection chunk provides.
import type { Campaign, Content } from '../../shared/campaign';
import type { VisitorContext } from '../context/types';
import { VERSION } from '../version';

export type SubmitResult =
  /** 2xx from the server, or safely in the outbox to be retried: show the success step */
  | { ok: true; queued: boolean }
  /**
   * the server refused the data (4xx) or a before-form-submit listener cancelled; `field`: the
   * sign-up key the server's error names (`email`, or a field's name), if it names one
   */
  | { ok: false; error: string; field?: string };

export interface UiHost {
  /** Current visitor context (hidden fields read properties and UTM from it). */
  context(): VisitorContext;
  /** The chunk has painted the campaign (after the enter animation started). */
  displayed(campaign: Campaign): void;
  closed(campaign: Campaign): void;
  /** A link or button click worth tracking. */
  clicked(campaign: Campaign, href?: string): void;
  /** Submit a form: fields by name, email included under `email`, consent text, honeypot value, the form (the form events' target). */
  submit(campaign: Campaign, fields: Record<string, string>, consent: string | undefined, hp: string, form?: HTMLFormElement): Promise<SubmitResult>;
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
}

/**
 * The chunk registers itself on this global when it runs; the core loads the chunk with a
 * <script> tag next to its own and waits for it. Namespaced by version: two cores of one version
 * (different global names) share one chunk, two versions never mix.
 */
export const UI_GLOBAL = '__popletUi@' + VERSION;
