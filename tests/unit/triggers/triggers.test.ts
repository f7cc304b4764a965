import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { armTriggers, type PageView, type TriggerEnv } from '../../../src/sdk/triggers';
import type { Trigger } from '../../../src/shared/campaign-targeting';

let record: string | undefined;
let added: Array<[string, unknown]>;
let removed: string[];
const spies: Array<{ mockRestore(): void }> = [];
// Every armed set, disposed after each test so no listener leaks into the next one.
const armed: Array<{ dispose(): void }> = [];

/** Start of the Poplet session the tests run in. */
const SESSION = 1_749_999_000_000;

function env(over: Partial<TriggerEnv> = {}): TriggerEnv {
  return {
    win: window,
    doc: document,
    now: () => Date.now(),
    isMobile: false,
    activity: { get: () => record, set: (v) => void (record = v) },
    session: SESSION,
    log: vi.fn(),
    // A page view of its own unless the test shares one between arms.
    page: { since: Date.now() },
    ...over,
  };
}
function arm(list: Array<[number, Trigger]>, over: Partial<TriggerEnv> = {}) {
  const fire = vi.fn();
  const a = armTriggers(list.map(([id, trigger]) => ({ id, trigger })), env(over), fire);
  armed.push(a);
  return { ...a, fire, fired: () => fire.mock.calls.map((c) => c[0]) };
}
/** Where the page is scrolled to, without a scroll event. */
const place = (y: number) => {
  Object.defineProperty(window, 'scrollY', { value: y, configurable: true });
  Object.defineProperty(document.documentElement, 'scrollTop', { value: y, configurable: true });
};
const scrollTo = (y: number) => {
  place(y);
  window.dispatchEvent(new Event('scroll'));
};
const leave = (clientY: number, relatedTarget: Element | null = null) => document.dispatchEvent(new MouseEvent('mouseout', { clientY, relatedTarget, bubbles: true }));
const setVisibility = (v: 'hidden' | 'visible') => {
  Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
};

beforeEach(() => {
  vi.useFakeTimers({ now: 1_750_000_000_000 });
  record = undefined;
  added = [];
  removed = [];
  for (const t of [window, document]) {
    const add = t.addEventListener.bind(t);
    const rem = t.removeEventListener.bind(t);
    spies.push(vi.spyOn(t, 'addEventListener').mockImplementation((type: string, f: EventListenerOrEventListenerObject, o?: boolean | AddEventListenerOptions) => (added.push([type, o]), add(type, f, o))));
    spies.push(vi.spyOn(t, 'removeEventListener').mockImplementation((type: string, f: EventListenerOrEventListenerObject, o?: boolean | EventListenerOptions) => (removed.push(type), rem(type, f, o))));
  }
  // The page as a browser has it (jsdom has no layout, nor a scrollingElement): 3000 px tall in a
  // 1000 px window, at its top.
  const root = document.documentElement;
  Object.defineProperty(document, 'scrollingElement', { value: root, configurable: true });
  Object.defineProperty(root, 'scrollHeight', { value: 3000, configurable: true });
  Object.defineProperty(root, 'clientHeight', { value: 1000, configurable: true });
  Object.defineProperty(window, 'innerHeight', { value: 1000, configurable: true });
  place(0);
  document.body.innerHTML = '';
});
afterEach(() => {
  armed.splice(0).forEach((a) => a.dispose());
  spies.splice(0).forEach((s) => s.mockRestore());
  vi.useRealTimers();
});

describe('landing', () => {
  it('fires after the delay, never twice; no listener at all', () => {
    const a = arm([[1, { type: 'landing' }], [2, { type: 'landing', delay: 5 }]]);
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(a.fired()).toEqual([1]);
    vi.advanceTimersByTime(4999);
    expect(a.fired()).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(a.fired()).toEqual([1, 2]);
    vi.advanceTimersByTime(60_000);
    expect(a.fire).toHaveBeenCalledTimes(2);
    expect(added).toEqual([]);
  });
  it('dispose cancels pending delays', () => {
    const a = arm([[1, { type: 'landing', delay: 2 }]]);
    a.dispose();
    vi.advanceTimersByTime(5000);
    expect(a.fire).not.toHaveBeenCalled();
  });
});

describe('landing delay', () => {
  it('counts from the start of the page view, so re-arming mid-page does not restart it', () => {
    vi.useFakeTimers();
    const page = { since: Date.now() - 1500 };
    const a = arm([[1, { type: 'landing', delay: 2 }]], { page });
    vi.advanceTimersByTime(400);
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(a.fired()).toEqual([1]);
    const late = arm([[2, { type: 'landing', delay: 1 }]], { page });
    vi.advanceTimersByTime(0);
    expect(late.fired()).toEqual([2]); // its moment has passed: at once
  });
});

describe('scroll percent', () => {
  it('fires each campaign at its depth, with one passive listener removed when all fired', () => {
    const a = arm([[1, { type: 'scroll', percent: 50 }], [2, { type: 'scroll', percent: 90 }]]);
    expect(added).toEqual([['scroll', { passive: true, capture: true }]]);
    scrollTo(900); // 45%
    expect(a.fired()).toEqual([]);
    scrollTo(1000); // 50%
    expect(a.fired()).toEqual([1]);
    scrollTo(1100);
    expect(a.fired()).toEqual([1]);
    expect(removed).toEqual([]);
    scrollTo(2000); // 100%
    expect(a.fired()).toEqual([1, 2]);
    expect(removed).toEqual(['scroll']);
  });

  it('ignores scrolling panels inside the page, and a page too short to scroll never fires', () => {
    const a = arm([[1, { type: 'scroll', percent: 10 }]]);
    const panel = document.body.appendChild(document.createElement('div'));
    place(2000);
    panel.dispatchEvent(new Event('scroll')); // page at 100 %, but the event is the panel's
    expect(a.fired()).toEqual([]);
    document.dispatchEvent(new Event('scroll')); // the page's own scroll event targets the document
    expect(a.fired()).toEqual([1]);

    const b = arm([[2, { type: 'scroll', percent: 10 }]]);
    Object.defineProperty(document.documentElement, 'scrollHeight', { value: 1000, configurable: true });
    scrollTo(0);
    expect(b.fired()).toEqual([]);
  });
});

describe('exit intent, desktop', () => {
  it('fires when the pointer leaves through the top, not the sides or inside the page', () => {
    const a = arm([[1, { type: 'exit' }]]);
    leave(300); // left through a side
    leave(2, document.body); // moved onto another element
    expect(a.fired()).toEqual([]);
    leave(-3);
    expect(a.fired()).toEqual([1]);
    expect(removed).toEqual(['mouseout']);
  });
  it('fires once per session by default, remembered in the activity record', () => {
    const a = arm([[1, { type: 'exit' }], [2, { type: 'exit', oncePerSession: false }]]);
    leave(0);
    expect(a.fired()).toEqual([1, 2]);
    expect(record).toBe('{"1749999000000":[1]}');
    a.dispose();
    // Next page of the same session.
    const b = arm([[1, { type: 'exit' }], [2, { type: 'exit', oncePerSession: false }]]);
    leave(0);
    expect(b.fired()).toEqual([2]);
    expect(record).toBe('{"1749999000000":[1]}');
    // It cannot fire again this session, and says so.
    expect(b.off).toEqual({ 1: 'exit intent: already fired this session' });
    expect(a.off).toEqual({});
  });
  it('once per Poplet session, not per browser session: a flag from an earlier session is ignored', () => {
    record = '{"1749990000000":[1]}';
    const a = arm([[1, { type: 'exit' }]]);
    expect(a.off).toEqual({});
    leave(0);
    expect(a.fired()).toEqual([1]);
    // Only this session's flags are kept.
    expect(record).toBe('{"1749999000000":[1]}');
    a.dispose();
    expect(arm([[1, { type: 'exit' }]]).off).toEqual({ 1: 'exit intent: already fired this session' });
    expect(arm([[1, { type: 'exit' }]], { session: SESSION + 1 }).off).toEqual({});
    // The old form, {"x":[ids]}, named no session.
    record = '{"x":[1]}';
    expect(arm([[1, { type: 'exit' }]]).off).toEqual({});
  });
  it('an unreadable activity record counts as empty', () => {
    record = 'garbage{';
    const a = arm([[1, { type: 'exit' }]]);
    leave(0);
    expect(a.fired()).toEqual([1]);
    expect(record).toBe('{"1749999000000":[1]}');
  });
  it('desktop exit listens to no scroll or visibility events', () => {
    arm([[1, { type: 'exit' }]]);
    expect(added.map((a) => a[0])).toEqual(['mouseout']);
  });
});

describe('exit intent, mobile', () => {
  it('fires on a fast upward scroll, not on a slow one or a downward one', () => {
    scrollTo(2000);
    const a = arm([[1, { type: 'exit' }]], { isMobile: true });
    // Slow: 60 px every 400 ms.
    for (let y = 1940; y >= 1700; y -= 60) {
      vi.advanceTimersByTime(400);
      scrollTo(y);
    }
    scrollTo(2500);
    expect(a.fired()).toEqual([]);
    // Fast: 120 px within 200 ms.
    vi.advanceTimersByTime(100);
    scrollTo(2440);
    vi.advanceTimersByTime(100);
    scrollTo(2380);
    expect(a.fired()).toEqual([1]);
  });
  it('the 300 ms start at the first upward step, not at the last downward one', () => {
    const a = arm([[1, { type: 'exit' }]], { isMobile: true });
    scrollTo(1000); // down
    // 220 ms later, 100 px up in 120 ms: fast, although 340 ms after the last downward step.
    for (const [dt, y] of [[220, 975], [40, 950], [40, 925], [40, 900]]) {
      vi.advanceTimersByTime(dt);
      scrollTo(y);
    }
    expect(a.fired()).toEqual([1]);
  });
  it('a downward step ends the run: what went up before it does not count', () => {
    const a = arm([[1, { type: 'exit' }]], { isMobile: true });
    scrollTo(1000);
    vi.advanceTimersByTime(20);
    scrollTo(940); // 60 up
    vi.advanceTimersByTime(20);
    scrollTo(950); // down
    vi.advanceTimersByTime(20);
    scrollTo(890); // 60 up from 950
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(20);
    scrollTo(850);
    expect(a.fired()).toEqual([1]);
  });
  it('counts the first upward step after a rest: a quick flick can be one or two scroll events', () => {
    scrollTo(2000);
    const one = arm([[1, { type: 'exit' }]], { isMobile: true });
    vi.advanceTimersByTime(5000);
    scrollTo(1700);
    expect(one.fired()).toEqual([1]);
    one.dispose();

    const two = arm([[2, { type: 'exit' }]], { isMobile: true });
    vi.advanceTimersByTime(5000);
    scrollTo(1640);
    vi.advanceTimersByTime(16);
    expect(two.fired()).toEqual([]);
    scrollTo(1580);
    expect(two.fired()).toEqual([2]);
  });
  it('a jump up by more than a screen is the page scrolled (an SPA router, a back-to-top link), not a flick; a flick after it counts', () => {
    scrollTo(3000);
    const a = arm([[1, { type: 'exit' }]], { isMobile: true });
    vi.advanceTimersByTime(16);
    scrollTo(3000 - innerHeight - 1);
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(16);
    scrollTo(3000 - innerHeight - 101);
    expect(a.fired()).toEqual([1]);
  });
  it('fires when the visitor comes back to the tab', () => {
    const a = arm([[1, { type: 'exit' }]], { isMobile: true });
    setVisibility('visible');
    expect(a.fired()).toEqual([]);
    setVisibility('hidden');
    expect(a.fired()).toEqual([]);
    setVisibility('visible');
    expect(a.fired()).toEqual([1]);
    expect(removed.sort()).toEqual(['scroll', 'visibilitychange']);
  });
  it('mobile: false keeps the campaign to desktops, and says so', () => {
    const a = arm([[1, { type: 'exit', mobile: false }], [2, { type: 'exit' }]], { isMobile: true });
    expect(a.off).toEqual({ 1: 'exit intent: desktop only' });
    setVisibility('hidden');
    setVisibility('visible');
    expect(a.fired()).toEqual([2]);
    expect(arm([[1, { type: 'exit', mobile: false }]]).off).toEqual({});
  });
});

describe('inactivity', () => {
  it('fires after N seconds without activity; activity restarts the count', () => {
    const a = arm([[1, { type: 'inactivity', seconds: 10 }]]);
    vi.advanceTimersByTime(8000);
    document.dispatchEvent(new MouseEvent('mousemove'));
    vi.advanceTimersByTime(8000);
    window.dispatchEvent(new Event('scroll'));
    vi.advanceTimersByTime(9999);
    document.dispatchEvent(new KeyboardEvent('keydown'));
    vi.advanceTimersByTime(9999);
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(a.fired()).toEqual([1]);
    expect(added.every(([, o]) => (o as AddEventListenerOptions).passive)).toBe(true);
    expect(removed.length).toBe(added.length);
  });

  it('focus inside a frame counts as activity: its events never reach the page', () => {
    const frame = document.body.appendChild(document.createElement('iframe'));
    const a = arm([[1, { type: 'inactivity', seconds: 30 }]]);
    const focus = vi.spyOn(document, 'activeElement', 'get').mockReturnValue(frame);
    vi.advanceTimersByTime(120_000); // typing a card number in a payment frame, unheard
    expect(a.fired()).toEqual([]);
    focus.mockReturnValue(document.body);
    vi.advanceTimersByTime(29_999);
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(a.fired()).toEqual([1]);
  });
});

describe('re-arming mid-page (the eligible set changed) keeps what a campaign that stays armed has seen', () => {
  /** One page view's arms in a row, as the engine makes them: each disposes the one before. */
  function pageView(over: Partial<TriggerEnv> = {}) {
    const page: PageView = { since: Date.now() };
    let current: ReturnType<typeof arm> | undefined;
    return (list: Array<[number, Trigger]>) => {
      if (current) current.dispose();
      return (current = arm(list, { page, ...over }));
    };
  }
  const idle = (seconds: number): Trigger => ({ type: 'inactivity', seconds });
  const other: [number, Trigger] = [9, { type: 'event', name: 'never' }];
  const move = () => document.dispatchEvent(new MouseEvent('mousemove'));

  it('inactivity: the idle clock goes on, and activity after the re-arm still restarts it', () => {
    const rearm = pageView();
    rearm([[1, idle(30)]]);
    vi.advanceTimersByTime(25_000);
    const a = rearm([[1, idle(30)], other]);
    vi.advanceTimersByTime(4999);
    expect(a.fired()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(a.fired()).toEqual([1]); // 30 s idle, not 30 s after the re-arm

    rearm([[2, idle(10)]]);
    vi.advanceTimersByTime(6000);
    move();
    vi.advanceTimersByTime(2000);
    const b = rearm([[2, idle(10)], other]);
    vi.advanceTimersByTime(7999);
    move();
    const c = rearm([[2, idle(10)]]);
    vi.advanceTimersByTime(9999);
    expect([b.fired(), c.fired()]).toEqual([[], []]);
    vi.advanceTimersByTime(1);
    expect(c.fired()).toEqual([2]);
  });

  it('inactivity: a campaign armed mid-page starts its own clock then; one past due fires at once', () => {
    const rearm = pageView();
    rearm([[1, idle(30)]]);
    vi.advanceTimersByTime(25_000);
    const a = rearm([[1, idle(30)], [2, idle(30)]]);
    vi.advanceTimersByTime(5000);
    expect(a.fired()).toEqual([1]);
    vi.advanceTimersByTime(25_000);
    expect(a.fired()).toEqual([1, 2]);

    // Its clock ran out as the re-arm came (the old timer cancelled before it ran).
    rearm([[3, idle(10)]]);
    vi.advanceTimersByTime(10_000 - 1);
    vi.setSystemTime(Date.now() + 5);
    const b = rearm([[3, idle(10)]]);
    vi.advanceTimersByTime(0);
    expect(b.fired()).toEqual([3]);
  });

  it('inactivity: left out of one arm, it starts afresh when it comes back (activity went unheard)', () => {
    const rearm = pageView();
    rearm([[1, idle(30)]]);
    vi.advanceTimersByTime(20_000);
    rearm([other]); // no longer eligible: nothing listens to activity
    vi.advanceTimersByTime(5000);
    move(); // the visitor is active, unheard
    vi.advanceTimersByTime(3000);
    const a = rearm([[1, idle(30)]]);
    vi.advanceTimersByTime(29_999);
    expect(a.fired()).toEqual([]); // a kept clock would have fired 2 s after coming back
    vi.advanceTimersByTime(1);
    expect(a.fired()).toEqual([1]);
  });

  it('inactivity: fired (then vetoed, so armed again), it starts afresh', () => {
    const rearm = pageView();
    const a = rearm([[1, idle(10)], [2, idle(60)]]);
    vi.advanceTimersByTime(10_000);
    expect(a.fired()).toEqual([1]);
    vi.advanceTimersByTime(5000);
    move(); // heard for campaign 2 only
    const b = rearm([[1, idle(10)], [2, idle(60)]]);
    vi.advanceTimersByTime(9999);
    expect(b.fired()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(b.fired()).toEqual([1]);
  });

  it('a new page view (a new page object) starts every clock again', () => {
    const first = arm([[1, idle(30)]], { page: { since: Date.now() } });
    vi.advanceTimersByTime(25_000);
    first.dispose();
    const next = arm([[1, idle(30)]], { page: { since: Date.now() } });
    vi.advanceTimersByTime(29_999);
    expect(next.fired()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(next.fired()).toEqual([1]);
  });

  it('mobile exit intent: an upward run goes on across a re-arm', () => {
    scrollTo(2000);
    const rearm = pageView({ isMobile: true });
    rearm([[1, { type: 'exit' }]]);
    vi.advanceTimersByTime(5000);
    scrollTo(1940);
    vi.advanceTimersByTime(100);
    const a = rearm([[1, { type: 'exit' }], other]);
    vi.advanceTimersByTime(100);
    scrollTo(1880); // 120 px up within 200 ms, half of it before the re-arm
    expect(a.fired()).toEqual([1]);
  });

  it('mobile exit intent: a tab left before the re-arm fires on coming back', () => {
    const rearm = pageView({ isMobile: true });
    rearm([[1, { type: 'exit' }]]);
    setVisibility('hidden');
    const a = rearm([[1, { type: 'exit' }], other]);
    expect(a.fired()).toEqual([]);
    setVisibility('visible');
    expect(a.fired()).toEqual([1]);
  });

  it('mobile exit intent: left out of one arm, it starts afresh (what happened meanwhile went unheard)', () => {
    scrollTo(2000);
    const rearm = pageView({ isMobile: true });
    rearm([[1, { type: 'exit' }]]);
    setVisibility('hidden');
    rearm([other]);
    setVisibility('visible'); // unheard: nothing for campaign 1
    place(1500); // read up, unheard
    const a = rearm([[1, { type: 'exit' }]]);
    vi.advanceTimersByTime(5000);
    scrollTo(1460); // 40 px from where it came back, not 540 px from where it left
    setVisibility('visible');
    expect(a.fired()).toEqual([]);
    setVisibility('hidden');
    setVisibility('visible');
    expect(a.fired()).toEqual([1]);
  });
});

describe('click on a CSS selector', () => {
  it('one delegated listener; works for elements added later and for clicks inside them', () => {
    const a = arm([[1, { type: 'click', selector: '.promo' }], [2, { type: 'click', selector: '#later' }]]);
    expect(added).toEqual([['click', { passive: true, capture: true }]]);
    document.body.innerHTML = '<a class="promo"><span id="in">x</span></a><p id="other">y</p>';
    document.getElementById('other')!.click();
    expect(a.fired()).toEqual([]);
    document.getElementById('in')!.click();
    expect(a.fired()).toEqual([1]);
    const later = document.createElement('button');
    later.id = 'later';
    document.body.append(later);
    later.click();
    expect(a.fired()).toEqual([1, 2]);
    // A click may come again (the first vetoed by a listener): listening goes on while armed.
    later.click();
    expect(a.fired()).toEqual([1, 2, 2]);
    expect(removed).toEqual([]);
    a.dispose();
    expect(removed).toEqual(['click']);
  });
  it('an invalid selector disables only that campaign, and says why', () => {
    const e = env();
    const fire = vi.fn();
    const a = armTriggers([{ id: 1, trigger: { type: 'click', selector: '##' } }, { id: 2, trigger: { type: 'click', selector: 'p' } }], e, fire);
    armed.push(a);
    document.body.innerHTML = '<p>x</p>';
    document.querySelector('p')!.click();
    expect(fire.mock.calls).toEqual([[2]]);
    expect(a.off).toEqual({ 1: expect.stringMatching(/^click: SyntaxError.*##/) });
  });
});

describe('custom events and pageviews', () => {
  it('fires on the named event only', () => {
    const a = arm([[1, { type: 'event', name: 'cart' }], [2, { type: 'event', name: 'buy' }]]);
    a.event('other');
    a.event('cart');
    expect(a.fired()).toEqual([1]);
    // Again on the next one: the first may have been vetoed by a before-popup-display listener
    // (a campaign shown is no longer armed: the engine re-arms without it).
    a.event('cart');
    expect(a.fired()).toEqual([1, 1]);
  });
  it('after N pageviews of the session or in total, SPA pageviews included', () => {
    const a = arm([[1, { type: 'pageviews', count: 3 }], [2, { type: 'pageviews', count: 10, scope: 'total' }]]);
    a.pageview(1, 8);
    expect(a.fired()).toEqual([]);
    a.pageview(2, 9);
    expect(a.fired()).toEqual([]);
    a.pageview(3, 10);
    expect(a.fired()).toEqual([1, 2]);
    a.pageview(4, 11);
    expect(a.fire).toHaveBeenCalledTimes(2);
  });
  it('nothing fires after dispose, and every listener is gone', () => {
    const a = arm([[1, { type: 'event', name: 'x' }], [2, { type: 'scroll', percent: 10 }], [3, { type: 'exit' }], [4, { type: 'click', selector: 'p' }], [5, { type: 'inactivity', seconds: 5 }]]);
    a.dispose();
    a.event('x');
    a.pageview(9, 9);
    scrollTo(2000);
    leave(0);
    vi.advanceTimersByTime(60_000);
    expect(a.fire).not.toHaveBeenCalled();
    expect(removed.sort()).toEqual(added.map((x) => x[0]).sort());
  });
});

describe('robustness', () => {
  it('an error in fire never reaches the page', () => {
    const e = env();
    const a = armTriggers([{ id: 1, trigger: { type: 'click', selector: 'p' } }], e, () => {
      throw new Error('boom');
    });
    document.body.innerHTML = '<p>x</p>';
    expect(() => document.querySelector('p')!.click()).not.toThrow();
    expect(e.log).toHaveBeenCalledWith('triggers: Error: boom');
    a.dispose();
  });
});
