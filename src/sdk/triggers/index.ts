// Triggers: when an eligible campaign actually shows. Listeners are passive, attached only for
// the triggers in use, shared per event type, and removed once every campaign they serve has
// fired (or on dispose).
import type { Trigger } from '../../shared/campaign-targeting';

export interface TriggerEnv {
  win: Window;
  doc: Document;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  isMobile: boolean;
  /** The `wisepops_activity_session` record (raw string): {"x":[ids]} whose exit intent fired this session. */
  activity: { get(): string | undefined; set(value: string): void };
  log?(line: string): void;
  /** When this page view started (epoch ms): a landing delay counts from it, so re-arming mid-page does not restart it. */
  since?: number;
}

export interface Armed {
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
  const { win, doc } = env;
  const log = (m: string) => env.log && env.log('triggers: ' + m);
  const done = new Set<number>();
  /** One listener per event type: the campaigns it serves, and how to remove it. */
  const subs: Record<string, [Array<[number, Handler]>, () => void]> = {};
  const timers: unknown[] = [];
  let off = false;

  const guard =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      try {
        off || f(...a);
      } catch (e) {
        log(String(e));
      }
    };
  const hit = (id: number) => {
    if (done.has(id)) return;
    done.add(id);
    for (const t in subs) if (subs[t][0].every(([i]) => done.has(i))) subs[t][1](), delete subs[t];
    fire(id);
  };
  const on = (id: number, type: string, f: Handler) => {
    let s = subs[type];
    if (!s) {
      const t = type == 'scroll' ? win : doc;
      const h = guard((e: Event) => s[0].forEach(([i, g]) => done.has(i) || g(e)));
      t.addEventListener(type, h, { passive: true, capture: true });
      s = subs[type] = [[], () => t.removeEventListener(type, h, true)];
    }
    s[0].push([id, f]);
  };
  const timer = (f: () => void, ms: number) => timers.push(env.setTimeout(guard(f), ms));
  const fired = (): number[] => {
    try {
      return [].concat(JSON.parse(env.activity.get() || '0').x || []);
    } catch {
      return [];
    }
  };

  const SETUP: { [T in Trigger['type']]?: (id: number, t: Of<T>) => void } = {
    landing: (id, t) => timer(() => hit(id), (t.delay || 0) * 1e3 - (env.since ? env.now() - env.since : 0)),
    // The capturing listener also hears scrolling panels inside the page: only the page itself
    // counts, and a page too short to scroll never reaches a percentage.
    scroll: (id, t) =>
      on(id, 'scroll', (e) => {
        const max = doc.documentElement.scrollHeight - win.innerHeight;
        if ((e.target as Node).nodeType != 1 && max > 0 && (win.scrollY / max) * 100 >= t.percent) hit(id);
      }),
    inactivity: (id, t) => {
      const ms = t.seconds * 1e3;
      let last = env.now();
      for (const type of ACTIVITY) on(id, type, () => (last = env.now()));
      const tick = () => {
        const idle = env.now() - last;
        idle < ms ? timer(tick, ms - idle) : hit(id);
      };
      timer(tick, ms);
    },
    // One delegated listener, so elements added after arming count too. querySelector throws on a bad selector.
    click: (id, { selector }) => {
      doc.querySelector(selector);
      on(id, 'click', (e) => {
        const el = e.target as Element;
        if (el.closest && el.closest(selector)) hit(id);
      });
    },
    exit: (id, t) => {
      const once = t.oncePerSession !== false;
      if ((once && fired().includes(id)) || (env.isMobile && t.mobile === false)) return;
      const go = () => {
        if (once) env.activity.set(JSON.stringify({ x: fired().concat(id) }));
        hit(id);
      };
      // Desktop: the pointer leaves the window through its top edge.
      if (!env.isMobile) return on(id, 'mouseout', (e) => ((e as MouseEvent).relatedTarget || (e as MouseEvent).clientY >= 10 || go()));
      // Mobile: 100 px of upward scroll within 300 ms. A run starts from where the page was before
      // its first upward step (that step counts, however long the page had rested: a quick flick
      // can be a single scroll event) and restarts when it goes down or is too slow.
      let py = win.scrollY;
      let ay = py;
      let at = 0;
      let hidden = false;
      on(id, 'scroll', () => {
        const y = win.scrollY;
        const t = env.now();
        if (y >= py || t - at > 300) (ay = Math.max(y, py)), (at = t);
        py = y;
        if (ay - y >= 100) go();
      });
      // Mobile: back to the tab after leaving it.
      on(id, 'visibilitychange', () => (doc.visibilityState == 'hidden' ? (hidden = true) : hidden && go()));
    },
  };
  for (const { id, trigger } of items) {
    try {
      const s = SETUP[trigger.type];
      if (s) s(id, trigger as never);
    } catch (e) {
      log(`campaign ${id}: ${e}`);
    }
  }

  const each = (f: (t: Trigger) => unknown) => items.forEach(({ id, trigger }) => done.has(id) || !f(trigger) || hit(id));
  return {
    event: guard((name: string) => each((t) => t.type == 'event' && t.name == name)),
    pageview: guard((s: number, n: number) => each((t) => t.type == 'pageviews' && (t.scope == 'total' ? n : s) >= t.count)),
    dispose() {
      off = true;
      timers.forEach((t) => env.clearTimeout(t));
      for (const t in subs) subs[t][1]();
    },
  };
}
