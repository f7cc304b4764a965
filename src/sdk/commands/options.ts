// `wisepops('options', {...})`: the accepted options and their defaults, which double as the
// type each option must have.
import type { Log } from '../log';

// In the order that gzips smallest: the options are read by name, never listed in order.
export const DEFAULTS = {
  autoPageview: true,
  cookieExpiryDays: 730,
  cookieDomain: '',
  storage: 'cookie',
  debug: false,
  defaultConsent: 'granted',
  /** run inside iframes too */
  iframes: false,
  /** collection server base URL; default: the script's origin */
  endpoint: '',
  /** URL of poplet.ui.js; default: next to poplet.js */
  uiUrl: '',
  /** CSP nonce for the UI chunk's <script> and <style> */
  nonce: '',
};
export type Options = typeof DEFAULTS;

/** Options with a fixed set of values. */
const ONE_OF: Record<string, unknown[]> = { storage: ['cookie', 'localStorage'], defaultConsent: ['granted', 'denied'] };

/**
 * `v` is a valid value for option `k`: its default's type, and a listed value or a number > 0.
 * Any string: '' is the free-text options' default (cookieDomain '': host-only cookies).
 */
export const valid = (k: string, v: unknown): boolean =>
  DEFAULTS.hasOwnProperty(k) && typeof v == typeof DEFAULTS[k as keyof Options] && (ONE_OF[k] ? ONE_OF[k].includes(v) : typeof v != 'number' || (v > 0 && v < 1e5));

/** Applies `input` onto `opts`: each invalid or unknown key logs one line and is skipped. */
export function setOptions(opts: Options, input: Record<string, unknown>, log: Log): void {
  for (const k of Object.keys(input)) {
    if (valid(k, input[k])) (opts as Record<string, unknown>)[k] = input[k];
    else log('option ignored: ' + k, input[k]);
  }
}
