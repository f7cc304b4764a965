// Loads a lazily loaded chunk (poplet.ui.js, poplet.collect.js) with a <script>, once. Called
// early, as soon as a campaign is eligible, so the chunk is parsed before its trigger fires.
// The chunk registers its export on `global` as it runs (another core may have loaded it).
export function chunkLoader<T>(url: string, global: string, nonce?: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  const w = window as unknown as Record<string, T | undefined>;
  return () =>
    loading ||
    (loading = new Promise<T>((ok, fail) => {
      if (w[global]) return ok(w[global]!);
      const s = document.createElement('script');
      s.src = url;
      if (nonce) s.nonce = nonce;
      // A failed tag goes, so retries on a long-lived page do not pile them up, and a later call
      // tries again (a flaky network, a CDN hiccup).
      s.onload = s.onerror = () => (w[global] ? ok(w[global]!) : (s.remove(), (loading = undefined), fail(Error(url))));
      document.head.append(s);
    }));
}

/**
 * `file` in the folder of `url`, query (cache busting) and hash kept. Strings only: a relative
 * `url` stays relative, and the <script> resolves it against the page as it would the UI chunk's.
 */
export const beside = (url: string, file: string): string => url.replace(/[^/?#]*(?=[?#]|$)/, file);
