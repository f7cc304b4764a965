// Token buckets keyed by string (IP + site, API key …): `perMinute` tokens a minute, bursts of
// up to `burst`. Own code rather than @fastify/rate-limit because the /collect key needs the
// site from the parsed body, and one Map lookup per request is all this costs.
export interface Limiter {
  /** Takes a token: 0 when allowed, else whole seconds until one is available (Retry-After). */
  take(key: string, now?: number): number;
  /** What `take` would answer, without taking a token. */
  peek(key: string, now?: number): number;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const SWEEP_MS = 60_000;

/** `perMinute` 0 disables the limit. */
export function createLimiter(perMinute: number, burst = perMinute): Limiter {
  const buckets = new Map<string, Bucket>();
  const rate = perMinute / 60_000; // tokens per ms
  let swept = 0;
  /** A bucket's tokens at `now`, refilled since it was last taken from. */
  const refilled = (b: Bucket, now: number) => Math.min(burst, b.tokens + (now - b.at) * rate);

  // Full buckets carry no information: dropping them bounds memory by the active keys.
  function sweep(now: number): void {
    swept = now;
    for (const [k, b] of buckets) if (refilled(b, now) >= burst) buckets.delete(k);
  }

  const waitFor = (tokens: number) => (tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate / 1000)));

  return {
    take(key, now = Date.now()) {
      if (perMinute <= 0) return 0;
      if (now - swept > SWEEP_MS) sweep(now);
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = { tokens: burst, at: now }));
      b.tokens = refilled(b, now);
      b.at = now;
      const wait = waitFor(b.tokens);
      if (!wait) b.tokens -= 1;
      return wait;
    },
    peek(key, now = Date.now()) {
      const b = buckets.get(key);
      return perMinute <= 0 || !b ? 0 : waitFor(refilled(b, now));
    },
    get size() {
      return buckets.size;
    },
  };
}
