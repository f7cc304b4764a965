// The install snippet as the unit tests play it in jsdom: the queueing stub it defines before
// poplet.js arrives, and the script tag the core reads its site and server from.

export type Wp = ((...a: unknown[]) => unknown) & { q?: unknown[]; poplet?: number };
/** The page's globals, where the stub and the installed command live. */
export const w = window as unknown as Record<string, Wp | undefined>;

/** The snippet's stub, as the real one builds it. */
export function stub(name = 'wisepops'): Wp {
  w[name] = function (...a: unknown[]) {
    (w[name]!.q = w[name]!.q || []).push(a);
  } as Wp;
  return w[name]!;
}

export function script(src = 'https://popups.example.com/js/poplet.js?site=abc', name?: string): HTMLScriptElement {
  const s = document.createElement('script');
  s.src = src;
  if (name) s.setAttribute('data-global', name);
  document.head.appendChild(s);
  return s;
}
