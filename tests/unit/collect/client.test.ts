// The core's collection client: UiHosts over one outbox and one tracker, sign-ups on the wire
// with the engine's ids, and the flush a page view asks for.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { client } from '../../../src/sdk/collect/client';
import type { CollectKit } from '../../../src/sdk/collect/contract';
import type { Campaign } from '../../../src/shared/campaign';
import type { CampaignHistory, VisitorContext } from '../../../src/sdk/context/types';
import type { EngineDeps } from '../../../src/sdk/engine/types';
import { OUTBOX_KEY } from '../../../src/sdk/collect/contract';
import type { SignupPayload } from '../../../src/shared/signup';
import { fakeNet } from './fake-net';
import { stringify } from '../../../src/sdk/json';

const c = { id: 7, name: 'Welcome' } as Campaign;

function setup() {
  const f = fakeNet();
  const history: Record<number, CampaignHistory> = {};
  const emitted: string[] = [];
  const recorded: Array<[number, string | undefined]> = [];
  let n = 0;
  const deps = {
    site: 's1',
    endpoint: 'https://popups.test',
    history: {
      update: (id: number, change: (h: CampaignHistory) => void) => change((history[id] ||= { d: 0, c: 0, v: 0, k: 0, l: 0, p: 0 })),
      markSignedUp: vi.fn(),
    },
    noshow: vi.fn(),
    visitorId: () => 'v1',
    emit: (name: string) => (emitted.push(name), true),
    log: () => {},
    nonce: 'n1',
  } as unknown as EngineDeps;
  const kit: CollectKit = {
    deps,
    ctx: () => ({ country: 'FR' }) as VisitorContext,
    record: (campaign, group) => void recorded.push([campaign.id, group]),
    id: () => 'id-' + String(++n).padStart(8, '0'),
    serialize: stringify,
  };
  return { ...f, deps, kit, history, emitted, recorded, client: client(kit, f.net) };
}

/** The first sign-up's id: the time in base 36 (shared/signup.ts signupId), then the core's id. */
const ID1 = expect.stringMatching(/^[0-9a-z]{8}id-00000001$/);

beforeEach(() => localStorage.clear());
afterEach(() => vi.restoreAllMocks());

describe('collection client', () => {
  it('a host records, tracks and sends a sign-up with the core id', async () => {
    const t = setup();
    const closed = vi.fn();
    const host = t.client.host('B', closed);
    expect(host.context().country).toBe('FR');
    expect(host.nonce).toBe('n1');
    host.displayed(c);
    expect(t.recorded).toEqual([[7, 'B']]);
    await expect(host.submit(c, { email: 'ann@example.com', city: 'Lyon' }, undefined, '')).resolves.toEqual({ ok: true, queued: false });
    expect(t.sent[0]).toMatchObject({ url: 'https://popups.test/collect', body: { id: ID1, site: 's1', wisepop_id: 7, email: 'ann@example.com', fields: { city: 'Lyon' }, variant: 'B' } });
    expect(t.history[7].v).toBe(1);
    expect(t.deps.history.markSignedUp).toHaveBeenCalled();
    host.closed(c);
    expect(closed).toHaveBeenCalled();
    expect(t.history[7].c).toBe(1);
    host.noshow();
    expect(t.deps.noshow).toHaveBeenCalled();
    await t.advance(1000);
    expect(t.sent[1]).toMatchObject({ url: 'https://popups.test/events', body: { site: 's1', visitor: 'v1' } });
    expect((t.sent[1].body as { events: Array<{ k: string; g: string }> }).events.map((e) => [e.k, e.g])).toEqual([
      ['display', 'B'],
      ['signup', 'B'],
      ['close', 'B'],
    ]);
    expect(t.emitted).toEqual(['after-popup-display', 'before-form-submit', 'after-form-submit', 'after-popup-close']);
  });

  it('a close before the display was counted (closed the instant it painted) counts the display first, once', async () => {
    const t = setup();
    const host = t.client.host('B', vi.fn());
    host.closed(c);
    // The UI chunk's own count comes later, if at all: it no longer adds one.
    host.displayed(c);
    expect(t.recorded).toEqual([[7, 'B']]);
    expect(t.history[7].c).toBe(1);
    await t.advance(1000);
    expect((t.sent[0].body as { events: Array<{ k: string }> }).events.map((e) => e.k)).toEqual(['display', 'close']);
    expect(t.emitted).toEqual(['after-popup-display', 'after-popup-close']);
  });

  it('a tracked click counts unless a before-tracked-click listener returns false', async () => {
    const t = setup();
    const host = t.client.host(undefined, () => {});
    host.clicked(c, 'https://shop.test/sale');
    expect(t.history[7].k).toBe(1);
    let veto = true;
    t.deps.emit = (name) => (t.emitted.push(name), !(veto && name == 'before-tracked-click'));
    host.clicked(c, 'https://shop.test/sale');
    expect(t.history[7].k).toBe(1);
    veto = false;
    host.clicked(c, 'https://shop.test/sale');
    expect(t.history[7].k).toBe(2);
    await t.advance(1000);
    expect((t.sent[0].body as { events: Array<{ k: string }> }).events.map((e) => e.k)).toEqual(['click', 'click']);
    expect(t.emitted).toEqual(['before-tracked-click', 'after-tracked-click', 'before-tracked-click', 'before-tracked-click', 'after-tracked-click']);
  });

  it.each([
    ['email: not a valid address', 'email'],
    ['fields.age: contains control characters', 'age'],
    ['fields.a.b: at most 1000 characters', 'a.b'],
    ['fields: at most 50 fields', undefined],
    ['consent: must be a string of at most 1000 characters', undefined],
  ])('a 422 %j names the field the form shows it under: %s', async (error, field) => {
    const t = setup();
    t.answers.push({ status: 422, body: { error } });
    const r = await t.client.host(undefined, () => {}).submit(c, { email: 'ann@example.com', age: '3' }, undefined, '');
    expect(r).toEqual(field ? { ok: false, error, field } : { ok: false, error });
    expect(localStorage.getItem(OUTBOX_KEY)).toBeNull();
  });

  it('a 403 (origin not allowed) is dropped at once with a debug line, and the form shows its error', async () => {
    const t = setup();
    const logs: unknown[][] = [];
    t.deps.log = (...a: unknown[]) => void logs.push(a);
    const seen: unknown[] = [];
    t.deps.emit = (name: string, detail?: unknown) => (name == 'after-form-submit' && seen.push(detail), true);
    // The client is made after the log is replaced, as the engine makes it.
    const host = client(t.kit, t.net).host(undefined, () => {});
    t.answers.push({ status: 403, body: { error: 'origin: not allowed for this site' } });
    await expect(host.submit(c, { email: 'ann@example.com' }, undefined, '')).resolves.toEqual({ ok: false, error: 'origin: not allowed for this site' });
    expect(localStorage.getItem(OUTBOX_KEY)).toBeNull();
    expect(logs).toContainEqual(['outbox: refused, dropped', { id: ID1, error: 'origin: not allowed for this site' }]);
    expect(seen).toMatchObject([{ ok: false, error: 'origin: not allowed for this site' }]);
    // Never retried: not on a timer, not when the browser comes back online.
    t.fire('online');
    await t.advance(600_000);
    expect(t.sent.filter((s) => s.url.endsWith('/collect'))).toHaveLength(1);
    expect(t.history[7]?.v ?? 0).toBe(0);
  });

  it('a before-form-submit listener may set a number or a boolean (sent as text) or null and undefined (left out): the sign-up is sent', async () => {
    const t = setup();
    const seen: unknown[] = [];
    t.deps.emit = (name: string, detail?: unknown) => {
      const d = detail as { fields: Record<string, unknown> };
      if (name == 'before-form-submit') Object.assign(d.fields, { score: 42, vip: true, city: null, plan: undefined, note: 'a\u0001b' });
      if (name == 'after-form-submit') seen.push(detail);
      return true;
    };
    const r = await t.client.host(undefined, () => {}).submit(c, { email: 'ann@example.com', city: 'Lyon' }, undefined, '');
    expect(r).toEqual({ ok: true, queued: false });
    // A number's replace() threw before: the form showed its error, the sign-up was lost.
    expect(t.sent[0].body).toMatchObject({ email: 'ann@example.com', fields: { score: '42', vip: 'true', note: 'ab' } });
    expect(Object.keys((t.sent[0].body as SignupPayload).fields!)).toEqual(['score', 'vip', 'note']);
    expect(seen).toMatchObject([{ ok: true }]);
  });

  it('a before-form-submit listener that replaces detail.fields with a new object sends that object', async () => {
    const t = setup();
    t.deps.emit = (name: string, detail?: unknown) => {
      const d = detail as { fields: Record<string, string> };
      if (name == 'before-form-submit') d.fields = { ...d.fields, email: 'ann@example.org', source: 'crm' };
      return true;
    };
    await t.client.host(undefined, () => {}).submit(c, { email: 'ann@example.com', city: 'Lyon' }, undefined, '');
    // The object handed to the listener was sent as it was: the new one was ignored.
    expect(t.sent[0].body).toMatchObject({ email: 'ann@example.org', fields: { city: 'Lyon', source: 'crm' } });
  });

  it('flush sends what an earlier page left in localStorage', async () => {
    const t = setup();
    const p: SignupPayload = { id: 'left-0000001', site: 's1', wisepop_id: 7, email: 'a@b.co', fields: {} };
    localStorage.setItem(OUTBOX_KEY, JSON.stringify({ v: 1, items: [{ p, n: 1, t: 0 }] }));
    t.client.flush();
    await t.settle();
    expect(t.sent.map((s) => s.body)).toEqual([p]);
    expect(localStorage.getItem(OUTBOX_KEY)).toBeNull();
  });

  it('keeps to memory where reading localStorage throws', async () => {
    const real = Object.getOwnPropertyDescriptor(window, 'localStorage')!;
    Object.defineProperty(window, 'localStorage', {
      configurable: true,
      get() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    try {
      const t = setup();
      t.answers.push('network');
      await expect(t.client.host(undefined, () => {}).submit(c, { email: 'a@b.co' }, undefined, '')).resolves.toEqual({ ok: true, queued: true });
      t.fire('online');
      await t.settle();
      const ids = t.sent.map((s) => (s.body as SignupPayload).id);
      expect(ids).toEqual([ID1, ids[0]]);
    } finally {
      Object.defineProperty(window, 'localStorage', real);
    }
  });
});
