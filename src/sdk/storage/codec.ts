// Record encoding: a JSON array whose first item is the format version, made cookie-friendly,
// and the shape check a decoded record must pass before anything uses it.
import { stringify } from '../json';
import { safe } from '../guard';

// A const enum: esbuild writes each value where it is used instead of carrying the constants (bytes).
export const enum Rec {
  VERSION = 1,
  /** Every record stays under this many bytes once cookie-encoded. */
  MAX_BYTES = 4000,
  /**
   * Under MAX_BYTES, what the two records that grow with use may take when written. With the
   * session record's cuts (visits.ts) the seven records stay under 5,000 bytes of Cookie header
   * together, which leaves the site's own cookies room under the 8 KB per header that nginx and
   * Apache accept by default: a larger header would make the site refuse the visitor's every
   * request. Records an older version wrote bigger are still read, up to MAX_BYTES.
   */
  STATE_BYTES = 2000,
  PROPS_BYTES = 1200,
}

// Cookies must percent-encode `"` and `,` (3 bytes each) and JSON is full of them, so they are
// swapped with `'` and `~`, which cookies carry as is: pairs in SWAP, so index ^ 1 is the partner.
const SWAP = `"'~,`;
export const swap = (s: string) => s.replace(/["'~,]/g, (c) => SWAP[SWAP.indexOf(c) ^ 1]);

export const encode = (payload: unknown[]): string => swap(stringify([Rec.VERSION, ...payload]));

/** The cookie-encoded size of a record (an upper bound for Web Storage too). */
export const bytes = (raw: string): number => encodeURIComponent(raw).length;

/** Whether the record's size is under `max`. */
export const fits = (raw: string, max: number = Rec.MAX_BYTES): boolean => bytes(raw) < max;

/**
 * The payload, or undefined for anything corrupt, truncated, oversized or of another format (not
 * JSON, or not an array: safe() gives undefined).
 */
export const decode = (raw: string): unknown[] | undefined =>
  safe(() => {
    const a = JSON.parse(swap(raw));
    if (fits(raw) && a[0] === Rec.VERSION) return a.slice(1);
  });

export const isObject = (x: unknown): x is Record<string, unknown> => ({}).toString.call(x) == '[object Object]';

/**
 * Whether `x` has the shape of the sample `t`: a number ≥ 0, a string, a plain object, or an
 * array matching `t` item by item, where a sample of one item stands for a list of any length.
 */
export const like = (x: unknown, t: unknown): boolean =>
  Array.isArray(t)
    ? Array.isArray(x) && (t.length < 2 ? x.every((e) => like(e, t[0])) : t.every((s, i) => like(x[i], s)))
    : typeof t == 'object'
      ? isObject(x)
      : typeof x == typeof t && !((x as number) < 0);
