// Finds the script's own <script> tag, derives site, endpoint and UI chunk URL from it, and
// replaces the snippet's stub with the real `wisepops()` before replaying the queue.
import type { Engine, EngineDeps } from '../engine/types';
import { createPoplet, type Command } from './create';

export function install(win: Window, createEngine: (deps: EngineDeps) => Engine): void {
  try {
    const doc = win.document;
    const script = (doc.currentScript || doc.querySelector('script[data-global],script[src*="poplet"]')) as HTMLScriptElement | null;
    const name = (script && script.getAttribute('data-global')) || 'wisepops';
    const globals = win as unknown as Record<string, (Command & { q?: unknown; poplet?: 1 }) | undefined>;
    const stub = globals[name] || { q: [], poplet: 0 };
    // A second copy of the script under the same name leaves the first in charge.
    if (stub.poplet) return;
    const src = new URL((script && script.src) || win.location.href, win.location.href);
    const { run, start } = createPoplet({
      win,
      site: src.searchParams.get('site') || '',
      endpoint: src.origin,
      uiUrl: new URL('poplet.ui.js', src).href,
      queue: stub.q,
      createEngine,
      debug: new URLSearchParams(win.location.search).get('poplet_debug') === '1',
    });
    globals[name] = Object.assign((...a: unknown[]) => run(...a), { poplet: 1 as const });
    start();
  } catch {
    // Nothing may reach the host page; without a working core there is simply no popup.
  }
}
