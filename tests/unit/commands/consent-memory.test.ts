// @vitest-environment-options {"url": "http://www.shop.test/"}
// The consent choice remembered in the wisepops record, where other copies of that record exist
// (a parent domain's, another storage's) and across tabs that never reload.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Cookies from 'js-cookie';
import { install } from '../../../src/sdk/commands/install';
import { createPoplet } from '../../../src/sdk/commands/create';
import type { Engine, EngineDeps } from '../../../src/sdk/engine/types';
import { script, stub, w } from '../../helpers/snippet-stub';

let deps: EngineDeps;
const fakeEngine = (d: EngineDeps): Engine => ((deps = d), { pageview() {}, event() {}, refresh() {}, debug: () => [], goal() {} });

/** A page load: the snippet's stub with `queue` in it, then the script. */
function page(...queue: unknown[][]) {
  delete w.wisepops;
  document.head.innerHTML = '';
  script();
  const wp = stub();
  for (const c of queue) wp(...c);
  install(window, fakeEngine);
}

type Jar = { getCookiesSync(url: string): { key: string; expires: unknown }[] };
/** Whether the cookie `name` outlives the browser session, as jsdom's jar keeps it. */
const persistent = (name: string) =>
  (globalThis as unknown as { jsdom: { cookieJar: Jar } }).jsdom.cookieJar
    .getCookiesSync(location.href)
    .filter((c) => c.key == name)
    .map((c) => c.expires != 'Infinity');

beforeEach(() => {
  for (const name of Object.keys(Cookies.get())) for (const domain of [undefined, 'shop.test', 'www.shop.test']) Cookies.remove(name, { path: '/', domain });
  localStorage.clear();
  sessionStorage.clear();
});
afterEach(() => vi.restoreAllMocks());

describe('read where the configured storage keeps it, other copies notwithstanding', () => {
  it('localStorage mode: a grant holds next to a foreign wisepops cookie on the parent domain (the real Wisepops on a sibling host)', () => {
    document.cookie = 'wisepops=%7B%22foreign%22%3A1%7D; domain=shop.test; path=/';
    const o = { storage: 'localStorage', defaultConsent: 'denied' };
    page(['options', o], ['consent', 'granted']);
    expect(localStorage.getItem('wisepops')).toMatch(/ \[1~2~/);
    page(['options', o]);
    expect(deps.visitorId()).toBeTruthy();
    expect(localStorage.getItem('wisepops')).toMatch(/ \[1~2~/);
  });

  it('localStorage mode: a denial holds next to a Poplet-format wisepops cookie with a grant on the parent domain', () => {
    // Left by cookie mode with cookieDomain shop.test, or by another Poplet install on a sibling host.
    document.cookie = 'wisepops=[1~2~[]]; domain=shop.test; path=/';
    const o = { storage: 'localStorage' };
    page(['options', o]);
    w.wisepops!('consent', 'denied');
    expect(deps.visitorId()).toBeUndefined();
    page(['options', o]);
    expect(deps.visitorId()).toBeUndefined();
    expect(localStorage.getItem('wisepops')).toBeNull();
  });
});

describe('a tab that never reloads (a single-page app)', () => {
  const src = new URL('https://popups.example.com/poplet.js?site=abc');
  const tab = () => {
    const box: { d?: EngineDeps } = {};
    const [run, start] = createPoplet(window, src, [], (d) => ((box.d = d), fakeEngine(d)));
    start();
    return { run, deps: () => box.d! };
  };

  it("takes another tab's denial when it next writes the record: session-only records, no analytics id", () => {
    const a = tab();
    const b = tab();
    expect(a.deps().visitorId()).toBeTruthy();
    b.run('consent', 'denied');
    // Tab a's next SPA page view.
    history.pushState(null, '', '/next');
    a.run('pageview');
    a.deps().history.update(5, (h) => void h.d++);
    expect(Cookies.get('wisepops')).toMatch(/^\[1~4~/);
    expect(persistent('wisepops')).toEqual([false]);
    expect(persistent('wisepops_visits')).toEqual([false]);
    expect(a.deps().visitorId()).toBeUndefined();
    expect(Cookies.get('wisepops_visitor')).toBeUndefined();
  });

  it("takes another tab's grant when it next writes the record, though its own default is denied", () => {
    const denied = () => {
      const box: { d?: EngineDeps } = {};
      const [run, start] = createPoplet(window, src, [['options', { defaultConsent: 'denied' }]], (d) => ((box.d = d), fakeEngine(d)));
      start();
      return { run, deps: () => box.d! };
    };
    const a = denied();
    const b = denied();
    b.run('consent', 'granted');
    a.deps().history.update(5, (h) => void h.d++);
    expect(Cookies.get('wisepops')).toMatch(/^\[1~2~/);
    expect(persistent('wisepops')).toEqual([true]);
    expect(a.deps().visitorId()).toBeTruthy();
  });
});
