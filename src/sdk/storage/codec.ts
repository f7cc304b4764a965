// Record encoding: a JSON array whose first item is the format version, made cookie-friendly.
// Cookies must percent-encode `"` and `,` (3 bytes each) and JSON is full of them, so they
// are swapped with `'` and `~`, which cookies carry as is. The swap is its own inverse.
export const VERSION = 1;
/** No record may grow past this many bytes once cookie-encoded. */
export const MAX_BYTES = 4000;

const SWAP: Record<string, string> = { '"': "'", "'": '"', ',': '~', '~': ',' };
const swap = (s: string) => s.replace(/["',~]/g, (c) => SWAP[c]);

export const encode = (payload: unknown[]): string => swap(JSON.stringify([VERSION, ...payload]));

/** Cookie-encoded size, an upper bound for Web Storage too. */
export const sizeOf = (raw: string): number => encodeURIComponent(raw).length;

/** The payload, or a throw for anything corrupt, truncated, oversized or of another format. */
export function decode(raw: string): unknown[] {
  if (sizeOf(raw) > MAX_BYTES) throw Error('oversized');
  const a: unknown = JSON.parse(swap(raw));
  if (!Array.isArray(a) || a[0] !== VERSION) throw Error('unknown format');
  return a.slice(1);
}
