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

// An option's type, or its allowed values.
const SPEC: Record<string, string | unknown[]> = {
  storage: ['cookie', 'localStorage'],
  cookieExpiryDays: 'number',
  cookieDomain: 'string',
  debug: 'boolean',
  autoPageview: 'boolean',
  defaultConsent: ['granted', 'denied'],
  iframes: 'boolean',
  endpoint: 'string',
  uiUrl: 'string',
  nonce: 'string',
};
const valid = (spec: string | unknown[], v: unknown) =>
  typeof spec == 'string' ? typeof v == spec && (typeof v == 'number' ? v > 0 : v !== '') : spec.includes(v);

/** `options` applied on `current`: each invalid or unknown key logs one line and is ignored. */
export function mergeOptions(current: Options, input: unknown, log: Log): Options {
  const next: Record<string, unknown> = { ...current };
  if (!isObject(input)) return log('options: needs an object'), current;
  for (const k of Object.keys(input)) {
    const v = input[k];
    if (Object.prototype.hasOwnProperty.call(SPEC, k) && valid(SPEC[k], v)) next[k] = k == 'endpoint' ? (v as string).replace(/\/+$/, '') : v;
    else log(`options: ${k} ignored`, v);
  }
  return next as unknown as Options;
}

export const storeConfig = (o: Options, consent: boolean): StoreConfig => ({
  storage: o.storage,
  days: o.cookieExpiryDays,
  domain: o.cookieDomain,
  consent,
});
