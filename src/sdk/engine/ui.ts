// Loads the UI chunk (dist/poplet.ui.js) with a <script> next to the core, once. Called early,
// as soon as a campaign is eligible, so the chunk is parsed before its trigger fires.
import { UI_GLOBAL, type PopletUi } from '../render/contract';

// Captured while the core itself runs: the chunk goes next to it (same origin, same nonce).
const core = typeof document == 'object' ? document.currentScript : null;

export type LoadUi = () => Promise<PopletUi>;

export function uiLoader(url: string, nonce?: string): LoadUi {
  let loading: Promise<PopletUi> | undefined;
  const ui = () => (window as unknown as Record<string, PopletUi | undefined>)[UI_GLOBAL];
  return () =>
    (loading ??= new Promise<PopletUi>((ok, fail) => {
      if (ui()) return ok(ui()!);
      const s = document.createElement('script');
      s.src = url;
      s.async = true;
      if (nonce) s.nonce = nonce;
      s.onload = () => (ui() ? ok(ui()!) : fail(Error('UI chunk did not register')));
      s.onerror = () => fail(Error('UI chunk failed to load: ' + url));
      core?.parentNode ? core.after(s) : document.head.append(s);
    }).catch((e) => {
      // Let a later display try again (a flaky network, a CDN hiccup).
      loading = undefined;
      throw e;
    }));
}
