// show(): puts one campaign on the page inside a shadow root and owns everything it does
// to the page around it (push padding, scroll lock, focus, keys), undoing it all on close.
import { Component, render, type ComponentChildren } from 'preact';
import { checkContent, checkLayout } from '../../shared/campaign-content';
import type { ShowRequest, Shown } from './contract';
import { App } from './app';
import { adoptStyles } from './styles';

const FOCUSABLE = 'a[href],button,input:not([tabindex="-1"]),select,textarea,[tabindex="0"]';

/** Render errors after the first paint would reach the page; this ends the campaign instead. */
class Guard extends Component<{ fail(e: unknown): void; children: ComponentChildren }> {
  override componentDidCatch(e: unknown) {
    this.props.fail(e);
  }
  render() {
    return this.props.children;
  }
}

/** Sets an inline property with !important (stylesheets of the site cannot beat it) and returns its undo. */
function setImportant(el: HTMLElement, prop: string, value: string): () => void {
  const old = el.style.getPropertyValue(prop);
  const prio = el.style.getPropertyPriority(prop);
  el.style.setProperty(prop, value, 'important');
  return () => (old ? el.style.setProperty(prop, old, prio) : el.style.removeProperty(prop));
}

export function show(req: ShowRequest): Shown {
  const { campaign, content, host } = req;
  const log = (m: string, d?: unknown) => {
    try {
      host.log('poplet ui: ' + m, d);
    } catch {
      /* a broken debug log must not break the page either */
    }
  };
  const safe =
    <A extends unknown[]>(fn: (...a: A) => unknown) =>
    (...a: A) => {
      try {
        fn(...a);
      } catch (e) {
        log('error', e);
      }
    };
  let state: 'open' | 'closing' | 'gone' = 'open';
  let el: HTMLElement | undefined;
  let mount: HTMLElement | undefined;
  const undo: Array<() => void> = [];

  // Leaves the page as it was: listeners, padding, scroll, focus. The element may still fade out.
  const leave = () => {
    if (state != 'open') return;
    state = 'closing';
    const inside = el && document.activeElement == el;
    while (undo.length) safe(undo.pop()!)();
    if (inside || modal) safe(() => (prevFocus instanceof HTMLElement && prevFocus.isConnected ? prevFocus.focus({ preventScroll: true }) : (document.activeElement as HTMLElement | null)?.blur()))();
  };
  const drop = () => {
    if (state == 'gone') return;
    state = 'gone';
    safe(() => mount && render(null, mount))();
    el?.remove();
  };
  const destroy = () => {
    leave();
    drop();
  };
  const close = () => {
    if (state != 'open') return;
    leave();
    safe(host.closed)(campaign);
    mount?.classList.add('out');
    setTimeout(drop, matchMedia('(prefers-reduced-motion: reduce)').matches ? 0 : 180);
  };

  const layout = campaign.layout;
  const modal = layout?.type == 'popup' || layout?.type == 'fullscreen';
  const prevFocus = document.activeElement;
  try {
    const bad = checkLayout(layout) || checkContent(content, 'content');
    if (bad) {
      log(`campaign ${campaign.id} not shown: ${bad}`);
      return { destroy };
    }
    let parent: Element | null = document.documentElement;
    if (layout.type == 'embed') {
      try {
        parent = document.querySelector(layout.selector);
      } catch {
        parent = null;
      }
      if (!parent) {
        log(`campaign ${campaign.id} not shown: no element matches ${layout.selector}`);
        return { destroy };
      }
    }
    el = document.createElement('poplet-campaign');
    if (layout.type == 'embed') el.setAttribute('data-embed', '');
    const root = el.attachShadow({ mode: 'open' });
    adoptStyles(root, host.nonce);
    mount = document.createElement('div');
    root.appendChild(mount);
    parent.appendChild(el);

    const focusables = () => [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((f) => f.getClientRects().length);
    const focusStep = () => {
      const target =
        root.querySelector<HTMLElement>('[aria-invalid=true]') ??
        root.querySelector<HTMLElement>('.st .in,.st input:not([tabindex="-1"])') ??
        root.querySelector<HTMLElement>('.st');
      target?.focus({ preventScroll: true });
    };

    render(
      <Guard fail={(e) => (log('render failed', e), destroy())}>
        <App req={req} modal={modal} close={close} noshow={() => (safe(host.noshow)(), close())} safe={safe} focusStep={focusStep} />
      </Guard>,
      mount,
    );
    const box = root.querySelector<HTMLElement>('.bx')!;

    const onKey = safe((e: KeyboardEvent) => {
      const inside = document.activeElement == el;
      if (e.key == 'Escape' && (modal || inside)) {
        e.preventDefault();
        close();
      } else if (e.key == 'Tab' && modal) {
        const list = focusables();
        const at = inside ? list.indexOf(root.activeElement as HTMLElement) : -1;
        const next = e.shiftKey ? (at <= 0 ? list.length - 1 : -1) : at == list.length - 1 || at < 0 ? 0 : -1;
        if (next >= 0 && list.length) {
          e.preventDefault();
          list[next].focus();
        }
      }
    });
    document.addEventListener('keydown', onKey, true);
    undo.push(() => document.removeEventListener('keydown', onKey, true));

    if (modal) {
      // Focus that escapes a modal (a script, a click on the page through devtools…) comes back.
      const onFocus = safe((e: FocusEvent) => e.target != el && (focusables()[0] ?? box).focus());
      document.addEventListener('focusin', onFocus, true);
      undo.push(() => document.removeEventListener('focusin', onFocus, true), setImportant(document.documentElement, 'overflow', 'hidden'));
      (root.querySelector<HTMLElement>('.st .in,.st input:not([tabindex="-1"])') ?? box).focus({ preventScroll: true });
    }

    if (layout.type == 'bar' && layout.push && document.body) {
      // Pad the page by the bar's height, following it as it wraps on resize.
      const side = layout.position == 'top' ? 'padding-top' : 'padding-bottom';
      const body = document.body;
      const base = parseFloat(getComputedStyle(body).getPropertyValue(side)) || 0;
      let restore = setImportant(body, side, base + box.offsetHeight + 'px');
      const ro = new ResizeObserver(safe(() => (restore(), (restore = setImportant(body, side, base + box.offsetHeight + 'px')))));
      ro.observe(box);
      undo.push(() => (ro.disconnect(), restore()));
    }

    requestAnimationFrame(() => setTimeout(() => state == 'open' && safe(host.displayed)(campaign)));
  } catch (e) {
    log('show failed', e);
    destroy();
  }
  return { destroy };
}
