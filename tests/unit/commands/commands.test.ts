// The command layer with a recording fake engine: queue replay, every command, bad input,
// listen isolation and vetoes, consent, options, iframes, and the EngineDeps it hands out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Cookies from 'js-cookie';
import { install } from '../../../src/sdk/commands/install';
import { createPoplet } from '../../../src/sdk/commands/create';
import { encode, Rec } from '../../../src/sdk/storage/codec';
import type { Engine, EngineDeps } from '../../../src/sdk/engine/types';
import { script, stub, w, type Wp } from '../../helpers/snippet-stub';


let calls: string[];
let deps: EngineDeps;
let lines: string[];
function fakeEngine(d: EngineDeps): Engine {
  deps = d;
  return {
    // As the engine does once the campaign set is evaluated (at once here: there is none).
    pageview: () => void (calls.push('pageview:' + JSON.stringify(d.context().props)), d.emit('ready', {})),
    event: (n) => void calls.push('event:' + n),
    refresh: () => void calls.push('refresh'),
    debug: () => [{ id: 1, name: 'Welcome', status: 'skipped', reason: 'not a new visitor' }],
    goal: (n, r) => void calls.push(`goal:${n}:${r}`),
  };
}

const boot = () => install(window, fakeEngine);
/** An SPA route change: the URL first, then the router's page view. */
const route = (path: string) => history.pushState(null, '', path);

beforeEach(() => {
  for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' });
  localStorage.clear();
  sessionStorage.clear();
  document.head.innerHTML = '';
  delete w.wisepops;
  delete w.myPops;
  delete w.poplet2;
  calls = [];
  lines = [];
  vi.spyOn(console, 'log').mockImplementation((m: unknown) => void lines.push(String(m)));
  history.replaceState(null, '', '/shop?utm_source=news');
});
afterEach(() => vi.restoreAllMocks());

describe('install and queue replay', () => {
  it('derives site, endpoint and uiUrl from its own script, replays in order, then records the page view', () => {
    script();
    const wp = stub();
    wp('listen', 'ready', () => calls.push('ready-cb'));
    wp('properties', { plan: 'gold' });
    wp('event', 'cart');
    wp('properties', { plan: 'silver', n: 1 });
    boot();
    expect(deps.site).toBe('abc');
    expect(deps.endpoint).toBe('https://popups.example.com');
    expect(deps.uiUrl).toBe('https://popups.example.com/js/chunks/dev/poplet.ui.js');
    expect(calls).toEqual(['event:cart', 'pageview:{"plan":"silver","n":1}', 'ready-cb']);
    expect(w.wisepops).not.toBe(wp);
    expect(w.wisepops!.poplet).toBe(1);
  });

  it('a wisepops record an older version wrote over 2,000 bytes is cut on the first page, consent or not', () => {
    const entries: unknown[][] = [];
    const rec = () => encode([0, entries]);
    while (encodeURIComponent(rec()).length < 3900) entries.push([entries.length + 1, 1, 1, 0, 0, 1700000000 + entries.length, 3]);
    Cookies.set('wisepops', rec());
    script();
    stub();
    boot();
    expect(encodeURIComponent(Cookies.get('wisepops')!).length).toBeLessThan(Rec.STATE_BYTES);
    const kept = Object.keys(deps.context().history).map(Number);
    expect(Math.max(...kept)).toBe(entries.length);
    expect(kept.length).toBeGreaterThan(40);
  });

  it('calls after load behave like queued ones', () => {
    script();
    stub();
    boot();
    calls = [];
    w.wisepops!('event', 'cart');
    route('/shop/tea');
    w.wisepops!('pageview');
    expect(calls).toEqual(['event:cart', 'pageview:{}']);
  });

  it("the router's first report, after load, of the page the script counted is that page view; a later one on the same URL is not", () => {
    script();
    stub();
    boot();
    w.wisepops!('properties', { cart: 5 }, { temporary: true });
    calls = [];
    const total = () => (w.wisepops!('debug') as { context: { totalPageviews: number } }).context.totalPageviews;
    w.wisepops!('pageview');
    // The same page view: no new one, and its temporary properties stay.
    expect([calls, total(), deps.context().props]).toEqual([[], 1, { cart: 5 }]);
    w.wisepops!('pageview');
    expect([calls, total()]).toEqual([['pageview:{}'], 2]);
  });

  it("the router's first report made by a ready listener, during the script's own page view, is that page view too", () => {
    script();
    const wp = stub();
    // A router started once Poplet is ready, which reports its first route at once.
    wp('listen', 'ready', () => w.wisepops!('pageview'));
    boot();
    const total = () => (w.wisepops!('debug') as { context: { totalPageviews: number } }).context.totalPageviews;
    expect([calls, total()]).toEqual([['pageview:{}'], 1]);
    // The claim is used up: a later call on the same URL counts.
    w.wisepops!('pageview');
    expect(total()).toBe(2);
  });

  it("the router's first report is a page view of its own when the URL changed since the script counted one", () => {
    script();
    stub();
    boot();
    calls = [];
    route('/shop/tea');
    w.wisepops!('pageview');
    expect(calls).toEqual(['pageview:{}']);
  });

  it("a page view queued before load (an SPA router's first route) is the page's: no second, automatic one", () => {
    script();
    const wp = stub();
    wp('properties', { cart: 5 }, { temporary: true });
    wp('pageview');
    boot();
    // One page view, which keeps its temporary properties (a second would have cleared them).
    expect(calls).toEqual(['pageview:{"cart":5}']);
    expect((w.wisepops!('debug') as { context: { totalPageviews: number } }).context.totalPageviews).toBe(1);
  });

  it('endpoint and uiUrl options queued before load override the script-derived ones', () => {
    script();
    const wp = stub();
    wp('options', { endpoint: 'https://collect.example.org/', uiUrl: 'https://cdn.example.org/ui.js', nonce: 'n0nce' });
    boot();
    expect(deps.endpoint).toBe('https://collect.example.org');
    expect(deps.uiUrl).toBe('https://cdn.example.org/ui.js');
    expect(deps.nonce).toBe('n0nce');
  });

  it('installs over an element exposed under its name, whose named children are no queue and no running copy', () => {
    script();
    // <form name="wisepops"><input name="poplet"><input name="q"></form> before the script: a
    // browser gives the form as window.wisepops, and its controls as form.poplet and form.q
    // (which jsdom does not, so they are set here).
    const form = document.createElement('form');
    w.wisepops = Object.assign(form, { poplet: document.createElement('input'), q: document.createElement('input') }) as unknown as Wp;
    boot();
    expect(w.wisepops!.poplet).toBe(1);
    expect(calls).toEqual(['pageview:{}']);
  });

  it('uses the global named by data-global, leaving others alone', () => {
    script(undefined, 'myPops');
    const mine = stub('myPops');
    mine('event', 'x');
    const other = stub('wisepops');
    boot();
    expect(w.myPops!.poplet).toBe(1);
    expect(w.wisepops).toBe(other);
    expect(calls[0]).toBe('event:x');
  });

  it('installs under other globals keep their own records: one page view each, no one counts twice', () => {
    script();
    stub()('properties', { a: 1 });
    boot();
    // jsdom has no currentScript: the next install finds its own tag only if it is the first.
    document.head.innerHTML = '';
    script(undefined, 'poplet2');
    stub('poplet2')('properties', { b: 2 });
    boot();
    expect(deps.context().totalPageviews).toBe(1);
    expect(deps.context().props).toEqual({ b: 2 });
    expect(Cookies.get('wisepops_visits')).toMatch(/^\[1~\d+~1~/);
    expect(Cookies.get('poplet2_visits')).toMatch(/^\[1~\d+~1~/);
    expect(Cookies.get('wisepops_props')).toBe("[1~{'a':1}]");
    expect(Cookies.get('poplet2_props')).toBe("[1~{'b':2}]");
    delete w.poplet2;
  });

  it("under another global, it leaves the real Wisepops script's cookies alone", () => {
    document.cookie = 'wisepops_visits=' + encodeURIComponent('[{"d":"2025-01-01"}]') + '; path=/';
    document.cookie = 'wisepops_noshow=1; path=/';
    script(undefined, 'poplet2');
    stub('poplet2');
    boot();
    expect(Cookies.get('wisepops_visits')).toBe('[{"d":"2025-01-01"}]');
    expect(Cookies.get('wisepops_noshow')).toBe('1');
    expect(deps.context().noshow).toBe(false);
    delete w.poplet2;
  });

  it("takes over a Wisepops visitor's \"don't show again\" whatever its value, in its own format", () => {
    document.cookie = 'wisepops_noshow=1; path=/';
    script();
    stub();
    boot();
    expect(deps.context().noshow).toBe(true);
    expect(Cookies.get('wisepops_noshow')).toBe('[1]');
  });

  it('a queued call that cannot be converted to a string is skipped; the script still starts', () => {
    script();
    const wp = stub();
    wp(Symbol('x'));
    wp(Object.create(null));
    wp({ toString: () => { throw Error('x'); } });
    wp('properties', { a: 1 });
    expect(() => boot()).not.toThrow();
    expect(w.wisepops!.poplet).toBe(1);
    expect(Cookies.get('wisepops_props')).toBe("[1~{'a':1}]");
  });

  it('a second copy of the script does nothing', () => {
    script();
    stub();
    boot();
    const first = w.wisepops;
    calls = [];
    boot();
    expect(w.wisepops).toBe(first);
    expect(calls).toEqual([]);
  });

  it('autoPageview false: no page view until the site records one', () => {
    script();
    const wp = stub();
    wp('options', { autoPageview: false });
    boot();
    expect(calls).toEqual([]);
    expect(Cookies.get('wisepops_visits')).toBeUndefined();
    w.wisepops!('pageview');
    expect(calls).toEqual(['pageview:{}']);
    expect(Cookies.get('wisepops_visits')).toBeDefined();
  });

  it('inside an iframe it does nothing unless iframes: true', () => {
    const top = vi.spyOn(window, 'top', 'get').mockReturnValue({} as Window);
    script();
    stub()('properties', { a: 1 });
    boot();
    expect(calls).toEqual([]);
    expect(document.cookie).toBe('');
    expect(w.wisepops!('debug')).toBeUndefined();
    delete w.wisepops;
    const wp = stub();
    wp('options', { iframes: true });
    boot();
    expect(calls).toEqual(['pageview:{}']);
    top.mockRestore();
  });

  it('the engine failing to start never reaches the page', () => {
    script();
    stub();
    expect(() =>
      install(window, () => {
        throw Error('boom');
      }),
    ).not.toThrow();
    expect(() => w.wisepops!('event', 'x')).not.toThrow();
  });
});

describe('commands', () => {
  beforeEach(() => {
    script();
    stub()('options', { debug: true });
    boot();
    calls = [];
    lines = [];
  });
  const wp = (...a: unknown[]) => w.wisepops!(...a);

  it.each([
    [['nope'], 'unknown command: nope'],
    // Not a string: named by its type, never converted (that can throw).
    [[42], 'unknown command: number'],
    [['__proto__'], 'unknown command: __proto__'],
    [[Symbol('x')], 'unknown command: symbol'],
    [[Object.create(null)], 'unknown command: object'],
    [[{ toString: () => { throw Error('x'); } }], 'unknown command: object'],
    [[new String('event'), 'x'], 'unknown command: object'],
    [['properties', 'x'], 'properties ignored'],
    [['properties', {}, 'temp'], 'properties ignored'],
    [['properties', { a: 1 }, { temporary: 1 }], 'properties ignored'],
    [['properties', { a: 1 }, { temporary: 'yes' }], 'properties ignored'],
    [['event'], 'event ignored'],
    [['event', 3], 'event ignored'],
    [['event', ''], 'event ignored'],
    [['goal', 'x', { revenue: '12' }], 'goal ignored'],
    [['goal', 'x', '12'], 'goal ignored'],
    [['goal', 'x', { revenue: 2e9 }], 'goal ignored'],
    [['goal', '', { revenue: 1 }], 'goal ignored'],
    [['listen', 'popup-shown', () => {}], 'listen ignored'],
    [['listen', 'ready'], 'listen ignored'],
    [['listen', 'ready', '7x', () => {}], 'listen ignored'],
    [['listen', 'ready', 0, () => {}], 'listen ignored'],
    [['listen', 'ready', '0', () => {}], 'listen ignored'],
    [['listen', 'ready', 1.5, () => {}], 'listen ignored'],
    [['listen', 'ready', true, () => {}], 'listen ignored'],
    [['properties', { a: 1 }, 0], 'properties ignored'],
    [['consent', 'yes'], 'consent ignored'],
    [['noshow', 'please'], 'noshow ignored'],
    [['options', 'x'], 'options ignored'],
    [['options', { storage: 'indexedDB' }], 'option ignored: storage'],
    [['options', { cookieExpiryDays: -1 }], 'option ignored: cookieExpiryDays'],
    [['options', { debug: 'yes' }], 'option ignored: debug'],
    [['options', { colour: 'red' }], 'option ignored: colour'],
  ])('%j logs one debug line, is ignored and throws nothing', (args, message) => {
    expect(() => wp(...args)).not.toThrow();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('[poplet] ' + message);
    expect(calls).toEqual([]);
  });

  it('properties persist nested, with dates, null deletes, long values cut with a debug line', () => {
    wp('properties', { user: { plan: 'gold', since: new Date(Date.UTC(2024, 0, 2)) }, bio: 'x'.repeat(300), keep: true });
    wp('properties', { user: { plan: null, age: 30 }, ['k'.repeat(51)]: 1, f: () => 1 });
    const props = (wp('debug') as { context: { props: Record<string, unknown> } }).context.props;
    expect(props).toEqual({ user: { since: '2024-01-02T00:00:00.000Z', age: 30 }, bio: 'x'.repeat(255), keep: true });
    expect(lines.filter((l) => l.includes('cut to 255 chars: bio'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('ignored'))).toHaveLength(2);
    expect(Cookies.get('wisepops_props')).toContain("'age':30");
    expect(calls).toEqual(['refresh', 'refresh']);
  });

  it('temporary properties are never stored and last one page view', () => {
    wp('properties', { cart: 3 }, { temporary: true });
    expect(deps.context().props).toEqual({ cart: 3 });
    expect(Cookies.get('wisepops_props')).toBeUndefined();
    route('/next');
    wp('pageview');
    expect(deps.context().props).toEqual({});
  });

  it("true as options replaces every stored property (the older Wisepops script's reset)", () => {
    wp('properties', { plan: 'gold', user: { id: 7 } });
    wp('properties', { plan: 'silver' }, true);
    expect(deps.context().props).toEqual({ plan: 'silver' });
    expect(Cookies.get('wisepops_props')).toBe("[1~{'plan':'silver'}]");
  });

  it("false as options merges, as the older Wisepops script's reset flag left unset does", () => {
    wp('properties', { plan: 'gold', user: { id: 7 } });
    wp('properties', { plan: 'silver' }, false);
    expect(lines.filter((l) => l.includes('ignored'))).toEqual([]);
    expect(deps.context().props).toEqual({ plan: 'silver', user: { id: 7 } });
    expect(Cookies.get('wisepops_props')).toBe("[1~{'plan':'silver'~'user':{'id':7}}]");
  });

  it('temporary must be a boolean: a truthy other value never stores the properties for good', () => {
    wp('properties', { secret: 'x' }, { temporary: 1 });
    expect(Cookies.get('wisepops_props')).toBeUndefined();
    expect(deps.context().props).toEqual({});
    wp('properties', { kept: 1 }, { temporary: false });
    expect(Cookies.get('wisepops_props')).toBe("[1~{'kept':1}]");
  });

  it('a properties update that would take the record over 1,200 bytes is refused and the old ones kept', () => {
    wp('properties', { a: 'kept' });
    // Four values of 250 characters fit (about 1,080 bytes stored), a fifth does not.
    const many: Record<string, string> = {};
    for (let i = 0; i < 4; i++) many['k' + i] = 'v'.repeat(250);
    wp('properties', many);
    expect(Object.keys(deps.context().props)).toEqual(['a', 'k0', 'k1', 'k2', 'k3']);
    wp('properties', { k4: 'v'.repeat(250) });
    expect(Object.keys(deps.context().props)).toEqual(['a', 'k0', 'k1', 'k2', 'k3']);
    expect(lines.filter((l) => l.includes('wisepops_props: over 1200 bytes, not saved'))).toHaveLength(1);
  });

  it('properties an older version stored over 1,200 bytes still take changes that do not grow them: a new value, deletions', () => {
    // Up to 4,000 bytes were allowed before: 11 values of 250 characters, about 2,900 bytes.
    const old: Record<string, string> = { plan: 'free' };
    for (let i = 0; i < 11; i++) old['k' + i] = 'v'.repeat(250);
    Cookies.set('wisepops_props', encode([old]));
    const size = () => encodeURIComponent(Cookies.get('wisepops_props')!).length;
    const before = size();
    expect(before).toBeGreaterThan(2800);
    // A change that does not make the record bigger is saved.
    wp('properties', { plan: 'pro' });
    expect(deps.context().props.plan).toBe('pro');
    wp('properties', { k0: null, k1: null });
    expect(deps.context().props).not.toHaveProperty('k0');
    expect(size()).toBeLessThan(before);
    // Growing past the size it has now is still refused.
    wp('properties', { k0: 'v'.repeat(250), k1: 'v'.repeat(250), k11: 'v'.repeat(250) });
    expect(deps.context().props).not.toHaveProperty('k11');
    expect(Cookies.get('wisepops_props')).toContain("'plan':'pro'");
  });

  it('event, pageview and goal reach the engine', () => {
    wp('event', 'signup-started');
    route('/next');
    wp('pageview');
    wp('goal', 'purchase', { revenue: 49.9 });
    wp('goal', 'newsletter');
    expect(calls).toEqual(['event:signup-started', 'pageview:{}', 'goal:purchase:49.9', 'goal:newsletter:undefined']);
  });

  it('noshow sets the opt-out record and the context; noshow false clears both', () => {
    wp('noshow');
    expect(Cookies.get('wisepops_noshow')).toBe('[1]');
    expect(deps.context().noshow).toBe(true);
    wp('noshow', false);
    expect(Cookies.get('wisepops_noshow')).toBeUndefined();
    expect(deps.context().noshow).toBe(false);
  });

  it('debug returns the engine lines and the context', () => {
    const d = wp('debug') as { campaigns: unknown[]; context: { path: string; session: { utm: unknown } } };
    expect(d.campaigns).toEqual([{ id: 1, name: 'Welcome', status: 'skipped', reason: 'not a new visitor' }]);
    expect(d.context.path).toBe('/shop');
    expect(d.context.session.utm).toEqual({ utm_source: 'news' });
  });

  it("'' is accepted for the string options: each one's default (cookieDomain '': host-only)", () => {
    wp('options', { cookieDomain: 'example.com' });
    wp('options', { cookieDomain: '', endpoint: '', uiUrl: '', nonce: '' });
    // Nothing ignored. (This page is on localhost: example.com is refused there, and said so.)
    expect(lines).toEqual(['[poplet] cookieDomain refused, records host-only: example.com']);
  });

  it('options switch the storage at run time, moving the records', () => {
    wp('properties', { a: 1 });
    wp('options', { storage: 'localStorage' });
    expect(Cookies.get('wisepops_props')).toBeUndefined();
    expect(localStorage.getItem('wisepops_props')).toContain("{'a':1}");
    expect(sessionStorage.getItem('wisepops_session')).toBeTruthy();
  });
});

describe('listen', () => {
  beforeEach(() => {
    script();
    stub();
    boot();
  });
  const wp = (...a: unknown[]) => w.wisepops!(...a);

  it("form events carry the form as target: Wisepops integrations read event.target.elements", () => {
    const form = document.createElement('form');
    form.innerHTML = '<input name="email" value="ada@example.com"><input name="first_name" value="Ada">';
    const read: string[] = [];
    wp('listen', 'after-form-submit', (e: { target: HTMLFormElement }) => void read.push((e.target.elements.namedItem('email') as HTMLInputElement).value));
    deps.emit('after-form-submit', { popup: { id: 1 }, ok: true }, form);
    expect(read).toEqual(['ada@example.com']);
  });

  it("before-tab-display is accepted and never fires (Poplet has no tabs), so Wisepops code runs without a debug line", () => {
    lines = [];
    wp('listen', 'before-tab-display', () => {
      throw Error('never called');
    });
    expect(lines).toEqual([]);
  });

  it('callbacks get {type, detail}; a throwing one is isolated; before-* false vetoes', () => {
    const seen: unknown[] = [];
    wp('listen', 'before-popup-display', () => {
      throw Error('bad listener');
    });
    wp('listen', 'before-popup-display', (e: unknown) => void seen.push(e));
    expect(deps.emit('before-popup-display', { popup: { id: 4 } })).toBe(true);
    expect(seen).toEqual([{ type: 'before-popup-display', detail: { popup: { id: 4 } }, target: undefined }]);
    wp('listen', 'before-popup-display', () => false);
    expect(deps.emit('before-popup-display', { popup: { id: 4 } })).toBe(false);
    expect(seen).toHaveLength(2);
    wp('listen', 'after-popup-display', () => false);
    expect(deps.emit('after-popup-display', { popup: { id: 4 } })).toBe(true);
  });

  it('before-form-submit false vetoes the submit', () => {
    wp('listen', 'before-form-submit', (e: { detail: { fields: { email: string } } }) => !e.detail.fields.email.endsWith('@test.invalid'));
    expect(deps.emit('before-form-submit', { popup: { id: 1 }, fields: { email: 'a@test.invalid' } })).toBe(false);
    expect(deps.emit('before-form-submit', { popup: { id: 1 }, fields: { email: 'a@b.co' } })).toBe(true);
  });

  it('an optional campaign id limits a listener to that campaign', () => {
    const ids: unknown[] = [];
    wp('listen', 'after-popup-close', 7, (e: { detail: { popup: { id: number } } }) => void ids.push(e.detail.popup.id));
    // The id as digits too (read from a data attribute): the same campaign.
    wp('listen', 'after-popup-close', '7', (e: { detail: { popup: { id: number } } }) => void ids.push(-e.detail.popup.id));
    deps.emit('after-popup-close', { popup: { id: 6 } });
    deps.emit('after-popup-close', { popup: { id: 7 } });
    expect(ids).toEqual([7, -7]);
  });

  it('ready fired once; a listener added later is called at once', () => {
    let n = 0;
    wp('listen', 'ready', () => n++);
    expect(n).toBe(1);
    deps.emit('ready', {});
    expect(n).toBe(1);
  });
});

describe('consent and the analytics id', () => {
  it('denied by default: no visitor id, session-only records; granted: a nanoid; denied again: dropped', () => {
    script();
    stub()('options', { defaultConsent: 'denied' });
    boot();
    expect(deps.visitorId()).toBeUndefined();
    expect(Cookies.get('wisepops_visitor')).toBeUndefined();
    expect(Cookies.get('wisepops_visits')).toBeDefined();
    w.wisepops!('consent', 'granted');
    const id = deps.visitorId()!;
    expect(id).toMatch(/^[\w-]{21}$/);
    expect(Cookies.get('wisepops_visitor')).toBe(`[1~'${id}']`);
    expect(calls.at(-1)).toBe('refresh');
    w.wisepops!('consent', 'denied');
    expect(deps.visitorId()).toBeUndefined();
    expect(Cookies.get('wisepops_visitor')).toBeUndefined();
  });

  it('a grant is remembered in the state record until denied: later pages with defaultConsent denied keep it', () => {
    const page = (...queue: unknown[][]) => {
      delete w.wisepops;
      script();
      const wp = stub();
      wp('options', { defaultConsent: 'denied' });
      for (const c of queue) wp(...c);
      boot();
    };
    page();
    expect(deps.visitorId()).toBeUndefined();
    page(['consent', 'granted']);
    expect(deps.visitorId()).toBeTruthy();
    // flags 2: granted, not signed up
    expect(Cookies.get('wisepops')).toBe('[1~2~[]]');
    deps.history.markSignedUp();
    expect(Cookies.get('wisepops')).toBe('[1~3~[]]');
    page();
    expect(deps.visitorId()).toBeTruthy();
    expect(deps.context().signedUp).toBe(true);
    w.wisepops!('consent', 'denied');
    expect(Cookies.get('wisepops')).toBe('[1~5~[]]');
    page();
    expect(deps.visitorId()).toBeUndefined();
    expect(deps.context().signedUp).toBe(true);
  });

  it('a denial is remembered too (for the browser session, all a denied record lives): defaultConsent granted does not undo it', () => {
    const page = (...queue: unknown[][]) => {
      delete w.wisepops;
      script();
      const wp = stub();
      for (const c of queue) wp(...c);
      boot();
    };
    page();
    expect(deps.visitorId()).toBeTruthy();
    w.wisepops!('consent', 'denied');
    expect(Cookies.get('wisepops')).toBe('[1~4~[]]');
    page();
    expect(deps.visitorId()).toBeUndefined();
    expect(Cookies.get('wisepops_visitor')).toBeUndefined();
    page(['consent', 'granted']);
    expect(deps.visitorId()).toBeTruthy();
    expect(Cookies.get('wisepops')).toBe('[1~2~[]]');
  });

  it('granted by default: the id lives for the session and stays the same across page loads', () => {
    script();
    stub();
    boot();
    const id = deps.visitorId();
    expect(id).toBeTruthy();
    delete w.wisepops;
    stub();
    boot();
    expect(deps.visitorId()).toBe(id);
  });

  it('a stored id the server would refuse (hand-edited) is replaced by a fresh one', () => {
    for (const bad of [`[1~'short']`, `[1~'has space in it ok']`, `[1~'${'x'.repeat(65)}']`, `[1~5]`]) {
      Cookies.set('wisepops_visitor', bad);
      script();
      stub();
      boot();
      expect(deps.visitorId()).toMatch(/^[\w-]{21}$/);
      expect(Cookies.get('wisepops_visitor')).toBe(`[1~'${deps.visitorId()}']`);
      delete w.wisepops;
    }
  });
});

describe('debug output', () => {
  type Logged = { totalPageviews: number; visits: number[]; history: Record<number, unknown> };
  /** The data of the debug log's `context` lines. */
  const contexts = () => vi.mocked(console.log).mock.calls.filter((c) => c[0] == '[poplet] context').map((c) => c[1] as Logged);

  it('the context is logged once per page load, after the page view is recorded, and again on later changes', () => {
    script();
    const wp = stub();
    wp('options', { debug: true });
    wp('properties', { plan: 'gold' });
    boot();
    // Not the context from before the page view too (no visit, no page view): one line, with both.
    expect(contexts()).toEqual([expect.objectContaining({ totalPageviews: 1, session: expect.objectContaining({ pageviews: 1 }), props: { plan: 'gold' } })]);
    expect(contexts()[0].visits).toHaveLength(1);
    w.wisepops!('properties', { plan: 'silver' });
    expect(contexts()).toHaveLength(2);
    route('/next');
    w.wisepops!('pageview');
    expect(contexts()).toHaveLength(3);
    expect(contexts()[2]).toMatchObject({ totalPageviews: 2 });
  });

  it("shows the context itself: each campaign's history under the record's keys d c v k l p g (README, Debug mode)", () => {
    script();
    stub()('options', { debug: true });
    boot();
    deps.history.update(12, (h) => Object.assign(h, { d: 2, c: 1, k: 3, l: 1_700_000_000, p: 4, g: 'b' }));
    deps.history.update(13, (h) => void h.d++);
    const history = {
      12: { d: 2, c: 1, v: 0, k: 3, l: 1_700_000_000, p: 4, g: 'b' },
      13: { d: 1, c: 0, v: 0, k: 0, l: 0, p: 0 },
    };
    const shown = (w.wisepops!('debug') as { context: Logged }).context;
    // The live context targeting reads, not a renamed copy.
    expect(shown).toBe(deps.context());
    expect(shown.history).toEqual(history);
    w.wisepops!('properties', { a: 1 });
    expect(contexts().at(-1)!.history).toEqual(history);
    expect(Cookies.get('wisepops')).toBe("[1~0~[[12~2~1~0~3~1700000000~4~'b']~[13~1~0~0~0~0~0]]]");
  });
});

describe('debug mode: ?poplet_debug=1 and the debug option', () => {
  const said = () => lines.filter((l) => l.startsWith('[poplet] unknown command'));
  it('the URL parameter wins over debug: false, queued or later (README, Debug mode)', () => {
    history.replaceState(null, '', '/shop?poplet_debug=1');
    script();
    stub()('options', { debug: false });
    boot();
    w.wisepops!('options', { debug: false });
    w.wisepops!('nosuch');
    expect(said()).toEqual(['[poplet] unknown command: nosuch']);
  });

  it('without it, debug: false turns the log off again', () => {
    script();
    stub()('options', { debug: true });
    boot();
    w.wisepops!('options', { debug: false });
    w.wisepops!('nosuch');
    expect(said()).toEqual([]);
  });
});

describe('EngineDeps', () => {
  it('history.update and markSignedUp write the wisepops record, visible in the context', () => {
    script();
    stub();
    boot();
    deps.history.update(12, (h) => {
      h.d++;
      h.l = 1_700_000_000;
      h.g = 'b';
    });
    deps.history.markSignedUp();
    expect(deps.context().history[12]).toEqual({ d: 1, c: 0, v: 0, k: 0, l: 1_700_000_000, p: 0, g: 'b' });
    expect(deps.context().signedUp).toBe(true);
    expect(Cookies.get('wisepops')).toBe("[1~1~[[12~1~0~0~0~1700000000~0~'b']]]");
  });

  it('reload() takes the history and the opt-out another tab wrote, and keeps this page\'s counts', () => {
    script();
    stub();
    boot();
    const before = deps.context();
    expect([before.history, before.noshow, before.totalPageviews]).toEqual([{}, false, 1]);
    // Another tab: a display of campaign 12 in group b, a page view, "don't show again".
    Cookies.set('wisepops', "[1~0~[[12~1~0~0~0~1700000000~2~'b']]]", { path: '/' });
    Cookies.set('wisepops_visits', '[1~1700000000~2~[1700000000]]', { path: '/' });
    Cookies.set('wisepops_noshow', '[1]', { path: '/' });
    deps.reload();
    const x = deps.context();
    expect(x.history[12]).toMatchObject({ d: 1, p: 2, g: 'b' });
    expect(x.noshow).toBe(true);
    expect(x.totalPageviews).toBe(1);
  });

  it('reload() keeps what this page recorded where storage keeps nothing (cookies off, blocked storage)', () => {
    script();
    stub();
    boot();
    deps.history.update(12, (h) => void (h.d = 1));
    deps.history.markSignedUp();
    deps.noshow();
    // The records did not stick.
    for (const name of ['wisepops', 'wisepops_noshow']) Cookies.remove(name, { path: '/' });
    deps.reload();
    const x = deps.context();
    expect([x.history[12]?.d, x.signedUp, x.noshow]).toEqual([1, true, true]);
  });

  it('history.update keeps every campaign this page recorded where storage keeps nothing', () => {
    // Cookies off: writes are dropped, reads are empty (an own property shadows Document's).
    Object.defineProperty(document, 'cookie', { get: () => '', set: () => {}, configurable: true });
    try {
      script();
      stub();
      boot();
      deps.history.update(1, (h) => void ((h.d = 1), (h.l = 100)));
      deps.history.update(2, (h) => void ((h.d = 1), (h.l = 101)));
      deps.history.update(2, (h) => void h.c++);
      deps.history.markSignedUp();
    } finally {
      delete (document as { cookie?: string }).cookie;
    }
    const x = deps.context();
    expect([x.history[1]?.d, x.history[2]?.d, x.history[2]?.c, x.signedUp]).toEqual([1, 1, 1, true]);
  });

  it('an SPA page view or a properties call keeps what this page learnt where storage keeps nothing', () => {
    Object.defineProperty(document, 'cookie', { get: () => '', set: () => {}, configurable: true });
    try {
      script();
      stub();
      boot();
      deps.history.update(1, (h) => void ((h.d = 1), (h.c = 1)));
      deps.history.markSignedUp();
      deps.noshow();
      route('/next');
      w.wisepops!('pageview');
      w.wisepops!('properties', { plan: 'pro' });
    } finally {
      delete (document as { cookie?: string }).cookie;
    }
    const x = deps.context();
    expect([x.history[1]?.d, x.history[1]?.c, x.signedUp, x.noshow, x.props.plan]).toEqual([1, 1, true, true, 'pro']);
  });

  it("where storage keeps nothing, the page's own page views are the total: each SPA page view counts, a properties call does not", () => {
    Object.defineProperty(document, 'cookie', { get: () => '', set: () => {}, configurable: true });
    const totals: number[] = [];
    try {
      script();
      stub();
      boot();
      totals.push(deps.context().totalPageviews);
      route('/a');
      w.wisepops!('pageview');
      totals.push(deps.context().totalPageviews);
      w.wisepops!('properties', { plan: 'pro' });
      totals.push(deps.context().totalPageviews);
      route('/b');
      w.wisepops!('pageview');
      totals.push(deps.context().totalPageviews);
    } finally {
      delete (document as { cookie?: string }).cookie;
    }
    expect(totals).toEqual([1, 2, 2, 3]);
  });

  it('where storage works, the records are the truth: a property another tab deleted and its opt-in are not brought back', () => {
    script();
    stub();
    boot();
    w.wisepops!('properties', { cart: 3, coupon: 'TEA' });
    w.wisepops!('noshow');
    // Another tab deletes cart and opts back in.
    Cookies.set('wisepops_props', Cookies.get('wisepops_props')!.replace("'cart':3~", ''), { path: '/' });
    Cookies.remove('wisepops_noshow', { path: '/' });
    w.wisepops!('properties', { seen: true });
    route('/next');
    w.wisepops!('pageview');
    const x = deps.context();
    expect([x.props.cart, x.props.coupon, x.props.seen, x.noshow]).toEqual([undefined, 'TEA', true, false]);
    expect(Cookies.get('wisepops_props')).not.toContain('cart');
  });

  it('history.update applies the change on top of what another tab stored', () => {
    script();
    stub();
    boot();
    deps.history.update(1, (h) => void (h.d = 1));
    Cookies.set('wisepops', "[1~0~[[1~3~0~0~0~1700000000~2]~[5~1~0~0~0~1700000001~2]]]", { path: '/' });
    deps.history.update(1, (h) => void h.c++);
    expect(deps.context().history[1]).toMatchObject({ d: 3, c: 1 });
    expect(deps.context().history[5]).toMatchObject({ d: 1 });
    expect(Cookies.get('wisepops')).toContain('[1~3~1~0~0~1700000000~2]');
  });

  it('activity keeps a raw string in wisepops_activity_session; noshow() opts out', () => {
    script();
    stub();
    boot();
    deps.activity.set('x:1,2');
    expect(deps.activity.get()).toBe('x:1,2');
    deps.noshow();
    expect(deps.context().noshow).toBe(true);
  });

  it('context() stamps the current time', () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const [run, start] = createPoplet(window, new URL('https://popups.example.com/poplet.js?site=s'), [], fakeEngine);
    start();
    vi.advanceTimersByTime(5000);
    expect(deps.context().now).toBe(1_800_000_005_000);
    expect(run('debug')).toBeTruthy();
    vi.useRealTimers();
  });

  it('a new visit 2 hours after the last one started is counted on the next page load', () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    script();
    stub();
    boot();
    vi.advanceTimersByTime(121 * 60_000);
    delete w.wisepops;
    stub();
    boot();
    expect(deps.context().visits).toEqual([1_800_000_000_000, 1_800_000_000_000 + 121 * 60_000]);
    vi.useRealTimers();
  });
});
