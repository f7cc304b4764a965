// Loads a lazily loaded chunk (poplet.ui.js, poplet.collect.js) with a <script>, once. Called
// early, as soon as a campaign is eligible, so the chunk is parsed before its trigger fires.
// The chunk registers its export on `global` as it runs (another core may have loaded it).
export function chunkLoader<T>(url: string, global: string, nonce?: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    loading ||
    (loading = new Promise<T>((ok, fail) => {
      const w = window as unknown as Record<string, T | undefined>;
      const got = () => (w[global] ? ok(w[global]!) : fail(Error('chunk not loaded: ' + url)));
      if (w[global]) return got();
      const s = document.createElement('script');
      s.src = url;
      if (nonce) s.nonce = nonce;
      s.onload = s.onerror = got;
      document.head.append(s);
    }).catch((e) => {
      // Let a later call try again (a flaky network, a CDN hiccup).
      loading = undefined;
      throw e;
    }));
}
