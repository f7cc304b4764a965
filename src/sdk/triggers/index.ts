// Triggers: when an eligible campaign actually shows. Listeners are passive, attached only for
// the triggers in use, shared per event type, and removed once every campaign they serve has
// fired (or on dispose).
import type { Trigger } from '../../shared/campaign-targeting';
import { stringify } from '../json';
import { safe } from '../guard';

export interface TriggerEnv {
  /** Takes the listeners (capturing, so they hear the document's events too) and the timers. */
  win: Window;
  doc: Document;
  now: () => number;
  isMobile: boolean;
  /**
   * The `wisepops_activity_session` record (raw string): {"<session>":[ids]}, the campaigns whose
   * exit intent fired in the Poplet session that started then.
   */
  activity: { get(): string | undefined; set(value: string): void };
  /** Start of Poplet's session (`wisepops_session`: 2 h at most), epoch ms. */
  session: number;
  log(line: string): void;
  /** The page view: one object per page view, handed to each of its arms. */
  page: PageView;
}

export interface PageView {
  /** When it started (epoch ms): a landing delay counts from it, so re-arming mid-page does not restart it. */
  since: number;
  /**
   * By campaign id, what its trigger saw in the latest arm (idle clock, exit-intent scroll run),
   * so that re-arming mid-page (another campaign became eligible) restarts nothing for a campaign
   * that stays armed.
   */
  kept?: Record<number, object>;
}

export interface Armed {
  /** By campaign id, why its trigger cannot fire here (exit intent on a phone, already fired this session, a bad click selector). */
  off: Record<number, string>;
  /** `wisepops('event', name)`. */
  event(name: string): void;
  /** Call after arming and on every SPA page view with the current counts. */
  pageview(sessionCount: number, totalCount: number): void;
  dispose(): void;
}

type Of<T> = Extract<Trigger, { type: T }>;
type Handler = (e: Event) => void;

/** Anything that shows the visitor is still there, for the inactivity trigger. */
const ACTIVITY = 'mousemove pointerdown keydown touchstart wheel scroll'.split(' ');

export function armTriggers(items: Array<{ id: number; trigger: Trigger }>, env: TriggerEnv, fire: (id: number) => void): Armed {
  const { win, doc, page, now, isMobile, activity, session } = env;
  const done = new Set<number>();
  /**
   * By event type, the campaigns listening to it. No prototype: the for…in loops below must not
   * meet a key the page put on Object.prototype (a legacy `Object.prototype.clone`, pollution).
   */
  const subs: Record<string, Array<[number, Handler]>> = Object.create(null);
  const timers: number[] = [];
  let gone: boolean | undefined;
  // Only the previous arm's state carries over: a campaign left out of an arm stopped listening,
  // so what it saw before is stale (an idle clock from then would fire early).
  const prev = page.kept || {};
  const kept: Record<number, object> = (page.kept = {});
  /** This campaign's state, carried over if the previous arm had it waiting too. */
  const keep = <T extends object>(id: number, fresh: T) => (kept[id] = prev[id] || fresh) as T;

  const guard =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      try {
        gone || f(...a);
      } catch (e) {
        env.log('triggers: ' + e);
      }
    };
  // One capturing listener on the window, added for each event type in use: it hears the
  // document's events too, and hands each to the campaigns listening to its type.
  const listener = guard((e: Event) => subs[e.type].forEach(([i, f]) => done.has(i) || f(e)));
  const unlisten = (type: string) => win.removeEventListener(type, listener, true);
  const hit = (id: number) => {
    if (done.has(id)) return;
    done.add(id);
    // Its listeners stop: armed again (vetoed by a listener), it starts afresh.
    delete kept[id];
    for (const t in subs) if (subs[t].every(([i]) => done.has(i))) unlisten(t), delete subs[t];
    fire(id);
  };
  const on = (id: number, type: string, f: Handler) =>
    (subs[type] ||= (win.addEventListener(type, listener, { passive: true, capture: true }), [])).push([id, f]);
  const timer = (f: () => void, ms: number) => timers.push(win.setTimeout(guard(f), ms));
  /** By campaign id, why its trigger cannot fire. */
  const off: Record<number, string> = {};
  // No record yet (undefined) throws as an unreadable one does: nothing fired. The record lives
  // as long as the browser session (days, or per tab in localStorage mode): only what fired in
  // this Poplet session counts.
  const fired = (): number[] => safe(() => [].concat(JSON.parse(activity.get() as string)[session] || [])) || [];

  // Read by key only: in the order that gzips smallest.
  const SETUP: { [T in Trigger['type']]?: (id: number, t: Of<T>) => unknown } = {
    // The capturing listener also hears scrolling panels inside the page: only the page itself
    // counts, and a page too short to scroll never reaches a percentage. Where the document
    // scrolls less than it (not at all, or by a body's default margin under a 100vh shell), the page
    // is an element as wide and tall as half the window at least (an app shell's
    // <main style="overflow:auto;height:100vh">, a body set to scroll), not a side menu.
    scroll: (id, t) =>
      on(id, 'scroll', (e) => {
        const r = doc.scrollingElement!;
        const el = e.target as Element;
        const s = el.nodeType != 1 ? r : r.scrollHeight - r.clientHeight >= el.scrollHeight - el.clientHeight || el.clientHeight * 2 < r.clientHeight || el.clientWidth * 2 < r.clientWidth ? 0 : el;
        const max = s && s.scrollHeight - s.clientHeight;
        // max > 0: s is an element.
        if (max > 0 && ((s as Element).scrollTop / max) * 100 >= t.percent) hit(id);
      }),
    landing: (id, t) => timer(() => hit(id), (t.delay || 0) * 1e3 + page.since - now()),
    inactivity: (id, t) => {
      const ms = t.seconds * 1e3;
      const k = keep(id, { last: now() });
      for (const type of ACTIVITY) on(id, type, () => (k.last = now()));
      const tick = () => {
        // Focus in a frame (a card form, a chat, a video): its events never reach this window,
        // and the visitor typing there is not idle.
        if ((doc.activeElement || doc).nodeName == 'IFRAME') k.last = now();
        const left = ms + k.last - now();
        left > 0 ? timer(tick, left) : hit(id);
      };
      // The clock may be carried over from the previous arm: the first tick works out what is left.
      timer(tick, 0);
    },
    exit: (id, t) => {
      const once = t.oncePerSession !== false;
      if (isMobile && t.mobile === false) return (off[id] = 'exit intent: desktop only');
      if (once && fired().includes(id)) return (off[id] = 'exit intent: already fired this session');
      const go = () => {
        if (once) activity.set(stringify({ [session]: fired().concat(id) }));
        hit(id);
      };
      // Desktop: the pointer leaves the window through its top edge.
      if (!isMobile) return on(id, 'mouseout', (e) => ((e as MouseEvent).relatedTarget || (e as MouseEvent).clientY >= 10 || go()));
      // Mobile: 100 px of upward scroll within 300 ms. A run starts at its first upward step, from
      // where the page was before it (that step counts, however long the page had rested: a quick
      // flick can be a single scroll event), and its 300 ms count from then, not from the last
      // downward step. Going down ends it; an upward step past the 300 ms starts a new one. So does
      // a step up by more than a screen, which no finger makes in one frame: the page was scrolled
      // (an SPA router back to the top after a page view, a "back to top" link), not the visitor.
      // `hidden`: the tab was left (absent until then).
      const k = keep<{ py: number; ay: number; at: number; hidden?: boolean }>(id, { py: win.scrollY, ay: 0, at: 0 });
      on(id, 'scroll', () => {
        const y = win.scrollY;
        const t = now();
        if (y >= k.py || k.py - y > win.innerHeight) (k.at = 0), (k.ay = y);
        else if (t - k.at > 300) (k.ay = k.py), (k.at = t);
        k.py = y;
        if (k.ay - y >= 100) go();
      });
      // Mobile: back to the tab after leaving it.
      on(id, 'visibilitychange', () => (doc.visibilityState == 'hidden' ? (k.hidden = true) : k.hidden && go()));
    },
    // One delegated listener, so elements added after arming count too.
    click: (id, { selector }) => {
      // Throws on a bad selector: the loop below says why.
      doc.querySelector(selector);
      on(id, 'click', (e) => {
        const el = e.target as Element;
        // fire, not hit: a click may come again (the first one vetoed by a before-popup-display
        // listener, or its slot taken), so it keeps listening while the campaign stays armed.
        if (el.closest && el.closest(selector)) fire(id);
      });
    },
  };
  for (const { id, trigger } of items) {
    try {
      const s = SETUP[trigger.type];
      if (s) s(id, trigger as never);
    } catch (e) {
      // A bad click selector: "click: SyntaxError: '!!' is not a valid selector".
      off[id] = trigger.type + ': ' + e;
    }
  }

  const each = (f: (t: Trigger) => unknown) => items.forEach(({ id, trigger }) => f(trigger) && hit(id));
  return {
    off,
    // Every time, as a click: an event may come again.
    event: guard((name: string) => items.forEach(({ id, trigger: t }) => t.type == 'event' && t.name == name && fire(id))),
    pageview: guard((s: number, n: number) => each((t) => t.type == 'pageviews' && (t.scope == 'total' ? n : s) >= t.count)),
    dispose() {
      gone = true;
      timers.forEach((t) => win.clearTimeout(t));
      for (const t in subs) unlisten(t);
    },
  };
}
