// Type declarations for `window.wisepops` (copied to dist/poplet.d.ts by the build).
export {};
declare global {
  interface Window {
    wisepops: PopletCommand;
  }
  /** The global the snippet defines, called bare as in every example: `wisepops('event', 'added-to-cart')`. */
  var wisepops: PopletCommand;
}

export type PopletListenEvent =
  | 'ready'
  | 'before-popup-display'
  | 'after-popup-display'
  | 'after-popup-close'
  | 'before-form-submit'
  | 'after-form-submit'
  | 'before-tracked-click'
  | 'after-tracked-click'
  /** Never fires (Poplet has no tabs): accepted so that Wisepops code runs unchanged. */
  | 'before-tab-display';

/** What a listen callback receives. `detail.popup.id` is the campaign id. */
export interface PopletEvent {
  type: PopletListenEvent;
  detail: Record<string, unknown> & { popup?: { id: number; name?: string } };
  /** The campaign's form, for `before-form-submit` and `after-form-submit` (`event.target.elements.email.value`, as with Wisepops). */
  target?: HTMLFormElement;
}
/** Return false from a `before-*` callback to stop the display, the submit or the click tracking. */
export type PopletListener = (event: PopletEvent) => boolean | void;

/** Every event but `ready` is about a campaign: its detail carries `popup` and the A/B `variant`. */
export interface PopletCampaignEvent extends PopletEvent {
  detail: Record<string, unknown> & { popup: { id: number; name?: string }; variant?: string };
}
/** `before-form-submit` and `after-form-submit`: the fields sent, and the form as the target. */
export interface PopletFormEvent extends PopletCampaignEvent {
  detail: PopletCampaignEvent['detail'] & { fields: Record<string, string>; ok?: boolean; queued?: boolean; error?: string };
  /** The inputs are named by the fields' `name`: `event.target.elements['email'].value`, as with Wisepops. */
  target: HTMLFormElement & { readonly elements: HTMLFormControlsCollection & { readonly email: HTMLInputElement } };
}
type PopletFormEventName = 'before-form-submit' | 'after-form-submit';

export interface PopletOptions {
  storage?: 'cookie' | 'localStorage';
  cookieExpiryDays?: number;
  cookieDomain?: string;
  debug?: boolean;
  autoPageview?: boolean;
  defaultConsent?: 'granted' | 'denied';
  iframes?: boolean;
  endpoint?: string;
  uiUrl?: string;
  nonce?: string;
}

export type PopletPropertyValue = string | number | boolean | Date | null | { [key: string]: PopletPropertyValue };

export interface PopletDebugLine {
  id: number;
  name: string;
  status: 'shown' | 'eligible' | 'skipped';
  reason?: string;
}

export interface PopletCommand {
  /** `true` as options: these replace every stored property (the older Wisepops script's reset); `false` merges, as without it. */
  (command: 'properties', properties: Record<string, PopletPropertyValue>, options?: { temporary?: boolean } | boolean): void;
  (command: 'event', name: string): void;
  (command: 'pageview'): void;
  (command: 'goal', name: string, options?: { revenue?: number } | number): void;
  (command: 'options', options: PopletOptions): void;
  (command: 'consent', consent: 'granted' | 'denied'): void;
  (command: 'listen', event: PopletFormEventName, callback: (event: PopletFormEvent) => boolean | void): void;
  (command: 'listen', event: PopletFormEventName, campaignId: number | string, callback: (event: PopletFormEvent) => boolean | void): void;
  (command: 'listen', event: Exclude<PopletListenEvent, 'ready'>, callback: (event: PopletCampaignEvent) => boolean | void): void;
  (command: 'listen', event: Exclude<PopletListenEvent, 'ready'>, campaignId: number | string, callback: (event: PopletCampaignEvent) => boolean | void): void;
  (command: 'listen', event: PopletListenEvent, callback: PopletListener): void;
  (command: 'listen', event: PopletListenEvent, campaignId: number | string, callback: PopletListener): void;
  (command: 'noshow', on?: boolean): void;
  /** Undefined until the script has loaded. */
  (command: 'debug'): { campaigns: PopletDebugLine[]; context: Record<string, unknown> } | undefined;
  /** Calls queued by the snippet before the script arrived. */
  q?: IArguments[];
  /** When the snippet ran (epoch ms). */
  l?: number;
}
