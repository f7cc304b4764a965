// `wisepops('options', {...})`: the accepted options, their defaults and checks.
import { isObject } from '../storage/props';
import type { StoreConfig } from '../storage/store';
import type { Log } from '../log';

export interface Options {
  storage: 'cookie' | 'localStorage';
  cookieExpiryDays: number;
  cookieDomain?: string;
  debug: boolean;
  autoPageview: boolean;
  defaultConsent: 'granted' | 'denied';
  /** run inside iframes too */
  iframes: boolean;
  /** collection server base URL; default: the script's origin */
  endpoint?: string;
  /** URL of poplet.ui.js; default: next to poplet.js */
  uiUrl?: string;
  /** CSP nonce for the UI chunk's <script> and <style> */
  nonce?: string;
}

export const DEFAULTS: Options = {
  storage: 'cookie',
  cookieExpiryDays: 730,
  debug: false,
  autoPageview: true,
  defaultConsent: 'granted',
  iframes: false,
};

/** Options that only matter before the script has started (read from the queue). */
export const EARLY: ReadonlyArray<keyof Options> = ['autoPageview', 'iframes', 'endpoint', 'uiUrl', 'nonce'];

const bool = (v: unknown) => typeof v === 'boolean';
const text = (v: unknown) => typeof v === 'string' && v !== '';
const CHECKS: Record<keyof Options, (v: unknown) => boolean> = {
  storage: (v) => v === 'cookie' || v === 'localStorage',
  cookieExpiryDays: (v) => typeof v === 'number' && v > 0 && v <= 3650,
  cookieDomain: text,
  debug: bool,
  autoPageview: bool,
  defaultConsent: (v) => v === 'granted' || v === 'denied',
  iframes: bool,
  endpoint: text,
  uiUrl: text,
  nonce: text,
};

/** `options` applied on `current`: each invalid or unknown key logs one line and is ignored. */
export function mergeOptions(current: Options, input: unknown, log: Log): Options {
  const next = { ...current };
  if (!isObject(input)) return log('options: expects an object'), next;
  for (const k of Object.keys(input)) {
    const v = input[k];
    if (Object.prototype.hasOwnProperty.call(CHECKS, k) && CHECKS[k as keyof Options](v)) {
      (next as Record<string, unknown>)[k] = k === 'endpoint' ? (v as string).replace(/\/+$/, '') : v;
    } else log(`options: ${k} ignored (unknown option or invalid value)`, v);
  }
  return next;
}

export const storeConfig = (o: Options, consent: boolean): StoreConfig => ({
  storage: o.storage,
  days: o.cookieExpiryDays,
  domain: o.cookieDomain,
  consent,
});
