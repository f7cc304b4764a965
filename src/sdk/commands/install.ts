// Finds the script's own <script> tag (site, endpoint and UI chunk URL come from its src) and
// replaces the snippet's stub with the real `wisepops()` before replaying the queue.
import type { Engine, EngineDeps } from '../engine/types';
import { createPoplet, type Command } from './create';
import { safe } from '../guard';

type Global = Command & { q?: unknown; poplet?: 1 };
type Globals = Record<string, Global>;

// Nothing may reach the host page (safe() keeps it there); without a working core there is simply no popup.
export function install(win: Window, createEngine: (deps: EngineDeps) => Engine): void {
  safe(() => {
    const doc = win.document;
    // Markup a page lets its users post can answer for document.currentScript: the document
    // exposes <img name="currentScript"> (an <embed>, an <iframe>, a list of two) under that name
    // over its own property, and that src chose the server the sign-ups went to and the UI chunk
    // the page ran. Only a <script> is taken for the script's own tag.
    let script = doc.currentScript;
    if (!(script instanceof HTMLScriptElement)) script = doc.querySelector<HTMLScriptElement>('script[data-global],script[src*="poplet"]');
    const name = (script && script.dataset.global) || 'wisepops';
    const g = (win as unknown as Globals)[name];
    // The snippet's stub, or the copy of the script that came first. Not an element exposed under
    // that name (an id or a name), whose named children (<input name="q">) or cross-origin frame
    // must not be read.
    const stub: { q?: unknown; poplet?: 1 } = typeof g == 'function' ? g : {};
    // A second copy of the script under the same name leaves the first in charge.
    if (stub.poplet) return;
    const [run, start] = createPoplet(win, new URL(script ? script.src : '', doc.URL), stub.q, createEngine, name);
    ((win as unknown as Globals)[name] = run as Global).poplet = 1;
    start();
  });
}
