// Fuzz: the real `wisepops()` global, installed as tests/unit/commands does, called with random
// commands and argument shapes a page may hand it (wrong types, huge strings, deep objects, getters
// and Proxies that throw, a toJSON that throws, invalid dates, -0, Infinity, listeners that throw or
// call back in), queued before the script and after. Invariants: no call throws; the page's state
// stays usable (a valid call afterwards still works: properties then debug shows them, an event
// still reaches the engine); every record written reads back; every cookie stays under 4,000 bytes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { install } from '../../../src/sdk/commands/install';
import { createEngine } from '../../../src/sdk/engine';
import { decode, Rec } from '../../../src/sdk/storage/codec';
import type { Engine, EngineDeps } from '../../../src/sdk/engine/types';
import { script, stub, w, type Wp } from '../../helpers/snippet-stub';
import { deep, fuzz, hostile, mutate, ODD_NUMBERS, ODD_STRINGS, preview, Rng, RUNS, SEED } from './gen';
import { demo, fromReadme, seedCampaign, VOCAB } from './corpus';
import { clearRecords, unwatchCookies, watchCookies, written } from './cookies';


const COMMANDS = ['options', 'consent', 'properties', 'event', 'pageview', 'goal', 'listen', 'noshow', 'debug'];
const EVENTS = ['ready', 'after-popup-close', 'before-tab-display', 'before-popup-display', 'after-popup-display', 'before-form-submit', 'after-form-submit', 'before-tracked-click', 'after-tracked-click'];
const OPTIONS: Record<string, unknown[]> = {
  storage: ['cookie', 'localStorage', 'indexedDB'],
  cookieExpiryDays: [1, 730, 0, -1, 1e5, 99999.5, NaN],
  cookieDomain: ['', 'localhost', '.localhost', 'example.com', '.', 'a'.repeat(300)],
  debug: [true, false, 1],
  autoPageview: [true, false],
  defaultConsent: ['granted', 'denied', 'yes'],
  iframes: [true, false],
  endpoint: ['', 'https://popups.example.com/', '//x', 'javascript:alert(1)'],
  uiUrl: ['', 'https://cdn.example.com/poplet.ui.js?v=1'],
  nonce: ['', 'abc'],
};

const boom = (what: string) => () => {
  throw Error('fuzz: ' + what);
};
/** A Proxy that throws on every trap. */
const trap = <T extends object>(target: T): T =>
  new Proxy(target, Object.fromEntries(['get', 'set', 'has', 'deleteProperty', 'ownKeys', 'getOwnPropertyDescriptor', 'defineProperty', 'getPrototypeOf', 'setPrototypeOf', 'isExtensible', 'preventExtensions', 'apply', 'construct'].map((t) => [t, boom('trap ' + t)])));

/** What a page may pass where Poplet expects something else. */
function hostileValue(r: Rng, depth = 0): unknown {
  switch (r.int(16)) {
    case 0:
      return r.pick([undefined, null, true, false]);
    case 1:
      return r.pick(ODD_NUMBERS);
    case 2:
      return r.pick(ODD_STRINGS);
    case 3:
      return 'y'.repeat(r.pick([256, 5000, 200_000]));
    case 4:
      return r.pick([new Date(NaN), new Date(0), new Date(8.64e15), new Date(-8.64e15)]);
    case 5:
      return Object.defineProperty({ a: 1 }, r.pick(['b', 'temporary', 'revenue', 'debug', 'storage']), { get: boom('getter'), enumerable: true });
    case 6:
      return trap(r.chance(0.5) ? {} : () => {});
    case 7:
      return { a: 1, toJSON: boom('toJSON') };
    case 8:
      return deep(r.pick([5, 100, 3000]), r.chance(0.5) ? 'a' : undefined);
    case 9:
      return Object.assign(Object.create(null) as object, { a: 'x' });
    case 10:
      return r.pick([Symbol('s'), BigInt(7), () => 1, new String('event'), new Number(1), [1, 2], Object.freeze({ x: 1 })]);
    case 11:
      return JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": 1}, "toString": "x"}');
    case 12:
      return { valueOf: boom('valueOf'), toString: boom('toString') };
    case 13:
      return Object.fromEntries(Array.from({ length: r.pick([10, 300]) }, (_, i) => ['k' + i, i % 3 ? 'v'.repeat(i) : { n: i }]));
    case 14:
      return hostile();
    default:
      return depth < 3 ? Object.fromEntries(Array.from({ length: 1 + r.int(4) }, () => [r.pick(['a', 'plan', 'user', '__proto__', 'constructor', 'toString', '', 'k'.repeat(60)]), hostileValue(r, depth + 1)])) : {};
  }
}

/** A listener: plain, vetoing, throwing, or one that calls `wisepops` back (a few levels at most). */
function listener(r: Rng, depth: number): unknown {
  return r.pick([
    () => {},
    () => false,
    boom('listener'),
    trap(() => {}),
    () => depth < 2 && w.wisepops!(...call(r, depth + 1)),
  ]);
}

/** A random call: mostly a known command with plausible, odd or hostile arguments. */
function call(r: Rng, depth = 0): unknown[] {
  const name = r.chance(0.92) ? r.pick(COMMANDS) : hostileValue(r);
  const any = () => hostileValue(r);
  switch (name) {
    case 'options': {
      const o: Record<string, unknown> = {};
      for (let n = r.int(3); n--; ) {
        const k = r.pick(Object.keys(OPTIONS));
        o[k] = r.chance(0.8) ? r.pick(OPTIONS[k]) : any();
      }
      return [name, r.chance(0.85) ? o : any()];
    }
    case 'consent':
      return [name, r.chance(0.8) ? r.pick(['granted', 'denied']) : any()];
    case 'properties': {
      const p = r.chance(0.5) ? { plan: r.pick<unknown>(['Pro', 'free', hostile(), { toString: 'x' }]), user: { since: r.pick([new Date(0), new Date(NaN)]), n: r.pick(ODD_NUMBERS) }, [r.pick(['bio', 'toString', 'constructor'])]: r.pick(ODD_STRINGS) } : any();
      return [name, p, r.pick([undefined, true, false, { temporary: true }, { temporary: false }, { temporary: 1 }, any()])];
    }
    case 'event':
      return [name, r.chance(0.7) ? r.pick(['cart', 'x'.repeat(500), '\uD800', '']) : any()];
    case 'pageview':
      if (r.chance(0.5)) history.replaceState(null, '', r.pick(['/next', '/shop?utm_source=x', '/' + 'p'.repeat(3000), '/?a=%E0%A4%A', '/#x']));
      return r.chance(0.8) ? [name] : [name, any()];
    case 'goal':
      return [name, r.chance(0.7) ? r.pick(['purchase', 'x'.repeat(51), '\uD800x', '']) : any(), r.pick([undefined, 15, -0, -1, Infinity, NaN, 2e9, { revenue: 12.5 }, { revenue: '12' }, any()])];
    case 'listen': {
      const ev = r.chance(0.8) ? r.pick(EVENTS) : any();
      return r.chance(0.5) ? [name, ev, listener(r, depth)] : [name, ev, r.pick([1001, '1002', '0', -1, any()]), listener(r, depth)];
    }
    case 'noshow':
      return [name, r.pick([undefined, true, false, any()])];
    case 'debug':
      return [name];
    default:
      return [name, any(), any()];
  }
}

let lines: string[];

beforeEach(() => {
  watchCookies();
  lines = [];
  vi.spyOn(console, 'log').mockImplementation((m: unknown) => void lines.push(String(m)));
});
afterEach(() => {
  unwatchCookies();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** A fresh page: no records, no global, the script tag, the snippet's stub. */
function page(r: Rng) {
  clearRecords();
  lines = [];
  document.head.innerHTML = '';
  delete w.wisepops;
  history.replaceState(null, '', r.pick(['/', '/shop?utm_source=news&poplet_debug=1', '/p?__proto__=1&constructor=x', '/' + 'x'.repeat(2000) + '?utm_campaign=' + 'é'.repeat(400)]));
  script();
  stub();
}

/** Runs `calls` through `wp`, each guarded: a throw is the failure, with the call that made it. */
function play(wp: () => Wp, calls: unknown[][]) {
  calls.forEach((c, i) => {
    try {
      wp()(...c);
    } catch (e) {
      throw Error(`call ${i} ${preview(c)} threw: ${String(e)}`);
    }
  });
}

/** The invariants after a run: records read back, cookies fit, and valid calls still work. */
function usable(events: string[]) {
  expect(written.filter(([, size]) => size >= Rec.MAX_BYTES)).toEqual([]);
  const unreadable = document.cookie
    .split('; ')
    .filter((c) => c.startsWith('wisepops'))
    .map((c) => [c.slice(0, c.indexOf('=')), decodeURIComponent(c.slice(c.indexOf('=') + 1))])
    .filter(([, value]) => !decode(value));
  expect(unreadable).toEqual([]);
  const wp = w.wisepops!;
  expect(wp.poplet).toBe(1);
  wp('properties', { fuzzCheck: 'ok' }, true);
  wp('properties', { fuzzTemp: 1 }, { temporary: true });
  const d = wp('debug') as { campaigns: unknown[]; context: { props: Record<string, unknown> } };
  expect(d.context.props).toMatchObject({ fuzzCheck: 'ok', fuzzTemp: 1 });
  expect(Array.isArray(d.campaigns)).toBe(true);
  // A page may print or send what debug returns.
  JSON.stringify(d);
  events.length = 0;
  wp('event', 'fuzz-event');
  return d;
}

describe('fuzz: the wisepops() command API', () => {
  it('with a recording engine: no call throws, and the page stays usable', () => {
    const events: string[] = [];
    const fake = (d: EngineDeps): Engine => ({
      pageview: () => void d.emit('ready', {}),
      event: (n) => void events.push(n),
      refresh: () => {},
      debug: () => [{ id: 1, name: 'x', status: 'skipped', reason: 'fuzz' }],
      goal: () => {},
    });
    const fails = fuzz(
      'commands',
      200,
      (r) => {
        page(r);
        return { queued: Array.from({ length: r.int(6) }, () => call(r)), after: Array.from({ length: 3 + r.int(20) }, () => call(r)) };
      },
      ({ queued, after }) => {
        play(() => w.wisepops!, queued);
        expect(() => install(window, fake)).not.toThrow();
        play(() => w.wisepops!, after);
        usable(events);
        expect(events).toEqual(['fuzz-event']);
      },
    );
    expect(fails).toEqual([]);
  }, 30_000 * RUNS);

  it('with the real engine over a campaign set (triggers, evaluation, debug): no call throws, and the page stays usable', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const fails: string[] = [];
    for (let i = 0; i < 40 * RUNS && fails.length < 3; i++) {
      const r = new Rng(SEED + i * 104729);
      page(r);
      // Debug on whatever the calls set: a guarded crash in the engine shows as "engine error".
      history.replaceState(null, '', location.pathname + (location.search ? location.search + '&' : '?') + 'poplet_debug=1');
      const campaigns = [...fromReadme, ...demo].map((c) => (r.chance(0.3) ? mutate(structuredClone(c), r, VOCAB, 1 + r.int(2), true) : c)).concat([seedCampaign(r)]);
      vi.stubGlobal('fetch', (url: string) => Promise.resolve(url.endsWith('campaigns.json') ? { ok: true, json: () => Promise.resolve({ site: 'abc', timezone: r.pick(['Europe/Paris', 'Nope/Nope', 5, hostile()]), country: r.pick(['FR', null, 7, hostile()]), campaigns }) } : { ok: true }));
      const queued = Array.from({ length: r.int(6) }, () => call(r));
      const after = Array.from({ length: 3 + r.int(15) }, () => call(r));
      try {
        play(() => w.wisepops!, queued);
        install(window, createEngine);
        for (const c of after) {
          play(() => w.wisepops!, [c]);
          // The campaign set arrives, timers (landing delays, re-checks) run, a scroll or an exit may fire.
          await vi.advanceTimersByTimeAsync(r.pick([0, 10, 600, 5000]));
          if (r.chance(0.2)) document.dispatchEvent(new MouseEvent(r.pick(['mouseout', 'click', 'scroll']), { bubbles: true, relatedTarget: null, clientY: -1 }));
        }
        usable([]);
        const d = w.wisepops!('debug') as { campaigns: Array<{ status: string }> };
        expect(d.campaigns.length).toBe(campaigns.length);
        expect(lines.filter((l) => /engine error|campaigns not loaded/.test(l))).toEqual([]);
      } catch (e) {
        fails.push(`engine commands: case ${i}: ${String(e)}\n  queued: ${preview(queued)}\n  after: ${preview(after)}`);
      } finally {
        vi.clearAllTimers();
      }
    }
    expect(fails).toEqual([]);
  }, 60_000 * RUNS);
});
