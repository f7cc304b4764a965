// show(): puts one campaign on the page inside a shadow root and owns everything it does to the
// page around it (push padding, scroll lock, focus, keys), undoing it all when it goes.
// Content arrives validated (the server keeps only campaigns that pass validateCampaign, content
// included); checkContent is not repeated here because its 1.1 KB would break the chunk's 10 KB
// budget. Content that still fails to render is logged and removed, never thrown into the page.
/** @jsxRuntime classic */
/** @jsx h */
import { Component, h, render, type ComponentChildren } from 'preact';
import type { ShowRequest, Shown } from './contract';
import { App } from './app';
import { adoptStyles } from './styles';
import { guarded } from '../guard';

const FOCUSABLE = 'a[href],button,.fd [name]';
const FIRST_FIELD = '.fd [name]';

/**
 * Catches render errors of the campaign (Preact would otherwise rethrow them, after the first
 * paint from a microtask, into the page) and ends the campaign instead.
 */
class Guard extends Component<{ fail(e: unknown): void; children: ComponentChildren }, { failed?: boolean }> {
  override componentDidCatch(e: unknown) {
    // Setting state marks the error handled.
    this.setState({ failed: true });
    this.props.fail(e);
  }
  render() {
    return !this.state.failed && this.props.children;
  }
}

/** Sets an inline property with !important (stylesheets of the site cannot beat it) and returns its undo. */
function setImportant(el: HTMLElement, prop: string, value: string): () => void {
  const s = el.style;
  const old = s.getPropertyValue(prop);
  const prio = s.getPropertyPriority(prop);
  s.setProperty(prop, value, 'important');
  return () => s.setProperty(prop, old, prio);
}

/**
 * The boxes that pad each property of the page, and the undo of its value, for every campaign
 * the chunk shows: a bar and a slide-in (their own slots) may share an edge. They stack there,
 * bars first (at the edge, the slide-in beside the bar's inner edge): the page is padded by the
 * sum of their extents, and the site's own value comes back once both are gone, whichever goes
 * first.
 */
const pads: Record<string, HTMLElement[] & { u?: () => void }> = {};

/**
 * Stacks the boxes at an edge and pads the page by its own value plus their extents (again as
 * they wrap on resize, or a step changes their height, and as one goes).
 */
function repad(el: HTMLElement, prop: string) {
  const boxes = pads[prop];
  let o = 0;
  // Undone first, so that what is read is the site's own value (`auto`, scroll-padding's initial
  // value, is none).
  boxes.u && boxes.u();
  for (const b of boxes) {
    // How far from the edge the stylesheet puts the box: the extent of those before it.
    b.style.cssText = '--pl-o:' + o + 'px';
    // The extent: the height (not rounded, so that the next box neither overlaps it nor leaves a
    // gap) and the gap to what is below it (a desktop's card's 16 px).
    o += b.getBoundingClientRect().height + parseFloat(getComputedStyle(b).marginTop);
  }
  // With no extent (no box left), NaN, which the browser refuses, leaving the site's own.
  boxes.u = setImportant(el, prop, (parseFloat((getComputedStyle(el) as unknown as Record<string, string>)[prop]) || 0) + (o || NaN) + 'px');
}

export function show(req: ShowRequest): Shown {
  const { campaign, host } = req;
  // A broken debug log must not break the page either.
  const log: (m: string, d?: unknown) => void = guarded(() => {}, '')((m: string, d?: unknown) => host.log('poplet ui: ' + m, d));
  const safe = guarded(log, 'error');
  const doc = document;
  const layout = campaign.layout;
  // Popup or fullscreen, the layouts whose names start so (fewer bytes than naming both).
  const modal = /^[pf]/.test(layout.type);
  const prevFocus = doc.activeElement as HTMLElement | null;
  const el = doc.createElement('poplet-campaign');
  // A modal sits in a <dialog> opened with showModal(): the browser then makes the rest of the
  // page inert (no clicks, no focus, hidden from screen readers) without Poplet writing to any of
  // the page's own elements, and puts the campaign in the top layer above every z-index.
  const mount = doc.createElement(modal ? 'dialog' : 'div') as HTMLDialogElement;
  // In the top layer, the page around it inert. Browsers without showModal (Safari before 15.4)
  // get the focus trap and the dialog role alone.
  const topLayer = modal && mount.showModal;
  // Page changes to revert, last first; emptied once the campaign starts leaving.
  const undo: Array<() => void> = [];
  let open = true;

  const leave = () => {
    if (!open) return;
    open = false;
    const inside = doc.activeElement == el;
    while (undo[0]) safe(undo.pop()!)();
    if (inside || modal) safe(() => (prevFocus && prevFocus.isConnected && prevFocus != doc.body ? prevFocus.focus({ preventScroll: true }) : inside && (el.shadowRoot!.activeElement as HTMLElement).blur()))();
  };
  const drop = () => {
    safe(render)(null, mount);
    el.remove();
  };
  const destroy = () => {
    leave();
    drop();
  };
  // Never throws (the App hands it to Preact unwrapped): what it calls out to is guarded.
  const close = () => {
    if (!open) return;
    leave();
    safe(host.closed)(campaign);
    mount.className = 'out';
    // Removed once the fade-out has played; hidden at once where motion is reduced (styles).
    setTimeout(drop, 180);
  };

  try {
    // The root, but for an embed: the scroll lock and the padding below, never an embed's, take it
    // as the root.
    let parent: Element | null = doc.documentElement;
    if (layout.type == 'embed') {
      // An invalid selector throws: logged as not shown, with the browser's reason.
      parent = doc.querySelector(layout.selector);
      if (!parent) throw 'no element matches ' + layout.selector;
    }
    const root = el.attachShadow({ mode: 'open' });
    adoptStyles(root, host.nonce);
    root.append(mount);
    parent.append(el);

    const q = (sel: string) => root.querySelector<HTMLElement>(sel);
    render(
      <Guard fail={(e) => (log('render failed', e), leave(), setTimeout(drop))}>
        <App
          // Close first: noshow makes the engine destroy what is still shown, which would end
          // this campaign unrecorded (no close counted, no after-popup-close, no fade-out).
          optOut={() => (close(), safe(host.noshow)())}
          dismiss={close}
          safe={safe}
          modal={modal}
          req={req}
          // Not while the visitor is elsewhere on the page: a sign-up answered late (a slow
          // server: up to 8 s) would pull them out of what they went on to do. A step drawn anew
          // has lost the control they pressed: focus is then nowhere (on the body).
          focusStep={() => (doc.activeElement == el || doc.activeElement == doc.body) && (q('[aria-invalid]') || q(FIRST_FIELD) || q('.st'))!.focus()}
        />
      </Guard>,
      mount,
    );
    // The guard already logged and removed a campaign that failed its first render.
    if (!open) return { destroy };
    const box = q('.bx')!;
    const focusables = () => [...root.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const on = (type: string, fn: (e: Event) => void) => {
      doc.addEventListener(type, fn, true);
      undo.push(() => doc.removeEventListener(type, fn, true));
    };

    on('keydown', safe((e: KeyboardEvent) => {
      const inside = doc.activeElement == el;
      // Focus outside a top-layer modal: the page opened a modal of its own over it, whose keys they are.
      if (topLayer && !inside && doc.activeElement != doc.body) return;
      // An embed is part of the page: Esc there is the visitor's, not a close.
      if (e.key == 'Escape' && (modal || (inside && layout.type != 'embed'))) {
        e.preventDefault();
        close();
      } else if (e.key == 'Tab' && modal) {
        // The trap: every Tab moves by hand, from the last control to the first and back; from
        // outside to the edge. Backward (Shift+Tab) is forward through the list reversed.
        const list = focusables();
        if (e.shiftKey) list.reverse();
        e.preventDefault();
        // Focus outside: the root's activeElement is null, at no index (-1), before the first.
        (list[list.indexOf(root.activeElement as HTMLElement) + 1] || list[0]).focus();
      }
    }) as (e: Event) => void);

    if (modal) {
      mount.setAttribute('aria-label', req.content.label);
      // Closing in undo ends the inertness at once, while the fade-out still plays.
      if (topLayer) mount.showModal(), undo.push(() => mount.close());
      else {
        mount.setAttribute('role', 'dialog');
        mount.setAttribute('aria-modal', 'true');
        // Nothing is inert: focus that escapes (a script, a click through devtools…) comes back.
        on('focusin', safe((e: Event) => e.target != el && (focusables()[0] || box).focus()));
      }
      // Esc, or Android's back button, asks the dialog to close: close the campaign our way.
      mount.oncancel = safe((e: Event) => (e.preventDefault(), close()));
      // The lock: the root's overflow hidden. While the root's is visible, the body's is the
      // viewport's: locked, a body with overflow of its own (html,body{height:100%}
      // body{overflow-x:hidden}) would become a scroller of its own, at its top, the page jumping
      // there. So the body is visible while locked, unless it is a scroller already, scrolled
      // (a body that scrolls the page, under a root that is not visible), which must stay one.
      if (!doc.body.scrollTop) undo.push(setImportant(doc.body, 'overflow', 'visible'));
      undo.push(setImportant(parent as HTMLElement, 'overflow', 'hidden'));
      (q(FIRST_FIELD) || box).focus({ preventScroll: true });
    }

    if ('position' in layout) {
      // What the visitor tabs to (or a #link jumps to) is scrolled out from under a bar or a
      // slide-in, which would hide it whole (WCAG 2.4.11): the root's scroll padding on its edge
      // keeps it out of the browser's view of the page. A desktop's corner card pads the whole
      // edge too: what sits beside it then scrolls further than it needs to, but what sits under
      // it (a right-hand column, a Next link) would be hidden; a phone's spans the width anyway.
      const pad = (el: HTMLElement, prop: string) => {
        (pads[prop] = pads[prop] || [])[layout.type == 'bar' ? 'unshift' : 'push'](box);
        const re = safe(() => repad(el, prop));
        // Without ResizeObserver (Safari 12 to 13.0): placed and padded once, as drawn first.
        const ro = self.ResizeObserver && new ResizeObserver(re);
        undo.push(() => (pads[prop].splice(pads[prop].indexOf(box), 1), repad(el, prop)));
        ro ? (ro.observe(box), undo.push(() => ro.disconnect())) : re();
      };
      const edge = layout.position.split('-')[0];
      pad(parent as HTMLElement, 'scroll-padding-' + edge);
      // A push bar pads the page by its height too, so that nothing is under it at either end.
      if ((layout as { push?: boolean }).push) pad(doc.body, 'padding-' + edge);
    }

    // A campaign with no box (an embed in a display:none slot, a closed tab panel…) is not seen:
    // it counts as displayed, and uses up its frequency, once it gets one, which a ResizeObserver
    // reports. A rendered one counts at once, on its first painted frame, and so does any one
    // where ResizeObserver is missing (Safari 12 to 13.0), which cannot tell when it shows.
    // Guarded: a timer's callback would throw into the page.
    requestAnimationFrame(() =>
      setTimeout(
        safe(() => {
          const seen = () => open && (!ro || box.getClientRects()[0]) && (ro && ro.disconnect(), safe(host.displayed)(campaign), 1);
          const ro = self.ResizeObserver && new ResizeObserver(seen);
          if (open && !seen()) ro.observe(box), undo.push(() => ro.disconnect()), log(`campaign ${campaign.id} not shown yet: hidden`);
        }),
      ),
    );
  } catch (e) {
    log(`campaign ${campaign.id} not shown: ${e}`);
    destroy();
  }
  return { destroy };
}
