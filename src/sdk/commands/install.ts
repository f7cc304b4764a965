// Finds the script's own <script> tag (site, endpoint and UI chunk URL come from its src) and
// replaces the snippet's stub with the real `wisepops()` before replaying the queue.
import type { Engine, EngineDeps } from '../engine/types';
import { createPoplet, type Command } from './create';
import { safe } from '../guard';

// Nothing may reach the host page (safe() keeps it there); without a working core there is simply no popup.
export function install(win: Window, createEngine: (deps: EngineDeps) => Engine): void {
  safe(() => {
    const doc = win.document;
    const script = (doc.currentScript || doc.querySelector('script[data-global],script[src*="poplet"]')) as HTMLScriptElement | null;
    const name = (script && script.getAttribute('data-global')) || 'wisepops';
    const globals = win as unknown as Record<string, Command & { q?: unknown; poplet?: 1 }>;
    const g = globals[name];
    // The snippet's stub, or the copy of the script that came first. Not an element exposed under
    // that name (an id or a name), whose named children (<input name="q">) or cross-origin frame
    // must not be read.
    const stub: { q?: unknown; poplet?: 1 } = typeof g == 'function' ? g : {};
    // A second copy of the script under the same name leaves the first in charge.
    if (stub.poplet) return;
    const [run, start] = createPoplet(win, new URL((script && script.src) || doc.URL, doc.URL), stub.q, createEngine, name);
    globals[name] = Object.assign(run, { poplet: 1 as const });
    start();
  });
}
