// Triggers: when an eligible campaign actually shows. Listeners are passive, attached only for
// the triggers in use, and removed once every campaign needing them has fired (or on dispose).
import type { Trigger } from '../../shared/campaign-targeting';
import { exitFired, markExitFired } from './activity';

export interface TriggerEnv {
  win: Window;
  doc: Document;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  isMobile: boolean;
  /** The `wisepops_activity_session` record (raw string). */
  activity: { get(): string | undefined; set(value: string): void };
  log?(line: string): void;
}

export interface Armed {
  /** `wisepops('event', name)`. */
  event(name: string): void;
  /** Call after arming and on every SPA page view with the current counts. */
  pageview(sessionCount: number, totalCount: number): void;
  dispose(): void;
}

type Item = { id: number; trigger: Trigger };
type Group = { ids: number[]; offs: Array<() => void> };

/** Mobile exit intent: this much upward scroll within FAST_MS. */
const FAST_PX = 100;
const FAST_MS = 300;
/** Desktop exit intent: the pointer leaves the window within this many px of the top. */
const TOP_PX = 10;
const ACTIVITY = ['mousemove', 'pointerdown', 'keydown', 'touchstart', 'wheel'];

export function armTriggers(items: Item[], env: TriggerEnv, fire: (id: number) => void): Armed {
  const { win, doc } = env;
  const log = (m: string) => env.log?.('triggers: ' + m);
  const done = new Set<number>();
  const groups: Group[] = [];
  let off = false;

  const guard =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      try {
        if (!off) f(...a);
      } catch (e) {
        log(String(e));
      }
    };
  const close = (g: Group) => g.offs.splice(0).forEach((f) => f());
  const hit = (id: number) => {
    if (done.has(id) || off) return;
    done.add(id);
    for (const g of groups) if (g.ids.every((i) => done.has(i))) close(g);
    fire(id);
  };
  const group = (list: Item[]): Group => {
    const g: Group = { ids: list.map((i) => i.id), offs: [] };
    groups.push(g);
    return g;
  };
  const on = (g: Group, t: EventTarget, type: string, f: (e: Event) => void) => {
    const h = guard(f);
    t.addEventListener(type, h, { passive: true, capture: true });
    g.offs.push(() => t.removeEventListener(type, h, { capture: true }));
  };
  const timer = (g: Group, ms: number, f: () => void) => {
    let id = env.setTimeout(
      guard(function tick() {
        // f returns the ms still to wait, if any.
        const more = (f as () => number | void)();
        if (more) id = env.setTimeout(guard(tick), more);
      }),
      ms,
    );
    g.offs.push(() => env.clearTimeout(id));
  };
  const of = <T extends Trigger['type']>(t: T) => items.filter((i): i is { id: number; trigger: Extract<Trigger, { type: T }> } => i.trigger.type == t);
  const pending = <T extends Item>(l: T[]) => l.filter((i) => !done.has(i.id));

  for (const i of of('landing')) timer(group([i]), (i.trigger.delay ?? 0) * 1000, () => hit(i.id));

  const scroll = of('scroll');
  if (scroll.length) {
    on(group(scroll), win, 'scroll', () => {
      const max = doc.documentElement.scrollHeight - win.innerHeight;
      const pct = max > 0 ? (win.scrollY / max) * 100 : 100;
      for (const i of pending(scroll)) if (pct >= i.trigger.percent) hit(i.id);
    });
  }

  const inactive = of('inactivity');
  if (inactive.length) {
    const g = group(inactive);
    let last = env.now();
    const seen = () => (last = env.now());
    for (const t of ACTIVITY) on(g, doc, t, seen);
    on(g, win, 'scroll', seen);
    for (const i of inactive) {
      const ms = i.trigger.seconds * 1000;
      timer(g, ms, () => {
        const idle = env.now() - last;
        return idle >= ms ? hit(i.id) : ms - idle;
      });
    }
  }

  const clicks = of('click').filter((i) => {
    try {
      doc.querySelector(i.trigger.selector);
      return true;
    } catch {
      log(`campaign ${i.id}: invalid click selector '${i.trigger.selector}'`);
    }
  });
  if (clicks.length) {
    // One delegated listener: works for elements added after arming.
    on(group(clicks), doc, 'click', (e) => {
      const t = e.target as Element | null;
      for (const i of pending(clicks)) if (t?.closest?.(i.trigger.selector)) hit(i.id);
    });
  }

  const fired = exitFired(env.activity);
  const exits = of('exit').filter((i) => (i.trigger.oncePerSession === false || !fired.includes(i.id)) && (!env.isMobile || i.trigger.mobile !== false));
  if (exits.length) {
    const g = group(exits);
    const exit = () => {
      const now = pending(exits);
      markExitFired(env.activity, now.filter((i) => i.trigger.oncePerSession !== false).map((i) => i.id));
      now.forEach((i) => hit(i.id));
    };
    if (!env.isMobile) {
      on(g, doc, 'mouseout', (e) => {
        const m = e as MouseEvent;
        if (!m.relatedTarget && m.clientY < TOP_PX) exit();
      });
    } else {
      let py = win.scrollY;
      let pt = env.now();
      let ay = py;
      let at = pt;
      on(g, win, 'scroll', () => {
        const y = win.scrollY;
        const t = env.now();
        // The anchor is where the current upward run started; a run too slow restarts it.
        if (y >= py) (ay = y), (at = t);
        else if (t - at > FAST_MS) (ay = py), (at = pt);
        (py = y), (pt = t);
        if (ay - y >= FAST_PX) exit();
      });
      let hidden = false;
      on(g, doc, 'visibilitychange', () => {
        if (doc.visibilityState == 'hidden') hidden = true;
        else if (hidden) exit();
      });
    }
  }

  const pvs = of('pageviews');
  const events = of('event');
  return {
    event: guard((name: string) => pending(events).forEach((i) => i.trigger.name == name && hit(i.id))),
    pageview: guard((s: number, t: number) => pending(pvs).forEach((i) => (i.trigger.scope == 'total' ? t : s) >= i.trigger.count && hit(i.id))),
    dispose() {
      groups.forEach(close);
      off = true;
    },
  };
}
