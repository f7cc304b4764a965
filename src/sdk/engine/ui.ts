// Loads the UI chunk (dist/poplet.ui.js) with a <script>, once. Called early, as soon as a
// campaign is eligible, so the chunk is parsed before its trigger fires.
import { UI_GLOBAL, type PopletUi } from '../render/contract';

export function uiLoader(url: string, nonce?: string): () => Promise<PopletUi> {
  let loading: Promise<PopletUi> | undefined;
  return () =>
    loading ||
    (loading = new Promise<PopletUi>((ok, fail) => {
      const w = window as unknown as Record<string, PopletUi | undefined>;
      // The chunk registers itself on the global as it runs (another core may have loaded it).
      const got = () => (w[UI_GLOBAL] ? ok(w[UI_GLOBAL]!) : fail(Error('UI chunk not loaded: ' + url)));
      if (w[UI_GLOBAL]) return got();
      const s = document.createElement('script');
      s.src = url;
      if (nonce) s.nonce = nonce;
      s.onload = s.onerror = got;
      document.head.append(s);
    }).catch((e) => {
      // Let a later display try again (a flaky network, a CDN hiccup).
      loading = undefined;
      throw e;
    }));
}
