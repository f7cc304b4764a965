// The snippet's queue: `wisepops.q`, the `arguments` of every call made before the script ran.
/** Configuration calls run before anything is read or written, wherever they sit in the queue. */
const CONFIG = ['options', 'consent'];

/** The queued calls as arrays, split into [configuration, everything else], each in order. */
export function queued(q: unknown): [unknown[][], unknown[][]] {
  const calls = Array.isArray(q) ? q.map((a) => Array.from(a as ArrayLike<unknown>)) : [];
  return [calls.filter((c) => CONFIG.includes(c[0] as string)), calls.filter((c) => !CONFIG.includes(c[0] as string))];
}
