import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeEngine, type Arm } from '../../../src/sdk/engine/engine';
import type { PageView } from '../../../src/sdk/triggers';
import type { Engine, EngineDeps } from '../../../src/sdk/engine/types';
import type { CampaignHistory, VisitorContext } from '../../../src/sdk/context/types';
import type { Campaign, CampaignSet, Content, Layout } from '../../../src/shared/campaign';
import type { PopletUi, ShowRequest, SubmitResult, UiHost } from '../../../src/sdk/render/contract';
import { OUTBOX_KEY, type Collect, type CollectKit } from '../../../src/sdk/collect/contract';
import { uiHost } from '../../../src/sdk/collect/host';
import type { EventBatch } from '../../../src/shared/events';
import type { SignupPayload } from '../../../src/shared/signup';

const content = (label: string): Content => ({ label, steps: [{ blocks: [{ type: 'heading', text: label }] }], success: { blocks: [] } });

const campaign = (id: number, extra: Partial<Campaign> = {}): Campaign => ({
  id,
  name: 'C' + id,
  status: 'live',
  trigger: { type: 'landing' },
  layout: { type: 'popup' },
  content: content('c' + id),
  ...extra,
});

const NOW = Date.UTC(2025, 5, 2, 12);

function context(): VisitorContext {
  return {
    now: NOW,
    url: 'https://shop.test/',
    path: '/',
    query: {},
    hash: '',
    session: { start: NOW - 60_000, landing: 'https://shop.test/', referrer: '', utm: {}, pageviews: 1 },
    visits: [NOW],
    firstVisit: NOW,
    totalPageviews: 1,
    props: {},
    device: 'desktop',
    language: 'en',
    country: null,
    history: {},
    signedUp: false,
    noshow: false,
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
});

/**
 * The engine over one campaign set, with recording fakes around it: fetch, sendBeacon and
 * Math.random stubbed, a fake chunk, and a collection client that is the real UiHost over a fake
 * outbox and tracker.
 */
function setup(
  campaigns: Campaign[],
  o: { fetchFails?: boolean; random?: number; uiFails?: boolean; veto?: string[]; vetoIds?: number[]; uiGate?: Promise<void>; staleHistory?: boolean; collectFails?: boolean; modal?: { open: boolean }; missing?: Set<string>; debugOff?: boolean; noPageview?: boolean } = {},
) {
  const ctx = context();
  const emitted: Array<[string, Record<string, unknown>]> = [];
  const logs: string[] = [];
  const tracked: Array<[string, number, string | undefined]> = [];
  const submitted: SignupPayload[] = [];
  const shows: ShowRequest[] = [];
  const destroyed: number[] = [];
  const armedWith: number[][] = [];
  // `off`: what the triggers report they cannot fire, by campaign id (none unless a test says so).
  const armed = { off: {} as Record<number, string>, event: vi.fn(), pageview: vi.fn(), dispose: vi.fn() };
  let fire: (id: number) => void = () => {};
  let submitResult: SubmitResult = { ok: true, queued: false };
  let uiLoads = 0;
  const flush = vi.fn();
  const kits: CollectKit[] = [];
  const outbox = {
    // What goes on the wire (and into localStorage): JSON.
    submit: async (p: SignupPayload) => (submitted.push(JSON.parse(JSON.stringify(p))), submitResult),
    flush,
  };
  const ui: PopletUi = {
    show(req) {
      shows.push(req);
      return { destroy: () => destroyed.push(req.campaign.id) };
    },
  };
  let collectLoads = 0;
  const start = (kit: CollectKit): Collect => {
    kits.push(kit);
    return { host: (group, closed) => uiHost(kit, outbox, (k, c, g) => void tracked.push([k, c, g]), group, closed), flush };
  };
  const loadCollect = async () => {
    collectLoads++;
    if (o.collectFails) throw new Error('collect chunk 404');
    return start;
  };
  const beacons: Array<[string, EventBatch]> = [];
  vi.stubGlobal('navigator', { sendBeacon: (url: string, body: string) => beacons.push([url, JSON.parse(body)]) > 0 });
  vi.spyOn(Math, 'random').mockReturnValue(o.random ?? 0.5);
  let engine: Engine;
  const deps: EngineDeps = {
    site: 'site1',
    endpoint: 'https://popups.test',
    uiUrl: 'https://popups.test/poplet.ui.js',
    context: () => ctx,
    history: {
      update(id, change) {
        // staleHistory: a command layer that only rebuilds the context on the next page view
        const h: CampaignHistory = o.staleHistory ? { d: 0, c: 0, v: 0, k: 0, l: 0, p: 0 } : (ctx.history[id] ??= { d: 0, c: 0, v: 0, k: 0, l: 0, p: 0 });
        change(h);
      },
      markSignedUp: () => void (ctx.signedUp = true),
    },
    // As the command layer does: set the record, refresh the engine.
    noshow: vi.fn(() => {
      ctx.noshow = true;
      engine.refresh();
    }),
    // The records another tab wrote: nothing, unless a test says so.
    reload: vi.fn(),
    activity: { get: () => undefined, set: () => {} },
    visitorId: () => undefined,
    emit(name, detail) {
      emitted.push([name, detail]);
      return !o.veto?.includes(name) && !(name == 'before-popup-display' && o.vetoIds?.includes((detail.popup as { id: number }).id));
    },
    // Every line is recorded; `on` is what the engine reads to skip debug-only work (debugOff: debug mode off).
    log: Object.assign((m: string) => void logs.push(m), { on: !o.debugOff }),
  };
  const set: CampaignSet = { site: 'site1', country: 'FR', campaigns };
  const fetch = vi.fn(async () => (o.fetchFails ? new Response('down', { status: 503 }) : new Response(JSON.stringify(set))));
  vi.stubGlobal('fetch', fetch);
  const pages: PageView[] = [];
  const arm: Arm = (list, f, page) => {
    armedWith.push(list.map((c) => c.id));
    pages.push(page);
    fire = f;
    return armed;
  };
  const loadUi = async () => {
    uiLoads++;
    await o.uiGate;
    if (o.uiFails) throw new Error('chunk 404');
    return ui;
  };
  // As index.ts's waitFor: a modal holds all but embeds; an embed waits while its selector is in `missing`.
  const waitFor = (s: string) => (s.startsWith('embed:') ? !!o.missing?.has(s.slice(6)) && 'waiting for ' + s.slice(6) : !!o.modal?.open && 'waiting: a modal is open');
  engine = makeEngine(deps, arm, loadUi, loadCollect, waitFor);
  // As the command layer does right after it made the engine, before the set arrives (unless
  // the site set `autoPageview: false`).
  if (!o.noPageview) engine.pageview();
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return {
    engine,
    ctx,
    deps,
    fetch,
    emitted,
    names: () => emitted.map((e) => e[0]),
    logs,
    tracked,
    submitted,
    shows,
    destroyed,
    armed,
    armedWith,
    pages,
    flush,
    kits,
    beacons,
    tick,
    uiLoads: () => uiLoads,
    collectLoads: () => collectLoads,
    setSubmitResult: (r: SubmitResult) => void (submitResult = r),
    /** Fire triggers and let the engine show what wins. */
    async fire(...ids: number[]) {
      ids.forEach((id) => fire(id));
      await tick();
    },
    host: (i = shows.length - 1): UiHost => shows[i].host,
  };
}

const ready = async (campaigns: Campaign[], o?: Parameters<typeof setup>[1]) => {
  const t = setup(campaigns, o);
  await t.tick();
  // The first page view's `ready` is behind us: the tests follow what comes after it.
  t.emitted.length = 0;
  return t;
};

describe('engine: loading', () => {
  it('fetches the campaign set once, without credentials', async () => {
    const t = await ready([campaign(1)]);
    expect(t.fetch).toHaveBeenCalledTimes(1);
    expect(t.fetch).toHaveBeenCalledWith('https://popups.test/sites/site1/campaigns.json', { credentials: 'omit' });
    t.engine.pageview();
    t.engine.refresh();
    expect(t.fetch).toHaveBeenCalledTimes(1);
  });

  it('a failed load is a debug line: nothing armed, nothing loaded, nothing thrown', async () => {
    const t = await ready([campaign(1)], { fetchFails: true });
    expect(t.logs).toContain('campaigns not loaded');
    expect(() => {
      t.engine.pageview();
      t.engine.event('x');
      t.engine.refresh();
    }).not.toThrow();
    expect(t.armedWith).toEqual([]);
    expect([t.uiLoads(), t.collectLoads()]).toEqual([0, 0]);
    expect(t.engine.debug()).toEqual([]);
  });

  it('invalid campaigns are skipped, the others still run', async () => {
    const bad = { ...campaign(2), trigger: { type: 'nope' } } as unknown as Campaign;
    const t = await ready([campaign(1), bad]);
    expect(t.armedWith).toEqual([[1]]);
    expect(t.engine.debug().find((l) => l.id == 2)).toMatchObject({ status: 'skipped', reason: expect.stringContaining('trigger') });
  });

  it('gives targeting the country of the campaign set', async () => {
    const t = await ready([campaign(1, { targeting: { type: 'country', op: 'in', value: ['FR'] } }), campaign(2, { targeting: { type: 'country', op: 'in', value: ['DE'] } })]);
    expect(t.armedWith).toEqual([[1]]);
  });

  it('never throws into the page, even when the context does', async () => {
    const t = await ready([campaign(1)]);
    t.deps.context = () => {
      throw new Error('boom');
    };
    expect(() => t.engine.pageview()).not.toThrow();
    expect(() => t.engine.refresh()).not.toThrow();
    expect(t.logs).toContain('engine error');
  });
});

describe('engine: evaluation and triggers', () => {
  it('arms triggers of eligible campaigns only and loads the UI chunk early', async () => {
    const t = await ready([campaign(1), campaign(2, { status: 'paused' })]);
    expect(t.armedWith).toEqual([[1]]);
    expect(t.armed.pageview).toHaveBeenCalledWith(1, 1);
    expect(t.uiLoads()).toBe(1);
    expect(t.shows).toEqual([]);
  });

  it('loads nothing while no campaign is eligible', async () => {
    const t = await ready([campaign(1, { status: 'draft' })]);
    expect(t.armedWith.flat()).toEqual([]);
    expect([t.uiLoads(), t.collectLoads()]).toEqual([0, 0]);
  });

  it('re-arms on every page view and disposes the old triggers', async () => {
    const t = await ready([campaign(1)]);
    t.engine.pageview();
    expect(t.armed.dispose).toHaveBeenCalledTimes(1);
    expect(t.armedWith).toEqual([[1], [1]]);
  });

  it('hands every arm of a page view the same page record, and each page view a new one, even within one millisecond', async () => {
    const t = await ready([campaign(1, { targeting: { type: 'property', key: 'plan', kind: 'string', op: 'equals', value: 'pro' } }), campaign(2)]);
    t.ctx.props = { plan: 'pro' };
    t.engine.refresh();
    expect(t.armedWith).toEqual([[2], [1, 2]]);
    expect(t.pages[1]).toBe(t.pages[0]);
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    t.engine.pageview();
    t.engine.pageview();
    expect(new Set(t.pages).size).toBe(3);
    expect(t.pages[3]).toMatchObject({ since: NOW });
  });

  it('a page view with unsent sign-ups in the outbox loads the collection chunk alone to send them', async () => {
    const t = await ready([campaign(1, { status: 'draft' })]);
    t.engine.pageview();
    await t.tick();
    expect(t.collectLoads()).toBe(0);
    expect(t.kits).toHaveLength(0);
    expect(t.flush).not.toHaveBeenCalled();
    localStorage.setItem(OUTBOX_KEY, '{"v":1,"items":[]}');
    t.engine.pageview();
    await t.tick();
    expect(t.collectLoads()).toBe(1);
    expect(t.uiLoads()).toBe(0);
    expect(t.flush).toHaveBeenCalledTimes(1);
    expect(t.shows).toEqual([]);
    t.engine.pageview();
    await t.tick();
    expect(t.flush).toHaveBeenCalledTimes(2);
    // one collection client for this core, handed what it needs
    expect(t.kits).toHaveLength(1);
    expect(t.kits[0].deps).toBe(t.deps);
    expect(t.kits[0].id()).toMatch(/^[\w-]{21}$/);
  });

  it('an eligible campaign preloads both chunks; the first display starts the collection client, later displays share it', async () => {
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'bar', position: 'top' } })]);
    expect([t.uiLoads(), t.collectLoads()]).toEqual([1, 1]);
    expect(t.kits).toHaveLength(0);
    await t.fire(1, 2);
    expect(t.shows).toHaveLength(2);
    expect(t.kits).toHaveLength(1);
    expect(t.shows[0].host).not.toBe(t.shows[1].host);
  });

  it('a campaign whose trigger cannot fire here is skipped with the reason, and loads no chunk', async () => {
    const t = setup([campaign(1, { trigger: { type: 'exit', mobile: false } }), campaign(2, { trigger: { type: 'click', selector: '##' } })]);
    t.armed.off = { 1: 'exit intent: desktop only', 2: 'click: SyntaxError: not a valid selector' };
    await t.tick();
    expect(t.armedWith).toEqual([[1, 2]]);
    expect(t.engine.debug()).toEqual([
      { id: 1, name: 'C1', status: 'skipped', reason: 'exit intent: desktop only' },
      { id: 2, name: 'C2', status: 'skipped', reason: 'click: SyntaxError: not a valid selector' },
    ]);
    expect([t.uiLoads(), t.collectLoads()]).toEqual([0, 0]);
    // One that can fire still loads them.
    t.armed.off = { 1: 'exit intent: desktop only' };
    t.engine.pageview();
    expect([t.uiLoads(), t.collectLoads()]).toEqual([1, 1]);
  });

  it('a control group alone loads neither chunk: its count goes from the core', async () => {
    const t = await ready([campaign(2, { control: 100 })]);
    await t.fire(2);
    expect([t.uiLoads(), t.collectLoads()]).toEqual([0, 0]);
    expect(t.beacons).toHaveLength(1);
  });

  it('sign-ups waiting while the collection chunk cannot load either: tried again at 30 s, 1 min … until it loads', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const o = { collectFails: true };
      const t = setup([campaign(1, { status: 'draft' })], o);
      await vi.advanceTimersByTimeAsync(0);
      localStorage.setItem(OUTBOX_KEY, '{"v":1,"items":[]}');
      t.engine.pageview();
      await vi.advanceTimersByTimeAsync(0);
      expect(t.collectLoads()).toBe(1);
      await vi.advanceTimersByTimeAsync(29_999);
      expect(t.collectLoads()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.collectLoads()).toBe(2);
      o.collectFails = false;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(t.collectLoads()).toBe(3);
      expect(t.flush).toHaveBeenCalledTimes(1);
      // loaded: no more attempts
      await vi.advanceTimersByTimeAsync(600_000);
      expect(t.collectLoads()).toBe(3);
      expect(t.logs.filter((l) => l == 'chunk')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a collection chunk that fails to load is logged, the campaign is not drawn, and a later page view tries again', async () => {
    const t = await ready([campaign(1)], { collectFails: true });
    await t.fire(1);
    expect(t.shows).toEqual([]);
    expect(t.logs).toContain('C1: not shown');
    localStorage.setItem(OUTBOX_KEY, '{"v":1,"items":[]}');
    t.engine.pageview();
    await t.tick();
    expect(t.logs).toContain('chunk');
    const loads = t.collectLoads();
    t.engine.pageview();
    await t.tick();
    expect(t.collectLoads()).toBeGreaterThan(loads);
    expect(t.flush).not.toHaveBeenCalled();
  });

  it('refresh re-arms only when the eligible set changed', async () => {
    const t = await ready([campaign(1, { targeting: { type: 'property', key: 'plan', kind: 'string', op: 'equals', value: 'pro' } }), campaign(2)]);
    expect(t.armedWith).toEqual([[2]]);
    t.engine.refresh();
    expect(t.armedWith).toHaveLength(1);
    t.ctx.props = { plan: 'pro' };
    t.engine.refresh();
    expect(t.armedWith).toEqual([[2], [1, 2]]);
  });

  it('re-checks time-dependent campaigns on a timer: "time on site" comes true while the visitor just reads', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      const t = await ready([campaign(1, { targeting: { type: 'time', scope: 'on_site', op: 'gte', value: 90 } })]);
      expect(t.armedWith.flat()).toEqual([]);
      t.ctx.now += 20_000; // 80 s on site
      vi.advanceTimersByTime(5000);
      expect(t.armedWith.flat()).toEqual([]);
      t.ctx.now += 10_000; // 90 s
      vi.advanceTimersByTime(5000);
      expect(t.armedWith.at(-1)).toEqual([1]);
      const arms = t.armedWith.length;
      vi.advanceTimersByTime(20_000); // still eligible: no re-arming, its triggers keep their timers
      expect(t.armedWith).toHaveLength(arms);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a "time" condition inside a list is re-checked on the timer on a page with Prototype.js (Array.prototype.toJSON)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      // Asked for while the page's toJSON is off: the test's fake server stringifies the set.
      const t = setup([campaign(1, { targeting: { all: [{ type: 'time', scope: 'on_site', op: 'gte', value: 90 }] } })]);
      // Prototype 1.6's: an array becomes a string, so a "time" inside all:[…] would read as \"time\".
      (Array.prototype as { toJSON?: unknown }).toJSON = function (this: unknown[]) {
        return '[' + this.map((v) => JSON.stringify(v)).join(', ') + ']';
      };
      await t.tick();
      delete (Array.prototype as { toJSON?: unknown }).toJSON;
      t.ctx.now += 30_000; // 90 s on site
      vi.advanceTimersByTime(5000);
      expect(t.armedWith.at(-1)).toEqual([1]);
    } finally {
      delete (Array.prototype as { toJSON?: unknown }).toJSON;
      vi.useRealTimers();
    }
  });

  it('the timer logs an evaluation only when its outcome changed; an asked-for one always logs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      const t = await ready([
        campaign(1, { targeting: { type: 'time', scope: 'on_site', op: 'gte', value: 90 } }),
        // Outside its hours all along: its reason quotes the site's clock, which moves.
        campaign(2, { schedule: { hours: [0, 1] } }),
      ]);
      const evaluations = () => t.logs.filter((m) => m == 'evaluation').length;
      expect(evaluations()).toBe(1);
      const before = t.engine.debug();
      t.ctx.now += 25_000; // 85 s on site, and past a minute on the site's clock
      vi.advanceTimersByTime(25_000);
      // The reasons' numbers moved, nothing else did: no line.
      expect(t.engine.debug()).not.toEqual(before);
      expect(evaluations()).toBe(1);
      t.ctx.now += 5_000; // 90 s: campaign 1 becomes eligible
      vi.advanceTimersByTime(5_000);
      expect(t.engine.debug()[0]).toMatchObject({ id: 1, status: 'eligible' });
      expect(evaluations()).toBe(2);
      t.ctx.now += 60_000;
      vi.advanceTimersByTime(60_000);
      expect(evaluations()).toBe(2);
      // Asked for, even when nothing changed: properties or consent, an event, a page view.
      t.engine.refresh();
      expect(evaluations()).toBe(3);
      t.engine.event('x');
      await t.tick();
      expect(evaluations()).toBe(4);
      t.engine.pageview();
      expect(evaluations()).toBe(5);
      // The timer goes on.
      t.ctx.now += 5_000;
      t.ctx.props = {};
      vi.advanceTimersByTime(5_000);
      expect(vi.getTimerCount()).toBe(1);
      expect(evaluations()).toBe(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it("the timer's comparison masks only the clock: a count that moves is logged, the time on site, since the first visit and the site time are not", async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      const t = await ready([
        campaign(1, { targeting: { type: 'time', scope: 'on_site', op: 'gte', value: 900 } }),
        campaign(2, { targeting: { type: 'time', scope: 'since_first_visit', op: 'gte', value: 900 } }),
        // Outside its hours all along: its reason ends with the site's clock.
        campaign(3, { schedule: { hours: [0, 1] } }),
        campaign(4, { targeting: { type: 'visits', days: 30, op: 'gte', value: 4 } }),
      ]);
      const evaluations = () => t.logs.filter((m) => m == 'evaluation').length;
      // The oldest visit leaves the 30 days 7 s from now.
      t.ctx.visits = [NOW - 30 * 864e5 + 7_000, NOW - 864e5, NOW];
      t.engine.refresh();
      expect(evaluations()).toBe(2);
      const reasons = () => t.engine.debug().map((l) => l.reason);
      const before = reasons();
      t.ctx.now += 5_000;
      vi.advanceTimersByTime(5_000);
      // Only the clock's numbers moved (the time on site and since the first visit): no line.
      expect(reasons().slice(0, 2)).not.toEqual(before.slice(0, 2));
      expect(reasons()[3]).toBe('visits in last 30 days is 3, needs ≥ 4');
      expect(evaluations()).toBe(2);
      t.ctx.now += 5_000;
      vi.advanceTimersByTime(5_000);
      // Still skipped, same words, one digit less: a real change, logged.
      expect(reasons()[3]).toBe('visits in last 30 days is 2, needs ≥ 4');
      expect(evaluations()).toBe(3);
      // The site's clock moving past a minute (and the times): no line.
      t.ctx.now += 60_000;
      vi.advanceTimersByTime(60_000);
      expect(reasons()[2]).not.toBe(before[2]);
      expect(evaluations()).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('with debug off, evaluations and the timer build no debug lines and compare nothing; debug() still answers', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      const t = await ready([campaign(1, { targeting: { type: 'time', scope: 'on_site', op: 'gte', value: 900 } })], { debugOff: true });
      const stringify = vi.spyOn(JSON, 'stringify');
      t.engine.refresh();
      t.ctx.now += 5_000;
      vi.advanceTimersByTime(5_000);
      t.engine.pageview();
      expect(t.logs).not.toContain('evaluation');
      // The comparison stringifies the lines (an array); nothing else on these paths does.
      expect(stringify.mock.calls.filter(([v]) => Array.isArray(v))).toEqual([]);
      expect(t.engine.debug()).toEqual([{ id: 1, name: 'C1', status: 'skipped', reason: 'time on_site is 65, needs ≥ 900' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a null in the campaign list does not turn the re-check off for the others', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      const t = await ready([null as unknown as Campaign, campaign(1, { targeting: { type: 'time', scope: 'on_site', op: 'gte', value: 90 } })]);
      expect(t.logs).not.toContain('campaigns not loaded');
      t.ctx.now += 30_000; // 90 s on site
      vi.advanceTimersByTime(5000);
      expect(t.armedWith.at(-1)).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sets without time-dependent campaigns start no timer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      await ready([campaign(1), campaign(2, { targeting: { type: 'visits', op: 'gte', value: 2 } })]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('autoPageview false: the set decides nothing, arms nothing and loads no chunk until the site records the first page view', async () => {
    // A router that redirects (`/` to `/home`) reports its first route later: the URL the script
    // landed on is not a page of the app, and no landing popup may show on it.
    const t = setup([campaign(1), campaign(2, { trigger: { type: 'event', name: 'cart' } })], { noPageview: true });
    await t.tick();
    t.engine.refresh();
    t.engine.event('cart');
    await t.tick();
    expect(t.armedWith).toEqual([]);
    expect([t.uiLoads(), t.collectLoads()]).toEqual([0, 0]);
    expect(t.engine.debug()).toEqual([]);
    expect(t.names()).toEqual([]);
    t.engine.pageview();
    await t.tick();
    expect(t.armedWith).toEqual([[1, 2]]);
    expect(t.names()).toEqual(['ready']);
  });

  it('events are passed to the triggers, including those sent before the set arrived', async () => {
    const t = setup([campaign(1, { trigger: { type: 'event', name: 'cart' } })]);
    t.engine.event('early');
    await t.tick();
    expect(t.armed.event).toHaveBeenCalledWith('early');
    t.engine.event('cart');
    await t.tick();
    expect(t.armed.event).toHaveBeenLastCalledWith('cart');
  });
});

describe('engine: showing', () => {
  it('shows a campaign when its trigger fires, with before/after-popup-display', async () => {
    const t = await ready([campaign(1)]);
    await t.fire(1);
    expect(t.shows).toHaveLength(1);
    expect(t.shows[0].campaign.id).toBe(1);
    expect(t.shows[0].content).toEqual(content('c1'));
    expect(t.emitted[0]).toEqual(['before-popup-display', { popup: { id: 1, name: 'C1' }, variant: undefined }]);
    t.host().displayed(t.shows[0].campaign);
    expect(t.ctx.history[1]).toMatchObject({ d: 1, l: NOW / 1000, p: 1 });
    expect(t.tracked).toEqual([['display', 1, undefined]]);
    expect(t.emitted[1]).toEqual(['after-popup-display', { popup: { id: 1, name: 'C1' }, variant: undefined }]);
    expect(t.engine.debug()).toEqual([{ id: 1, name: 'C1', status: 'shown' }]);
  });

  it('a before-popup-display listener can veto', async () => {
    const t = await ready([campaign(1)], { veto: ['before-popup-display'] });
    await t.fire(1);
    expect(t.shows).toEqual([]);
    expect(t.engine.debug()[0]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('vetoed') });
  });

  it('a vetoed campaign fired again (a click or an event comes again) is asked again, and shows once allowed', async () => {
    const vetoIds = [1];
    const t = await ready([campaign(1, { trigger: { type: 'click', selector: '.buy' } })], { vetoIds });
    await t.fire(1);
    expect(t.shows).toEqual([]);
    vetoIds.pop();
    await t.fire(1);
    expect(t.shows.map((s) => s.campaign.id)).toEqual([1]);
  });

  it('a vetoed winner leaves its slot to the next campaign of the batch', async () => {
    const t = await ready([campaign(1, { priority: 9 }), campaign(3, { priority: 5 }), campaign(2, { priority: 5 }), campaign(4, { layout: { type: 'bar', position: 'top' } })], { vetoIds: [1] });
    await t.fire(1, 2, 3, 4);
    // 2 and 3 tie: the lower id wins.
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2, 4]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'skipped', reason: 'vetoed by a listener' });
    expect(t.engine.debug().find((l) => l.id == 3)).toMatchObject({ status: 'skipped', reason: 'slot taken: main' });
    // Only the campaigns that reached a free slot were offered to the listeners.
    expect(t.emitted.filter(([n]) => n == 'before-popup-display').map(([, d]) => (d.popup as { id: number }).id)).toEqual([1, 2, 4]);
  });

  it("wisepops('noshow') from a before-popup-display listener: neither that campaign nor the rest of its batch shows", async () => {
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'bar', position: 'top' } })]);
    const emit = t.deps.emit;
    // The listener opts the visitor out and does not veto (returns nothing).
    t.deps.emit = (name, detail) => (name == 'before-popup-display' && t.deps.noshow(), emit(name, detail));
    await t.fire(1, 2);
    await t.tick();
    expect(t.shows).toEqual([]);
    expect(t.ctx.history[1]?.l || 0).toBe(0);
  });

  it('re-checks the campaign when the trigger fires', async () => {
    const t = await ready([campaign(1, { targeting: { type: 'signed_up', value: false } })]);
    t.ctx.signedUp = true;
    await t.fire(1);
    expect(t.shows).toEqual([]);
  });

  it('one popup at a time: the highest priority wins when several fire together', async () => {
    const t = await ready([
      campaign(1, { priority: 1 }),
      campaign(2, { priority: 5, trigger: { type: 'event', name: 'go' } }),
      campaign(3, { priority: 9, layout: { type: 'slidein', position: 'bottom-right' } }),
    ]);
    await t.fire(1, 2, 3);
    expect(t.shows.map((s) => s.campaign.id)).toEqual([3]);
    expect(t.engine.debug().find((l) => l.id == 2)).toMatchObject({ status: 'skipped', reason: expect.stringContaining('slot') });
    // the slot is taken while the first one shows
    await t.fire(2);
    expect(t.shows).toHaveLength(1);
    // closed: the slot is free again and the triggers re-armed; a landing campaign's moment has
    // passed (no popup chain), an event campaign may fire on its next event
    t.host().closed(t.shows[0].campaign);
    expect(t.armedWith.at(-1)).toEqual([2]);
    await t.fire(1, 2);
    expect(t.shows.map((s) => s.campaign.id)).toEqual([3, 2]);
  });

  it('a bar and a popup coexist; embeds are independent', async () => {
    const bar: Layout = { type: 'bar', position: 'top' };
    const t = await ready([
      campaign(1),
      campaign(2, { layout: bar }),
      campaign(3, { layout: { type: 'embed', selector: '#a' } }),
      campaign(4, { layout: { type: 'embed', selector: '#b' } }),
      campaign(5, { layout: bar }),
    ]);
    await t.fire(1, 2, 3, 4, 5);
    expect(t.shows.map((s) => s.campaign.id).sort()).toEqual([1, 2, 3, 4]);
  });

  it('shows a campaign at most once per page view, again after a page view when its frequency allows', async () => {
    const t = await ready([campaign(1, { frequency: { repeat: { every: 'page' }, stopAfter: { close: false } } })]);
    await t.fire(1);
    t.host().displayed(t.shows[0].campaign);
    t.host().closed(t.shows[0].campaign);
    await t.fire(1);
    expect(t.shows).toHaveLength(1);
    t.ctx.totalPageviews = 2;
    t.engine.pageview();
    expect(t.armedWith.at(-1)).toEqual([1]);
    await t.fire(1);
    expect(t.shows).toHaveLength(2);
  });

  it('an embed without frequency is there again on every page view, once per page, each display counted', async () => {
    const t = await ready([campaign(1, { layout: { type: 'embed', selector: '#signup' } })]);
    await t.fire(1);
    t.host().displayed(t.shows[0].campaign);
    await t.fire(1);
    expect(t.shows).toHaveLength(1);
    t.ctx.totalPageviews = t.ctx.session.pageviews = 2;
    t.engine.pageview();
    // Not "already shown this session": armed and drawn again on the new page.
    expect(t.engine.debug()).toEqual([{ id: 1, name: 'C1', status: 'eligible' }]);
    expect(t.armedWith.at(-1)).toEqual([1]);
    await t.fire(1);
    t.host().displayed(t.shows[1].campaign);
    expect(t.shows).toHaveLength(2);
    expect(t.ctx.history[1]).toMatchObject({ d: 2, p: 2 });
    expect(t.tracked.filter((e) => e[0] == 'display')).toHaveLength(2);
    expect(t.engine.debug()).toEqual([{ id: 1, name: 'C1', status: 'shown' }]);
  });

  it('shows a campaign once per page view even before the context reflects the display', async () => {
    const t = await ready([campaign(1, { trigger: { type: 'click', selector: 'a' } })], { staleHistory: true });
    await t.fire(1);
    t.host().displayed(t.shows[0].campaign);
    t.host().closed(t.shows[0].campaign);
    await t.fire(1);
    expect(t.shows).toHaveLength(1);
  });

  it('nothing is drawn when "don\'t show again" comes while the chunk loads', async () => {
    let open!: () => void;
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'bar', position: 'top' } })], { uiGate: new Promise<void>((r) => (open = r)) });
    await t.fire(1);
    await t.fire(2);
    expect(t.shows).toEqual([]);
    t.deps.noshow();
    t.engine.pageview();
    open();
    await t.tick();
    expect(t.shows).toEqual([]);
  });

  /** Held on the next check while the modal is open (the embed #2 alone shown), #1 shown on the first check after it closed. */
  const shownOnceClosed = async (t: Awaited<ReturnType<typeof ready>>, modal: { open: boolean }) => {
    await new Promise((r) => setTimeout(r, 600));
    expect(t.shows).toHaveLength(1);
    modal.open = false;
    await new Promise((r) => setTimeout(r, 600));
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2, 1]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'shown' });
  };

  it('an open modal holds what fires (not embeds) and fires it again once closed', async () => {
    const modal = { open: true };
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'embed', selector: '#x' } })], { modal });
    await t.fire(1, 2);
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'eligible', reason: 'waiting: a modal is open' });
    await shownOnceClosed(t, modal);
  });

  it('the control group waits for a modal as its popup would: not counted while it is open, counted once it closes', async () => {
    const modal = { open: true };
    const t = await ready([campaign(3, { layout: { type: 'bar', position: 'top' }, control: 100 })], { modal });
    await t.fire(3);
    // A visitor who leaves now was shown nothing in the treatment: the control counts nothing either.
    expect(t.beacons).toEqual([]);
    expect(t.engine.debug()[0]).toMatchObject({ status: 'eligible', reason: 'waiting: a modal is open' });
    modal.open = false;
    await new Promise((r) => setTimeout(r, 600));
    expect(t.beacons.flatMap(([, b]) => b.events).map((e) => [e.k, e.c, e.g])).toEqual([['display', 3, 'control']]);
  });

  it('the control group waits while the tab is hidden, as its popup is counted once painted: a background tab never looked at counts neither', async () => {
    const hidden = vi.spyOn(document, 'hidden', 'get').mockReturnValue(true);
    const t = await ready([campaign(3, { control: 100 })]);
    await t.fire(3);
    expect(t.beacons).toEqual([]);
    // The group is the visitor's at once, with a claim of the first display and no display yet, as
    // for a popup not painted yet: another tab firing it meanwhile draws no other group.
    expect(t.ctx.history[3]).toMatchObject({ g: 'control', d: 0, l: expect.any(Number) });
    expect(t.ctx.history[3]!.l).toBeGreaterThan(0);
    expect(t.engine.debug()[0]).toMatchObject({ status: 'eligible', reason: 'waiting: tab hidden' });
    hidden.mockReturnValue(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(t.beacons.flatMap(([, b]) => b.events).map((e) => [e.k, e.c, e.g])).toEqual([['display', 3, 'control']]);
    expect(t.ctx.history[3]).toMatchObject({ g: 'control', d: 1 });
  });

  it('a control group waiting in a hidden tab holds its slot, as its popup (drawn, not painted yet) would: a later campaign there is refused', async () => {
    const hidden = vi.spyOn(document, 'hidden', 'get').mockReturnValue(true);
    const t = await ready([campaign(3, { control: 100, priority: 9 }), campaign(4, { priority: 1 })]);
    await t.fire(3);
    await t.fire(4);
    expect(t.shows).toEqual([]);
    expect(t.engine.debug().find((l) => l.id == 4)).toMatchObject({ status: 'skipped', reason: 'slot taken: main' });
    hidden.mockReturnValue(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(t.beacons.flatMap(([, b]) => b.events).map((e) => [e.k, e.c, e.g])).toEqual([['display', 3, 'control']]);
    expect(t.engine.debug().find((l) => l.id == 3)).toMatchObject({ status: 'skipped', reason: 'control group' });
  });

  it('a control group waiting in a hidden tab is not counted once the page view ends (its slot goes with it)', async () => {
    const hidden = vi.spyOn(document, 'hidden', 'get').mockReturnValue(true);
    const t = await ready([campaign(3, { control: 100 })]);
    await t.fire(3);
    t.engine.pageview();
    hidden.mockReturnValue(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(t.beacons).toEqual([]);
  });

  it('a before-popup-display listener vetoes the control group\'s count as it vetoes the popup (asked with variant control)', async () => {
    const t = await ready([campaign(1, { control: 100 }), campaign(2)], { vetoIds: [1] });
    await t.fire(1, 2);
    expect(t.beacons).toEqual([]);
    expect(t.ctx.history[1]).toBeUndefined();
    expect(t.emitted.filter(([n]) => n == 'before-popup-display').map(([, d]) => d.variant)).toEqual(['control', undefined]);
    // The slot stays free for the next campaign, as for a vetoed popup.
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'skipped', reason: 'vetoed by a listener' });
  });

  it('a held campaign is decided again when it fires again: closed in another tab meanwhile, it stays away', async () => {
    const modal = { open: true };
    const t = await ready([campaign(1)], { modal });
    await t.fire(1);
    t.ctx.history[1] = { d: 1, c: 1, v: 0, k: 0, l: Math.floor(NOW / 1000), p: 1 };
    modal.open = false;
    await new Promise((r) => setTimeout(r, 600));
    expect(t.shows).toEqual([]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'skipped', reason: 'stopped after a close' });
  });

  it('a modal that opens while the chunks load holds the popup too (a consent dialog, another install\'s popup); an embed still shows', async () => {
    const modal = { open: false };
    let open!: () => void;
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'embed', selector: '#x' } })], { modal, uiGate: new Promise<void>((r) => (open = r)) });
    await t.fire(1, 2);
    // Decided and on its way: no modal yet.
    expect(t.names()).toEqual(['before-popup-display', 'before-popup-display']);
    modal.open = true;
    open();
    await t.tick();
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'eligible', reason: 'waiting: a modal is open' });
    expect(t.logs.filter((l) => l.includes('not shown'))).toEqual([]);
    await shownOnceClosed(t, modal);
  });

  it('campaigns held by a modal are fired again together, so the highest priority wins once it closes', async () => {
    const modal = { open: true };
    const t = await ready([campaign(1, { priority: 10 }), campaign(2, { priority: 1, trigger: { type: 'scroll', percent: 10 } })], { modal });
    await t.fire(1);
    await new Promise((r) => setTimeout(r, 200));
    await t.fire(2);
    // Closed between two checks: with a timer each, 2's (due 200 ms after 1's) came first and won.
    await new Promise((r) => setTimeout(r, 850));
    modal.open = false;
    await new Promise((r) => setTimeout(r, 700));
    expect(t.shows.map((s) => s.campaign.id)).toEqual([1]);
    expect(t.engine.debug().find((l) => l.id == 2)).toMatchObject({ status: 'skipped', reason: 'slot taken: main' });
  });

  it('a page view drops what an open modal held: its moment belonged to the page left', async () => {
    const modal = { open: true };
    const t = await ready([campaign(1, { layout: { type: 'bar', position: 'top' } })], { modal });
    await t.fire(1);
    t.engine.pageview();
    modal.open = false;
    await new Promise((r) => setTimeout(r, 1200));
    expect(t.shows).toEqual([]);
  });

  it('an embed whose element is not drawn yet waits for it, unclaimed and unasked, its slot free; it shows once the element is there', async () => {
    const missing = new Set(['#x']);
    const t = await ready([campaign(1, { layout: { type: 'embed', selector: '#x' } }), campaign(2, { layout: { type: 'embed', selector: '#y' } })], { missing });
    await t.fire(1, 2);
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'eligible', reason: 'waiting for #x' });
    // Neither a claim of a first display nor a question to the listeners before it can show.
    expect(t.ctx.history[1]).toBeUndefined();
    expect(t.emitted.filter(([n, d]) => n == 'before-popup-display' && (d.popup as { id: number }).id == 1)).toEqual([]);
    await new Promise((r) => setTimeout(r, 600));
    expect(t.shows).toHaveLength(1);
    // The route draws it (a single-page app after loading the route's data).
    missing.delete('#x');
    await new Promise((r) => setTimeout(r, 600));
    expect(t.shows.map((s) => s.campaign.id)).toEqual([2, 1]);
    expect(t.engine.debug().find((l) => l.id == 1)).toMatchObject({ status: 'shown' });
  });

  it('a page view ends the wait for an embed\'s element; an element that goes while the chunks load makes the embed wait again', async () => {
    const missing = new Set(['#x']);
    const t = await ready([campaign(1, { layout: { type: 'embed', selector: '#x' } })], { missing });
    await t.fire(1);
    t.engine.pageview();
    missing.delete('#x');
    await new Promise((r) => setTimeout(r, 1200));
    expect(t.shows).toEqual([]);
    let open!: () => void;
    const u = await ready([campaign(1, { layout: { type: 'embed', selector: '#x' } })], { missing, uiGate: new Promise<void>((r) => (open = r)) });
    await u.fire(1);
    missing.add('#x');
    open();
    await u.tick();
    expect(u.shows).toEqual([]);
    // Its claim goes with it, as for a popup held by a modal.
    expect(u.ctx.history[1]).toMatchObject({ d: 0, l: 0 });
    expect(u.engine.debug()[0]).toMatchObject({ status: 'eligible', reason: 'waiting for #x' });
    missing.delete('#x');
    await new Promise((r) => setTimeout(r, 600));
    expect(u.shows.map((s) => s.campaign.id)).toEqual([1]);
  });

  it('SPA page view: removes embeds, keeps popups and bars', async () => {
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'bar', position: 'top' } }), campaign(3, { layout: { type: 'embed', selector: '#x' } })]);
    await t.fire(1, 2, 3);
    t.engine.pageview();
    expect(t.destroyed).toEqual([3]);
  });

  it('A/B: shows the variant content; the group is stored when the campaign shows, not when it is drawn', async () => {
    const t = await ready([campaign(1, { variants: [{ id: 'A', weight: 1 }, { id: 'B', weight: 1, content: content('B!') }] })], { random: 0.9 });
    // eligible, drawn, not shown: nothing in the visitor's record, so a goal now credits no group
    expect(t.ctx.history[1]).toBeUndefined();
    await t.fire(1);
    expect(t.shows[0].content).toEqual(content('B!'));
    t.host().displayed(t.shows[0].campaign);
    expect(t.ctx.history[1]).toMatchObject({ g: 'B', d: 1 });
    expect(t.tracked).toEqual([['display', 1, 'B']]);
  });

  it('a claim whose display is removed before it paints (an SPA page view while the chunk loads) is dropped: the new page may show it', async () => {
    let open!: () => void;
    const embed = campaign(1, { layout: { type: 'embed', selector: '#x' }, frequency: { repeat: { every: 'session' } } });
    const t = await ready([embed], { uiGate: new Promise<void>((r) => (open = r)) });
    await t.fire(1);
    expect(t.ctx.history[1]).toMatchObject({ d: 0, l: Math.floor(Date.now() / 1e3) });
    t.engine.pageview();
    open();
    await t.tick();
    expect(t.ctx.history[1]).toMatchObject({ d: 0, l: 0 });
    expect(t.engine.debug()).toMatchObject([{ id: 1, status: 'eligible' }]);
  });

  it('A/B: the group is stored once the display is committed, before the chunk has loaded or painted', async () => {
    let open!: () => void;
    const t = await ready([campaign(1, { variants: [{ id: 'A', weight: 1 }, { id: 'B', weight: 1 }] })], { random: 0.9, uiGate: new Promise<void>((r) => (open = r)) });
    await t.fire(1);
    expect(t.shows).toEqual([]);
    // Claimed, not displayed yet: the claim's time, no display (another tab leaves it meanwhile).
    expect(t.ctx.history[1]).toMatchObject({ g: 'B', d: 0, l: Math.floor(Date.now() / 1e3) });
    open();
    await t.tick();
    t.host().displayed(t.shows[0].campaign);
    expect(t.ctx.history[1]).toMatchObject({ g: 'B', d: 1 });
    expect(t.engine.debug()[0]).toMatchObject({ status: 'shown', reason: 'group B' });
  });

  it('a trigger decides on the records as they are now: what another tab stored meanwhile wins', async () => {
    const variants = [{ id: 'A', weight: 1, content: content('A!') }, { id: 'B', weight: 1, content: content('B!') }];
    const t = await ready([campaign(1, { variants, frequency: { repeat: { every: 'page' } } }), campaign(2)], { random: 0.9 });
    // Meanwhile another tab drew A for campaign 1 and showed campaign 2 (once per session).
    t.deps.reload = vi.fn(() => {
      t.ctx.history[1] = { d: 0, c: 0, v: 0, k: 0, l: 0, p: 0, g: 'A' };
      t.ctx.history[2] = { d: 1, c: 0, v: 0, k: 0, l: NOW / 1000, p: 1 };
    });
    await t.fire(1, 2);
    expect(t.deps.reload).toHaveBeenCalledTimes(1);
    // 1 shows A's content; 2 stays away: it was shown this session, elsewhere
    expect(t.shows.map((r) => [r.campaign.id, r.content.label])).toEqual([[1, 'A!']]);
  });

  it('A/B: a campaign that stopped testing drops the old group at its next display', async () => {
    const t = await ready([campaign(1, { frequency: { repeat: { every: 'page' } } })]);
    t.ctx.history[1] = { d: 1, c: 0, v: 0, k: 0, l: 0, p: 0, g: 'A' };
    await t.fire(1);
    t.host().displayed(t.shows[0].campaign);
    expect(t.ctx.history[1].g).toBeUndefined();
    expect(t.tracked).toEqual([['display', 1, undefined]]);
  });

  it('control group: counted as a display once, history updated, never rendered, chunk not loaded', async () => {
    const t = await ready([campaign(1, { control: 50 })], { random: 0.1 });
    expect(t.uiLoads()).toBe(0);
    await t.fire(1);
    expect(t.shows).toEqual([]);
    expect(t.uiLoads()).toBe(0);
    expect(t.tracked).toEqual([]);
    expect(t.beacons).toEqual([['https://popups.test/events', { site: 'site1', events: [{ k: 'display', c: 1, g: 'control', t: expect.any(Number) }] }]]);
    expect(t.ctx.history[1]).toMatchObject({ d: 1, l: NOW / 1000, p: 1, g: 'control' });
    expect(t.names()).toEqual(['before-popup-display']);
    await t.fire(1);
    expect(t.beacons).toHaveLength(1);
    expect(t.engine.debug()[0]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('control') });
    // frequency (once per session) holds it back on the next page too
    t.ctx.totalPageviews = 2;
    t.engine.pageview();
    expect(t.engine.debug()[0]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('already shown') });
  });

  it('a control winner holds its slot against lower priorities, like the popup it stands for', async () => {
    const t = await ready([campaign(1, { control: 100, priority: 9 }), campaign(2)]);
    await t.fire(1, 2);
    expect(t.shows).toEqual([]);
  });

  it('a control winner holds its slot for the rest of the page view, also against campaigns that fire later', async () => {
    const t = await ready([campaign(1, { control: 100 }), campaign(2, { trigger: { type: 'scroll', percent: 50 } }), campaign(3, { layout: { type: 'bar', position: 'top' }, trigger: { type: 'event', name: 'go' } })]);
    await t.fire(1);
    await t.fire(2, 3);
    // The treatment would have had popup 1 on screen: 2 is refused here as there; a bar is another slot.
    expect(t.shows.map((s) => s.campaign.id)).toEqual([3]);
    expect(t.engine.debug().find((l) => l.id == 2)).toMatchObject({ status: 'skipped', reason: 'slot taken: main' });
    // A new page view frees it (nothing is on screen to close).
    t.ctx.totalPageviews = 2;
    t.engine.pageview();
    await t.fire(2);
    expect(t.shows.map((s) => s.campaign.id)).toEqual([3, 2]);
  });

  it('a failed chunk load is logged and the campaign may try again', async () => {
    const t = await ready([campaign(1)], { uiFails: true });
    await t.fire(1);
    expect(t.shows).toEqual([]);
    expect(t.logs).toContain('C1: not shown');
    expect(t.logs).toContain('chunk');
    await t.fire(1);
    expect(t.names().filter((n) => n == 'before-popup-display')).toHaveLength(2);
  });
});

describe('engine: the UI host', () => {
  async function shown(o?: Parameters<typeof setup>[1]) {
    const t = await ready([campaign(7, { name: 'Welcome', variants: [{ id: 'A', weight: 1 }] })], o);
    await t.fire(7);
    return { t, host: t.host(), c: t.shows[0].campaign };
  }
  const popup = { id: 7, name: 'Welcome' };

  it('closed: history, analytics, after-popup-close', async () => {
    const { t, host, c } = await shown();
    host.displayed(c);
    host.closed(c);
    expect(t.ctx.history[7]).toMatchObject({ d: 1, c: 1 });
    expect(t.tracked).toEqual([
      ['display', 7, 'A'],
      ['close', 7, 'A'],
    ]);
    expect(t.emitted.at(-1)).toEqual(['after-popup-close', { popup, variant: 'A' }]);
  });

  it('clicked: before/after-tracked-click around the recording', async () => {
    const { t, host, c } = await shown();
    host.clicked(c, '/sale');
    expect(t.names().slice(-2)).toEqual(['before-tracked-click', 'after-tracked-click']);
    expect(t.emitted.at(-1)![1]).toEqual({ popup, variant: 'A', href: '/sale' });
    expect(t.ctx.history[7].k).toBe(1);
    expect(t.tracked).toEqual([['click', 7, 'A']]);
  });

  it('submit: builds the sign-up, records the conversion, tells the listeners', async () => {
    const { t, host, c } = await shown();
    const fields = { email: 'ann@example.com', first_name: 'Ann' };
    const r = await host.submit(c, fields, 'I agree', '');
    expect(r).toEqual({ ok: true, queued: false });
    const p = t.submitted[0];
    expect(p).toEqual({ id: p.id, site: 'site1', wisepop_id: 7, email: 'ann@example.com', fields: { first_name: 'Ann' }, consent: 'I agree', hp: '', variant: 'A' });
    // The time in base 36, then the nanoid: one site's ids sort by time (the server's index grows at its end).
    expect(p.id).toMatch(/^[0-9a-z]{8}[\w-]{21}$/);
    expect(Math.abs(parseInt(p.id.slice(0, 8), 36) - Date.now())).toBeLessThan(60_000);
    expect(t.ctx.history[7].v).toBe(1);
    expect(t.ctx.signedUp).toBe(true);
    expect(t.tracked).toEqual([['signup', 7, 'A']]);
    expect(t.emitted.slice(-2)).toEqual([
      ['before-form-submit', { popup, variant: 'A', fields }],
      ['after-form-submit', { popup, variant: 'A', fields, ok: true, queued: false }],
    ]);
  });

  it('submit queued (network down) still counts as stored', async () => {
    const { t, host, c } = await shown();
    t.setSubmitResult({ ok: true, queued: true });
    await expect(host.submit(c, { email: 'a@b.co' }, undefined, '')).resolves.toEqual({ ok: true, queued: true });
    expect(t.submitted[0]).not.toHaveProperty('consent');
    expect(t.ctx.signedUp).toBe(true);
    expect(t.emitted.at(-1)![1]).toMatchObject({ ok: true, queued: true });
  });

  it('submit refused (4xx): no conversion, after-form-submit told the error', async () => {
    const { t, host, c } = await shown();
    t.setSubmitResult({ ok: false, error: 'email: not a valid address' });
    // The refusal names its field, for the form to show it there (f682402).
    await expect(host.submit(c, { email: 'x' }, undefined, '')).resolves.toEqual({ ok: false, error: 'email: not a valid address', field: 'email' });
    expect(t.ctx.history[7]?.v ?? 0).toBe(0);
    expect(t.ctx.signedUp).toBe(false);
    expect(t.tracked).toEqual([]);
    expect(t.emitted.at(-1)).toEqual(['after-form-submit', { popup, variant: 'A', fields: { email: 'x' }, ok: false, error: 'email: not a valid address' }]);
  });

  it('a before-form-submit listener cancels the sign-up', async () => {
    const { t, host, c } = await shown({ veto: ['before-form-submit'] });
    await expect(host.submit(c, { email: 'a@b.co' }, undefined, '')).resolves.toEqual({ ok: false, error: 'cancelled' });
    expect(t.submitted).toEqual([]);
    expect(t.names()).not.toContain('after-form-submit');
  });

  it('a honeypot hit is sent (the server drops it) but is no conversion', async () => {
    const { t, host, c } = await shown();
    await host.submit(c, { email: 'bot@spam.co' }, undefined, 'http://spam');
    expect(t.submitted[0].hp).toBe('http://spam');
    expect(t.ctx.signedUp).toBe(false);
    expect(t.tracked).toEqual([]);
  });

  it('noshow: sets the opt-out, removes what is shown, disarms, and nothing shows again', async () => {
    const t = await ready([campaign(1), campaign(2, { layout: { type: 'bar', position: 'bottom' } })]);
    await t.fire(1, 2);
    t.host(0).noshow();
    expect(t.deps.noshow).toHaveBeenCalled();
    expect(t.destroyed.sort()).toEqual([1, 2]);
    expect(t.armed.dispose).toHaveBeenCalled();
    t.engine.pageview();
    expect(t.armedWith.slice(1).flat()).toEqual([]);
    expect(t.engine.debug()[0].reason).toContain("don't show");
  });

  it('hands the chunk the context with the country and the nonce', async () => {
    const { host } = await shown();
    expect(host.context().country).toBe('FR');
  });
});

describe('engine: goals', () => {
  const seen = (l: number): CampaignHistory => ({ d: 1, c: 0, v: 0, k: 0, l, p: 1 });
  const S = NOW / 1000;

  it('credits every campaign shown in the last 30 days, in one beacon, with name, revenue and the A/B group', async () => {
    const t = await ready([campaign(1)]);
    t.deps.visitorId = () => 'v1';
    // 7: shown 29 days ago; 8: just over 30 days ago; 9: assigned a group but never shown; 10: shown now, variant B;
    // 11: claimed by a tab a moment ago (group and time, no display), never painted
    Object.assign(t.ctx.history, {
      7: seen(S - 29 * 86400),
      8: seen(S - 30 * 86400 - 1),
      9: { ...seen(0), g: 'A' },
      10: { ...seen(S), g: 'B' },
      11: { ...seen(S - 5), d: 0, g: 'A' },
    });
    t.engine.goal('purchase', 49.9);
    expect(t.beacons).toEqual([
      [
        'https://popups.test/events',
        {
          site: 'site1',
          visitor: 'v1',
          events: [
            { k: 'goal', c: 7, n: 'purchase', r: 49.9, t: NOW },
            { k: 'goal', c: 10, n: 'purchase', r: 49.9, t: NOW, g: 'B' },
          ],
        },
      ],
    ]);
  });

  it('a goal without revenue carries no r; zero revenue is kept', async () => {
    const t = await ready([campaign(1)]);
    t.ctx.history[3] = seen(S - 60);
    t.engine.goal('newsletter');
    t.engine.goal('free-trial', 0);
    expect(t.beacons.map(([, b]) => b.events[0])).toEqual([
      { k: 'goal', c: 3, n: 'newsletter', t: NOW },
      { k: 'goal', c: 3, n: 'free-trial', r: 0, t: NOW },
    ]);
  });

  it('the control group is credited too: it is the baseline the variants are measured against', async () => {
    const t = await ready([campaign(1, { control: 100 })]);
    await t.fire(1);
    t.engine.goal('purchase', 10);
    expect(t.beacons[1][1].events).toEqual([{ k: 'goal', c: 1, n: 'purchase', r: 10, t: NOW, g: 'control' }]);
  });

  it('where storage is blocked (reading localStorage throws), a page view logs no engine error', async () => {
    const t = await ready([campaign(1, { trigger: { type: 'event', name: 'never' } })]);
    const own = Object.getOwnPropertyDescriptor(window, 'localStorage');
    Object.defineProperty(window, 'localStorage', {
      get: () => {
        throw new DOMException('The document is sandboxed and lacks the allow-same-origin flag.', 'SecurityError');
      },
      configurable: true,
    });
    try {
      t.engine.pageview();
    } finally {
      if (own) Object.defineProperty(window, 'localStorage', own);
      else delete (window as { localStorage?: Storage }).localStorage;
    }
    expect(t.logs.filter((l) => l.includes('error'))).toEqual([]);
    // The page view was evaluated all the same.
    expect(t.armedWith).toHaveLength(2);
  });

  it('a key the page put on Object.prototype is no campaign: the goal goes to the ones shown', async () => {
    const t = await ready([campaign(1)]);
    t.ctx.history[3] = seen(S - 60);
    const P = Object.prototype as Record<string, unknown>;
    // A polluted key whose value has no `l` to read (null), and one that looks like a shown campaign.
    P.gone = null;
    P.fake = seen(S - 60);
    try {
      t.engine.goal('purchase', 5);
    } finally {
      delete P.gone;
      delete P.fake;
    }
    expect(t.beacons.map(([, b]) => b.events)).toEqual([[{ k: 'goal', c: 3, n: 'purchase', r: 5, t: NOW }]]);
  });

  it('sends nothing when no campaign was shown', async () => {
    const t = await ready([campaign(1)]);
    t.ctx.history[4] = seen(0);
    t.engine.goal('purchase', 5);
    expect(t.beacons).toEqual([]);
    expect(t.logs).toContain('goal');
  });
});
