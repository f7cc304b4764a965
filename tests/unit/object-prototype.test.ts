// @vitest-environment-options {"url": "http://a.www.shop.test/"}
// A page that puts enumerable keys on Object.prototype (a legacy `Object.prototype.clone =
// function…`, or prototype pollution): for…in loops meet them. Triggers, goals and the cookie
// records must work as on any page. The keys are put there only around the code under test.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { armTriggers } from '../../src/sdk/triggers';
import { cookies } from '../../src/sdk/storage/backend';
import { createStore, R } from '../../src/sdk/storage/store';
import { client } from '../../src/sdk/collect/client';
import type { CollectKit } from '../../src/sdk/collect/contract';
import type { Campaign } from '../../src/shared/campaign';
import type { EngineDeps } from '../../src/sdk/engine/types';
import { fakeNet } from './collect/fake-net';
import { stringify } from '../../src/sdk/json';

const POLLUTION: Record<string, unknown> = { clone: function clone() {}, count: 3, expires: null, domain: 'evil.example' };
const P = Object.prototype as Record<string, unknown>;

/**
 * Runs `f` with `keys` (all of POLLUTION by default) on Object.prototype, enumerable as a plain
 * assignment makes them.
 */
function polluted<T>(f: () => T, keys = Object.keys(POLLUTION)): T {
  for (const k of keys) P[k] = POLLUTION[k];
  try {
    return f();
  } finally {
    for (const k of keys) delete P[k];
  }
}

afterEach(() => {
  document.cookie.split('; ').forEach((c) => {
    for (const domain of ['', '; domain=shop.test', '; domain=www.shop.test', '; domain=a.www.shop.test']) document.cookie = c.split('=')[0] + '=; max-age=0; path=/' + domain;
  });
});

describe('enumerable keys on Object.prototype', () => {
  it('triggers fire, and their listeners go once every campaign they serve has fired (a click listener when disposed: a click may come again)', () => {
    const fire = vi.fn();
    const log = vi.fn();
    const env = { win: window, doc: document, now: Date.now, isMobile: false, activity: { get: () => undefined, set: () => {} }, session: 1, log, page: { since: 0 } };
    const remove = vi.spyOn(window, 'removeEventListener');
    const a = armTriggers([{ id: 1, trigger: { type: 'click', selector: 'p' } }, { id: 2, trigger: { type: 'exit' } }], env, fire);
    document.body.innerHTML = '<p>x</p>';
    polluted(() => {
      document.querySelector('p')!.click();
      document.dispatchEvent(new MouseEvent('mouseout', { clientY: 0, bubbles: true }));
      a.dispose();
    });
    expect(fire.mock.calls).toEqual([[1], [2]]);
    expect(log).not.toHaveBeenCalled();
    expect(remove.mock.calls.map((c) => c[0])).toEqual(['mouseout', 'click']);
    remove.mockRestore();
  });

  it('cookie records are written, read and deleted, with no attribute of the page\'s', () => {
    const written: string[] = [];
    const jar = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
    const spy = vi.spyOn(document, 'cookie', 'set').mockImplementation((v: string) => void (written.push(v), jar.set!.call(document, v)));
    const back = cookies(() => ['shop.test'], () => {
      throw Error('shop.test is this page\'s parent domain: never refused');
    });
    polluted(() => {
      back.set('wisepops_x', 'v1', 30);
      back.set('wisepops_y', 'v2');
    });
    expect(back.get('wisepops_x')).toBe('v1');
    expect(back.get('wisepops_y')).toBe('v2');
    expect(written.map((c) => c.replace(/expires=[^;]+/, 'expires=…'))).toEqual([
      'wisepops_x=v1; path=/; expires=…; domain=shop.test; sameSite=Lax',
      'wisepops_y=v2; path=/; domain=shop.test; sameSite=Lax',
    ]);
    polluted(() => back.del('wisepops_x'));
    expect(back.get('wisepops_x')).toBeUndefined();
    spy.mockRestore();
  });

  it('the store writes and reads its records through them', () => {
    const logs: string[] = [];
    polluted(() => {
      const store = createStore((m) => void logs.push(m));
      store.configure({ storage: 'cookie', cookieExpiryDays: 30, cookieDomain: '' }, true);
      expect(store.write(R.VISITS, [5, 1, [5]])).toBe(true);
      // Not `domain`: jsdom's own cookie jar would read it for a host-only cookie.
    }, ['clone', 'count', 'expires']);
    const store = createStore((m) => void logs.push(m));
    store.configure({ storage: 'cookie', cookieExpiryDays: 30, cookieDomain: '' }, true);
    expect(store.read(R.VISITS, [0, 0, [0]])).toEqual([5, 1, [5]]);
    expect(logs).toEqual([]);
  });

  it('a sign-up goes out with its own fields, cleaned, and nothing of the page\'s', async () => {
    const f = fakeNet();
    const deps = { site: 's1', endpoint: 'https://popups.test', history: { update: () => {}, markSignedUp: () => {} }, emit: () => true, log: () => {}, visitorId: () => undefined } as unknown as EngineDeps;
    const kit: CollectKit = { deps, ctx: () => ({}) as never, record: () => {}, id: () => 'id-00000001', serialize: stringify };
    const host = client(kit, f.net).host(undefined, () => {});
    const sent = polluted(() => host.submit({ id: 7, name: 'W' } as Campaign, { email: 'ann@example.com', city: 'Ly\u0001on' }, undefined, ''));
    await expect(sent).resolves.toEqual({ ok: true, queued: false });
    expect(f.sent[0].body).toMatchObject({ email: 'ann@example.com', fields: { city: 'Lyon' } });
    expect(Object.keys((f.sent[0].body as { fields: object }).fields)).toEqual(['city']);
  });
});
